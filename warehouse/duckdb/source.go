package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/warehouse"
)

var _ warehouse.Source = (*Sink)(nil)

// LatestExperiments implements warehouse.Source.
func (s *Sink) LatestExperiments(ctx context.Context, ids []string) ([]warehouse.ExperimentRow, error) {
	var out []warehouse.ExperimentRow
	err := s.with(ctx, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, `SELECT experiment_id, maximum_sample_size, sampling_probability,
	groups, eligibility, layer, status, winner, coalesce(salt, ''), version, updated_by, created_at, updated_at, start_at, end_at,
	coalesce(overrides, '{}')
FROM experiments ORDER BY experiment_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r warehouse.ExperimentRow
			var groups, elig, status, overrides string
			if err := rows.Scan(&r.ExperimentID, &r.MaxSampleSize, &r.SamplingProbability, &groups, &elig,
				&r.Layer, &status, &r.Winner, &r.Salt, &r.Version, &r.UpdatedBy, &r.CreatedAt, &r.UpdatedAt, &r.StartAt, &r.EndAt, &overrides); err != nil {
				return err
			}
			if err := r.ParseOverrides(overrides); err != nil {
				return err
			}
			// Filtered here: a handful of ids, and no list binding to rely on.
			if len(ids) > 0 && !slices.Contains(ids, r.ExperimentID) {
				continue
			}
			if err := decodeJSONColumns(&r, groups, elig); err != nil {
				return err
			}
			r.Status = assign.Status(status)
			r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
			r.StartAt, r.EndAt = utc(r.StartAt), utc(r.EndAt)
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// ScanExperimentEnrollments implements warehouse.Source.
func (s *Sink) ScanExperimentEnrollments(ctx context.Context, experimentID string, fn func(warehouse.EnrollmentRow) error) error {
	return s.with(ctx, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, `SELECT experiment_id, user_id, group_name, enrolled_at, coalesce(platform, '') FROM enrollments
WHERE experiment_id = ? AND NOT override ORDER BY enrolled_at, user_id`, experimentID)
		if err != nil {
			return err
		}
		return scanEnrollments(rows, fn)
	})
}

// decodeJSONColumns fills the groups and eligibility rules of r.
func decodeJSONColumns(r *warehouse.ExperimentRow, groups, elig string) error {
	if err := json.Unmarshal([]byte(groups), &r.Groups); err != nil {
		return fmt.Errorf("experiment %q: groups: %w", r.ExperimentID, err)
	}
	if err := json.Unmarshal([]byte(elig), &r.Eligibility); err != nil {
		return fmt.Errorf("experiment %q: eligibility: %w", r.ExperimentID, err)
	}
	if len(r.Eligibility) == 0 {
		r.Eligibility = nil
	}
	return nil
}

// utc returns *t in UTC, nil for nil (a NULL schedule bound).
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
