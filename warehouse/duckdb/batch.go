package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/assign-dev/assign/warehouse"
)

// WriteBatch writes one batch in one transaction. Enrollments go through
// DuckDB's Appender into the INSERT OR IGNORE of a table appender, the bulk
// path that avoids one statement per row.
func (s *Sink) WriteBatch(ctx context.Context, enrollments []warehouse.EnrollmentRow, experiments []warehouse.ExperimentRow) error {
	enrollments, experiments = warehouse.Dedup(enrollments, experiments)
	if len(enrollments) == 0 && len(experiments) == 0 {
		return nil
	}
	return classify(s.with(ctx, func(conn *sql.Conn) error {
		return tx(ctx, conn, func() error {
			if err := writeExperiments(ctx, conn, experiments); err != nil {
				return err
			}
			return writeEnrollments(conn, enrollments)
		})
	}))
}

func writeEnrollments(conn *sql.Conn, rows []warehouse.EnrollmentRow) error {
	if len(rows) == 0 {
		return nil
	}
	return conn.Raw(func(dc any) error {
		// The appender collects rows as a temporary table appended_data
		// (columns col1..col6, typed like the target's) and runs the query
		// on each flush.
		// The first member's row wins; an override's row only replaces an
		// override's, and is replaced by a member's (see EnrollmentRow).
		a, err := duckdb.NewTableAppender(dc.(driver.Conn),
			`INSERT INTO enrollments (experiment_id, user_id, group_name, enrolled_at, override, platform)
SELECT col1, col2, col3, col4, col5, col6 FROM appended_data
ON CONFLICT (experiment_id, user_id) DO UPDATE SET
	group_name = EXCLUDED.group_name, enrolled_at = EXCLUDED.enrolled_at, override = EXCLUDED.override,
	platform = EXCLUDED.platform
WHERE enrollments.override`,
			"", "", "enrollments", []string{"experiment_id", "user_id", "group_name", "enrolled_at", "override", "platform"})
		if err != nil {
			return fmt.Errorf("appender: %w", err)
		}
		for i := range rows {
			r := &rows[i]
			if err := a.AppendRow(r.ExperimentID, r.UserID, r.Group, r.EnrolledAt, r.Override, r.Platform); err != nil {
				a.Close()
				return fmt.Errorf("append: %w", err)
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("append: %w", err)
		}
		return nil
	})
}

func writeExperiments(ctx context.Context, conn *sql.Conn, rows []warehouse.ExperimentRow) error {
	for _, r := range rows {
		groups, elig, err := jsonColumns(r)
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `INSERT OR IGNORE INTO experiment_changes (experiment_id, version,
	maximum_sample_size, sampling_probability, groups, eligibility, layer, status, winner, changed_by, changed_at, salt, start_at, end_at, overrides)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ExperimentID, r.Version, r.MaxSampleSize, r.SamplingProbability, groups, elig,
			r.Layer, string(r.Status), r.Winner, r.UpdatedBy, r.UpdatedAt, r.Salt, nullTime(r.StartAt), nullTime(r.EndAt), r.OverridesJSON()); err != nil {
			return fmt.Errorf("experiment_changes: %w", err)
		}
	}
	for _, r := range warehouse.Latest(rows) {
		groups, elig, err := jsonColumns(r)
		if err != nil {
			return err
		}
		// Keep the highest version: events of one experiment may arrive out
		// of order across batches (a claimed entry, a retry).
		if _, err := conn.ExecContext(ctx, `INSERT INTO experiments (experiment_id, maximum_sample_size,
	sampling_probability, groups, eligibility, layer, status, winner, version, updated_by, created_at, updated_at, salt, start_at, end_at, overrides)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (experiment_id) DO UPDATE SET
	maximum_sample_size = EXCLUDED.maximum_sample_size,
	sampling_probability = EXCLUDED.sampling_probability,
	groups = EXCLUDED.groups, eligibility = EXCLUDED.eligibility,
	layer = EXCLUDED.layer, status = EXCLUDED.status, winner = EXCLUDED.winner,
	version = EXCLUDED.version, updated_by = EXCLUDED.updated_by,
	created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
	salt = EXCLUDED.salt, start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at, overrides = EXCLUDED.overrides
WHERE experiments.version < EXCLUDED.version`,
			r.ExperimentID, r.MaxSampleSize, r.SamplingProbability, groups, elig,
			r.Layer, string(r.Status), r.Winner, r.Version, r.UpdatedBy, r.CreatedAt, r.UpdatedAt, r.Salt, nullTime(r.StartAt), nullTime(r.EndAt), r.OverridesJSON()); err != nil {
			return fmt.Errorf("experiments: %w", err)
		}
	}
	return nil
}

// jsonColumns encodes the groups and eligibility rules, never as null.
func jsonColumns(r warehouse.ExperimentRow) (groups, elig string, err error) {
	g, err := json.Marshal(r.Groups)
	if err != nil {
		return "", "", err
	}
	e, err := json.Marshal(r.Eligibility)
	if err != nil {
		return "", "", err
	}
	if string(g) == "null" {
		g = []byte("[]")
	}
	if string(e) == "null" {
		e = []byte("[]")
	}
	return string(g), string(e), nil
}

// nullTime passes a schedule bound: NULL for none.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
