package results

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/assign-dev/assign/assign"
)

// Experiment is what the analysis needs of an experiment's configuration.
type Experiment struct {
	ID      string         `json:"experiment_id"`
	Groups  []assign.Group `json:"groups"`
	Status  assign.Status  `json:"status"`
	Winner  string         `json:"winner,omitempty"`
	Version int64          `json:"version"`
	// MaxSampleSize is the cap, the experiment's planned sample.
	MaxSampleSize int64 `json:"maximum_sample_size"`
	// StoppedAt is when a stopped experiment stopped: the first version of
	// its last run of stopped versions in experiment_changes, or the
	// configuration's updated_at without that history. Nil otherwise.
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	// ProbabilitiesChanged is true when the group probabilities of some
	// earlier version differ from the current ones: the sample-ratio check
	// against the current ones alone would not be meaningful.
	ProbabilitiesChanged bool `json:"probabilities_changed"`
	// Allocations are the group probabilities over time, oldest first: a new
	// entry at every version whose probabilities differ from the previous
	// one. Empty when the warehouse has no experiment_changes history.
	Allocations []Allocation `json:"allocations,omitempty"`
}

// Allocation is the group probabilities in force from a time on.
type Allocation struct {
	From    time.Time      `json:"from"` // the change's time; the first one is the creation
	Version int64          `json:"version"`
	Groups  []assign.Group `json:"groups"`
}

// Experiment reads the latest configuration of an experiment from the
// warehouse experiments table (and its experiment_changes history). Returns
// ENOTFOUND when the exporter has not written it.
func (w *Warehouse) Experiment(ctx context.Context, id string) (*Experiment, error) {
	e := &Experiment{ID: id}
	var groups string
	var updated time.Time
	found, err := w.queryRow(ctx, `SELECT CAST(groups AS TEXT), status, winner, version, maximum_sample_size, updated_at FROM experiments WHERE experiment_id = $1`,
		[]any{id}, &groups, &e.Status, &e.Winner, &e.Version, &e.MaxSampleSize, &updated)
	if err != nil {
		return nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse: read experiment %q: %v", id, err)
	} else if !found {
		return nil, assign.Errorf(assign.ENOTFOUND, "experiment %q is not in the warehouse experiments table", id)
	}
	if e.Groups, err = parseGroups(groups); err != nil {
		return nil, err
	}
	if e.Status == assign.StatusStopped {
		stopped := updated.UTC()
		var at sql.NullTime
		if ok, err := w.queryRow(ctx, `SELECT min(changed_at) FROM experiment_changes WHERE experiment_id = $1 AND status = 'stopped'
AND version > (SELECT coalesce(max(version), 0) FROM experiment_changes WHERE experiment_id = $1 AND status <> 'stopped')`,
			[]any{id}, &at); err == nil && ok && at.Valid {
			stopped = at.Time.UTC()
		}
		e.StoppedAt = &stopped
	}

	rows, err := w.db.QueryContext(ctx, `SELECT version, changed_at, CAST(groups AS TEXT) FROM experiment_changes
WHERE experiment_id = $1 ORDER BY version`, id)
	if err != nil {
		// The history is a refinement: a warehouse without it still has results.
		return e, nil
	}
	defer rows.Close()
	for rows.Next() {
		var a Allocation
		var s string
		if err := rows.Scan(&a.Version, &a.From, &s); err != nil {
			return nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse: read the history of experiment %q: %v", id, err)
		}
		if a.Groups, err = parseGroups(s); err != nil {
			return nil, err
		}
		a.From = a.From.UTC() // drivers may give the process's zone
		if !sameProbabilities(a.Groups, e.Groups) {
			e.ProbabilitiesChanged = true
		}
		if n := len(e.Allocations); n == 0 || !sameProbabilities(a.Groups, e.Allocations[n-1].Groups) {
			e.Allocations = append(e.Allocations, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse: read the history of experiment %q: %v", id, err)
	}
	return e, nil
}

func parseGroups(s string) ([]assign.Group, error) {
	var groups []assign.Group
	if err := json.Unmarshal([]byte(s), &groups); err != nil {
		return nil, fmt.Errorf("warehouse: groups column %q: %w", s, err)
	}
	return groups, nil
}

func sameProbabilities(a, b []assign.Group) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Probability != b[i].Probability {
			return false
		}
	}
	return true
}
