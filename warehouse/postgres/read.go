package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/assign-dev/assign/warehouse"
)

// CountEnrollments implements warehouse.Reader.
func (s *Sink) CountEnrollments(ctx context.Context, from, to time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+s.table("enrollments")+`
WHERE enrolled_at >= $1 AND enrolled_at < $2 AND NOT override`, from, to).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres warehouse: %w", err)
	}
	return n, nil
}

// ScanEnrollments implements warehouse.Reader.
func (s *Sink) ScanEnrollments(ctx context.Context, from, to time.Time, fn func(warehouse.EnrollmentRow) error) error {
	rows, err := s.pool.Query(ctx, `SELECT experiment_id, user_id, group_name, enrolled_at, coalesce(platform, '') FROM `+s.table("enrollments")+`
WHERE enrolled_at >= $1 AND enrolled_at < $2 AND NOT override
ORDER BY experiment_id, enrolled_at, user_id`, from, to)
	if err != nil {
		return fmt.Errorf("postgres warehouse: %w", err)
	}
	return scanEnrollments(rows, fn)
}

// scanEnrollments calls fn with each row of a query selecting experiment_id,
// user_id, group_name, enrolled_at, platform, and closes rows.
func scanEnrollments(rows pgx.Rows, fn func(warehouse.EnrollmentRow) error) error {
	defer rows.Close()
	var r warehouse.EnrollmentRow
	for rows.Next() {
		if err := rows.Scan(&r.ExperimentID, &r.UserID, &r.Group, &r.EnrolledAt, &r.Platform); err != nil {
			return fmt.Errorf("postgres warehouse: %w", err)
		}
		r.EnrolledAt = r.EnrolledAt.UTC()
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres warehouse: %w", err)
	}
	return nil
}
