package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/warehouse"
)

var _ warehouse.Source = (*Sink)(nil)

// LatestExperiments implements warehouse.Source.
func (s *Sink) LatestExperiments(ctx context.Context, ids []string) ([]warehouse.ExperimentRow, error) {
	if ids == nil {
		ids = []string{} // NULL would match nothing
	}
	rows, err := s.pool.Query(ctx, `SELECT experiment_id, maximum_sample_size, sampling_probability,
	groups::text, eligibility::text, layer, status, winner, salt, version, updated_by, created_at, updated_at, start_at, end_at, overrides
FROM `+s.table("experiments")+`
WHERE cardinality($1::text[]) = 0 OR experiment_id = ANY($1::text[])
ORDER BY experiment_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres warehouse: %w", err)
	}
	defer rows.Close()
	var out []warehouse.ExperimentRow
	for rows.Next() {
		var r warehouse.ExperimentRow
		var groups, elig, status, overrides string
		if err := rows.Scan(&r.ExperimentID, &r.MaxSampleSize, &r.SamplingProbability, &groups, &elig,
			&r.Layer, &status, &r.Winner, &r.Salt, &r.Version, &r.UpdatedBy, &r.CreatedAt, &r.UpdatedAt, &r.StartAt, &r.EndAt, &overrides); err != nil {
			return nil, fmt.Errorf("postgres warehouse: %w", err)
		}
		if err := r.ParseOverrides(overrides); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(groups), &r.Groups); err != nil {
			return nil, fmt.Errorf("experiment %q: groups: %w", r.ExperimentID, err)
		}
		if err := json.Unmarshal([]byte(elig), &r.Eligibility); err != nil {
			return nil, fmt.Errorf("experiment %q: eligibility: %w", r.ExperimentID, err)
		}
		if len(r.Eligibility) == 0 {
			r.Eligibility = nil
		}
		r.Status = assign.Status(status)
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		r.StartAt, r.EndAt = utc(r.StartAt), utc(r.EndAt)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres warehouse: %w", err)
	}
	return out, nil
}

// ScanExperimentEnrollments implements warehouse.Source.
func (s *Sink) ScanExperimentEnrollments(ctx context.Context, experimentID string, fn func(warehouse.EnrollmentRow) error) error {
	rows, err := s.pool.Query(ctx, `SELECT experiment_id, user_id, group_name, enrolled_at, coalesce(platform, '') FROM `+s.table("enrollments")+`
WHERE experiment_id = $1 AND NOT override ORDER BY enrolled_at, user_id`, experimentID)
	if err != nil {
		return fmt.Errorf("postgres warehouse: %w", err)
	}
	return scanEnrollments(rows, fn)
}

// utc returns *t in UTC, nil for nil (a NULL schedule bound).
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
