package warehouse

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/assign-dev/assign/assign"
)

// EnrollmentRow is one row of the enrollments table: a user recorded in an
// experiment's group at EnrolledAt (Redis time, millisecond precision, UTC).
type EnrollmentRow struct {
	ExperimentID string
	UserID       string
	Group        string
	EnrolledAt   time.Time
	// Override marks the answer of a QA override (the column override): not
	// a member, left out of the analysis, the nightly export and restores.
	// A member's row replaces it (the override was removed and the user
	// enrolled); it never replaces a member's.
	Override bool
	// Platform is the client's platform (web, ios, android, other), "" when
	// none was given and in rows exported before it was recorded.
	Platform string
}

// ExperimentRow is one version of an experiment's configuration: a row of
// the experiments table (latest version only) and of the experiment_changes
// history (every version).
type ExperimentRow struct {
	ExperimentID        string
	MaxSampleSize       int64
	SamplingProbability float64
	Groups              []assign.Group
	Eligibility         []assign.Rule
	Layer               string
	Status              assign.Status
	Winner              string
	// Salt keys the experiment's draws (hex, assign.Experiment.Salt): a
	// restore of Redis from the warehouse needs it to keep users' answers.
	// Empty in rows exported before it was recorded.
	Salt string
	// StartAt and EndAt are the schedule (nil: no bound; NULL in the tables).
	StartAt *time.Time
	EndAt   *time.Time
	// Overrides are the QA overrides (user id to group), so that a restore
	// of Redis keeps them (the column overrides, JSON; '{}' in rows exported
	// before it was recorded).
	Overrides map[string]string
	Version   int64
	UpdatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewExperimentRow returns the row of an experiment's configuration, as
// changed by who at time at. at is used when the experiment carries no
// update time of its own.
func NewExperimentRow(e *assign.Experiment, who string, at time.Time) ExperimentRow {
	row := ExperimentRow{
		ExperimentID:        e.ID,
		MaxSampleSize:       e.MaxSampleSize,
		SamplingProbability: e.SamplingProbability,
		Groups:              e.Groups,
		Eligibility:         e.Eligibility,
		Layer:               e.Layer,
		Status:              e.Status,
		Winner:              e.Winner,
		Salt:                e.Salt,
		StartAt:             utcTime(e.StartAt),
		EndAt:               utcTime(e.EndAt),
		Overrides:           e.Overrides,
		Version:             e.Version,
		UpdatedBy:           who,
		CreatedAt:           e.CreatedAt.UTC(),
		UpdatedAt:           e.UpdatedAt.UTC(),
	}
	if row.UpdatedBy == "" {
		row.UpdatedBy = e.UpdatedBy
	}
	if e.UpdatedAt.IsZero() {
		row.UpdatedAt = at.UTC()
	}
	if e.CreatedAt.IsZero() {
		row.CreatedAt = row.UpdatedAt
	}
	return row
}

// Dedup returns enrollments without repeated (experiment, user) pairs,
// keeping the first member's row, else the first override's, and the experiment rows without repeated (experiment,
// version) pairs. A batch read at least once may repeat an event; databases
// may refuse a statement that touches one key twice, so sinks call this.
// The inputs are not modified, so a caller may retry with them.
func Dedup(enrollments []EnrollmentRow, experiments []ExperimentRow) ([]EnrollmentRow, []ExperimentRow) {
	type ekey struct{ exp, user string }
	seen := make(map[ekey]int, len(enrollments)) // index in out
	out := make([]EnrollmentRow, 0, len(enrollments))
	for _, r := range enrollments {
		k := ekey{r.ExperimentID, r.UserID}
		if i, ok := seen[k]; ok {
			if out[i].Override && !r.Override {
				out[i] = r // a member's row wins over an override's
			}
			continue
		}
		seen[k] = len(out)
		out = append(out, r)
	}
	type vkey struct {
		exp string
		ver int64
	}
	vseen := make(map[vkey]struct{}, len(experiments))
	xout := make([]ExperimentRow, 0, len(experiments))
	for _, r := range experiments {
		k := vkey{r.ExperimentID, r.Version}
		if _, ok := vseen[k]; ok {
			continue
		}
		vseen[k] = struct{}{}
		xout = append(xout, r)
	}
	return out, xout
}

// Latest returns, for each experiment in rows, its row of highest version:
// the one the experiments table keeps.
func Latest(rows []ExperimentRow) []ExperimentRow {
	idx := make(map[string]int, len(rows))
	var out []ExperimentRow
	for _, r := range rows {
		if i, ok := idx[r.ExperimentID]; ok {
			if r.Version > out[i].Version {
				out[i] = r
			}
			continue
		}
		idx[r.ExperimentID] = len(out)
		out = append(out, r)
	}
	return out
}

// Experiment returns the experiment configuration of a row, without Stats:
// what a restore of Redis recreates.
func (r ExperimentRow) Experiment() *assign.Experiment {
	return &assign.Experiment{
		ID:                  r.ExperimentID,
		MaxSampleSize:       r.MaxSampleSize,
		SamplingProbability: r.SamplingProbability,
		Groups:              append([]assign.Group(nil), r.Groups...),
		Eligibility:         append([]assign.Rule(nil), r.Eligibility...),
		Layer:               r.Layer,
		Status:              r.Status,
		Winner:              r.Winner,
		Salt:                r.Salt,
		StartAt:             utcTime(r.StartAt),
		EndAt:               utcTime(r.EndAt),
		Overrides:           maps.Clone(r.Overrides),
		Version:             r.Version,
		CreatedAt:           r.CreatedAt.UTC(),
		UpdatedAt:           r.UpdatedAt.UTC(),
		UpdatedBy:           r.UpdatedBy,
	}
}

// utcTime returns a copy of *t in UTC, nil for nil.
func utcTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// OverridesJSON is the overrides column of r: a JSON object, "{}" for none.
func (r ExperimentRow) OverridesJSON() string {
	if len(r.Overrides) == 0 {
		return "{}"
	}
	b, err := json.Marshal(r.Overrides)
	if err != nil { // a map of strings always marshals
		return "{}"
	}
	return string(b)
}

// ParseOverrides reads an overrides column into r ("" or "{}": none).
func (r *ExperimentRow) ParseOverrides(column string) error {
	r.Overrides = nil
	if column == "" || column == "{}" {
		return nil
	}
	if err := json.Unmarshal([]byte(column), &r.Overrides); err != nil {
		return fmt.Errorf("experiment %q: overrides: %w", r.ExperimentID, err)
	}
	return nil
}
