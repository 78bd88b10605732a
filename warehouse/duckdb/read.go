package duckdb

import (
	"context"
	"database/sql"
	"time"

	"github.com/assign-dev/assign/warehouse"
)

// CountEnrollments implements warehouse.Reader.
func (s *Sink) CountEnrollments(ctx context.Context, from, to time.Time) (int64, error) {
	var n int64
	err := s.with(ctx, func(conn *sql.Conn) error {
		return conn.QueryRowContext(ctx, `SELECT count(*) FROM enrollments
WHERE enrolled_at >= ? AND enrolled_at < ? AND NOT override`, from, to).Scan(&n)
	})
	return n, err
}

// ScanEnrollments implements warehouse.Reader. The file stays open until
// the scan ends.
func (s *Sink) ScanEnrollments(ctx context.Context, from, to time.Time, fn func(warehouse.EnrollmentRow) error) error {
	return s.with(ctx, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, `SELECT experiment_id, user_id, group_name, enrolled_at, coalesce(platform, '') FROM enrollments
WHERE enrolled_at >= ? AND enrolled_at < ? AND NOT override
ORDER BY experiment_id, enrolled_at, user_id`, from, to)
		if err != nil {
			return err
		}
		return scanEnrollments(rows, fn)
	})
}

// scanEnrollments calls fn with each row of a query selecting experiment_id,
// user_id, group_name, enrolled_at, platform, and closes rows.
func scanEnrollments(rows *sql.Rows, fn func(warehouse.EnrollmentRow) error) error {
	defer rows.Close()
	var r warehouse.EnrollmentRow
	for rows.Next() {
		if err := rows.Scan(&r.ExperimentID, &r.UserID, &r.Group, &r.EnrolledAt, &r.Platform); err != nil {
			return err
		}
		r.EnrolledAt = r.EnrolledAt.UTC()
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
