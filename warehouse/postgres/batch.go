package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/assign-dev/assign/warehouse"
)

// stageTable is a per-connection temporary table, emptied at each commit.
// Creating it once per connection rather than per batch keeps the catalog
// quiet.
const stageTable = "assign_stage_enrollments"

// WriteBatch writes one batch in one transaction.
func (s *Sink) WriteBatch(ctx context.Context, enrollments []warehouse.EnrollmentRow, experiments []warehouse.ExperimentRow) error {
	enrollments, experiments = warehouse.Dedup(enrollments, experiments)
	if len(enrollments) == 0 && len(experiments) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if len(experiments) > 0 {
			if err := s.writeExperiments(ctx, tx, experiments); err != nil {
				return err
			}
		}
		if len(enrollments) > 0 {
			return s.writeEnrollments(ctx, tx, enrollments)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres warehouse: %w", classify(err))
	}
	return nil
}

func (s *Sink) writeEnrollments(ctx context.Context, tx pgx.Tx, rows []warehouse.EnrollmentRow) error {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS `+stageTable+` (
	experiment_id text, user_id text, group_name text, enrolled_at timestamptz
) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	// A connection's staging table from before the override column gets it.
	if _, err := tx.Exec(ctx, `ALTER TABLE `+stageTable+` ADD COLUMN IF NOT EXISTS override boolean NOT NULL DEFAULT false,
	ADD COLUMN IF NOT EXISTS platform text NOT NULL DEFAULT ''`); err != nil {
		return err
	}
	cols := []string{"experiment_id", "user_id", "group_name", "enrolled_at", "override", "platform"}
	src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := &rows[i]
		return []any{r.ExperimentID, r.UserID, r.Group, r.EnrolledAt, r.Override, r.Platform}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stageTable}, cols, src); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	// The first member's row wins; an override's row only replaces an
	// override's, and is replaced by a member's (see EnrollmentRow).
	_, err := tx.Exec(ctx, `INSERT INTO `+s.table("enrollments")+` AS e (experiment_id, user_id, group_name, enrolled_at, override, platform)
SELECT experiment_id, user_id, group_name, enrolled_at, override, platform FROM `+stageTable+`
ON CONFLICT (experiment_id, user_id) DO UPDATE SET
	group_name = EXCLUDED.group_name, enrolled_at = EXCLUDED.enrolled_at, override = EXCLUDED.override,
	platform = EXCLUDED.platform
WHERE e.override`)
	return err
}

func (s *Sink) writeExperiments(ctx context.Context, tx pgx.Tx, rows []warehouse.ExperimentRow) error {
	b := &pgx.Batch{}
	for _, r := range rows {
		groups, elig, err := jsonColumns(r)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO `+s.table("experiment_changes")+` (experiment_id, version, maximum_sample_size,
	sampling_probability, groups, eligibility, layer, status, winner, changed_by, changed_at, salt, start_at, end_at, overrides)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (experiment_id, version) DO NOTHING`,
			r.ExperimentID, r.Version, r.MaxSampleSize, r.SamplingProbability, groups, elig,
			r.Layer, string(r.Status), r.Winner, r.UpdatedBy, r.UpdatedAt, r.Salt, r.StartAt, r.EndAt, r.OverridesJSON())
	}
	for _, r := range warehouse.Latest(rows) {
		groups, elig, err := jsonColumns(r)
		if err != nil {
			return err
		}
		// Events of one experiment may arrive out of order across batches
		// (a claimed entry, a retry): keep the highest version.
		b.Queue(`INSERT INTO `+s.table("experiments")+` AS e (experiment_id, maximum_sample_size,
	sampling_probability, groups, eligibility, layer, status, winner, version, updated_by, created_at, updated_at, salt, start_at, end_at, overrides)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (experiment_id) DO UPDATE SET
	maximum_sample_size = EXCLUDED.maximum_sample_size,
	sampling_probability = EXCLUDED.sampling_probability,
	groups = EXCLUDED.groups, eligibility = EXCLUDED.eligibility,
	layer = EXCLUDED.layer, status = EXCLUDED.status, winner = EXCLUDED.winner,
	version = EXCLUDED.version, updated_by = EXCLUDED.updated_by,
	created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
	salt = EXCLUDED.salt, start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at, overrides = EXCLUDED.overrides
WHERE e.version < EXCLUDED.version`,
			r.ExperimentID, r.MaxSampleSize, r.SamplingProbability, groups, elig,
			r.Layer, string(r.Status), r.Winner, r.Version, r.UpdatedBy, r.CreatedAt, r.UpdatedAt, r.Salt, r.StartAt, r.EndAt, r.OverridesJSON())
	}
	return tx.SendBatch(ctx, b).Close()
}

// jsonColumns encodes the groups and eligibility rules, never as null.
func jsonColumns(r warehouse.ExperimentRow) (groups, elig string, err error) {
	g, err := json.Marshal(nonNil(r.Groups))
	if err != nil {
		return "", "", err
	}
	e, err := json.Marshal(nonNil(r.Eligibility))
	if err != nil {
		return "", "", err
	}
	return string(g), string(e), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
