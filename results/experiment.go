package results

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/assign-dev/assign/assign"
)

// Experiment is what the analysis needs of an experiment's configuration.
type Experiment struct {
	ID      string         `json:"experiment_id"`
	Groups  []assign.Group `json:"groups"`
	Status  assign.Status  `json:"status"`
	Winner  string         `json:"winner,omitempty"`
	Version int64          `json:"version"`
	// ProbabilitiesChanged is true when the group probabilities of some
	// earlier version differ from the current ones: the sample-ratio check
	// against the current ones is then not meaningful.
	ProbabilitiesChanged bool `json:"probabilities_changed"`
}

// Experiment reads the latest configuration of an experiment from the
// warehouse experiments table (and its experiment_changes history). Returns
// ENOTFOUND when the exporter has not written it.
func (w *Warehouse) Experiment(ctx context.Context, id string) (*Experiment, error) {
	e := &Experiment{ID: id}
	var groups string
	found, err := w.queryRow(ctx, `SELECT CAST(groups AS TEXT), status, winner, version FROM experiments WHERE experiment_id = $1`,
		[]any{id}, &groups, &e.Status, &e.Winner, &e.Version)
	if err != nil {
		return nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse: read experiment %q: %v", id, err)
	} else if !found {
		return nil, assign.Errorf(assign.ENOTFOUND, "experiment %q is not in the warehouse experiments table", id)
	}
	if e.Groups, err = parseGroups(groups); err != nil {
		return nil, err
	}

	rows, err := w.db.QueryContext(ctx, `SELECT CAST(groups AS TEXT) FROM experiment_changes WHERE experiment_id = $1`, id)
	if err != nil {
		// The history is a refinement: a warehouse without it still has results.
		return e, nil
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if rows.Scan(&s) != nil {
			continue
		}
		old, err := parseGroups(s)
		if err != nil {
			continue
		}
		if !sameProbabilities(old, e.Groups) {
			e.ProbabilitiesChanged = true
		}
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
