package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/assign-dev/assign/warehouse"
)

var (
	_ warehouse.DeadLetterWriter = (*Sink)(nil)
	_ warehouse.DeadLetterReader = (*Sink)(nil)
)

// classify wraps err as warehouse.Refused when DuckDB refused the data: a
// constraint (a value that is not UTF-8 reaches the table as NULL, refused by
// NOT NULL), a conversion, a value out of range, invalid input. The
// appender reports these untyped ("Failed to append: NOT NULL constraint
// failed: ..."), so its message is read too. A file held by another process
// (an I/O error), a transaction conflict and the rest are transient.
func classify(err error) error {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return err
	}
	switch de.Type {
	case duckdb.ErrorTypeConstraint, duckdb.ErrorTypeConversion, duckdb.ErrorTypeOutOfRange,
		duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeDecimal:
		return warehouse.Refused(err)
	case duckdb.ErrorTypeInvalid:
		for _, m := range []string{"constraint failed", "Constraint Error", "Conversion Error",
			"Invalid Input Error", "Out of Range Error", "Invalid unicode"} {
			if strings.Contains(de.Msg, m) {
				return warehouse.Refused(err)
			}
		}
	}
	return err
}

// WriteDeadLetters implements warehouse.DeadLetterWriter: one transaction,
// a letter already present (same stream and entry) is left as it is.
func (s *Sink) WriteDeadLetters(ctx context.Context, letters []warehouse.DeadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	return s.with(ctx, func(conn *sql.Conn) error {
		return tx(ctx, conn, func() error {
			for _, l := range letters {
				if _, err := conn.ExecContext(ctx, `INSERT OR IGNORE INTO dead_letters
	(stream, entry_id, experiment_id, reason, error, fields, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					warehouse.Text(l.Stream), warehouse.Text(l.EntryID), warehouse.Text(l.ExperimentID),
					warehouse.Text(l.Reason), warehouse.Text(l.Error), warehouse.Text(l.Fields), l.SeenAt); err != nil {
					return fmt.Errorf("dead letters: %w", err)
				}
			}
			return nil
		})
	})
}

// ReadDeadLetters implements warehouse.DeadLetterReader.
func (s *Sink) ReadDeadLetters(ctx context.Context) ([]warehouse.DeadLetter, error) {
	var out []warehouse.DeadLetter
	err := s.with(ctx, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, `SELECT stream, entry_id, experiment_id, reason, error, fields, first_seen_at
FROM dead_letters ORDER BY first_seen_at, stream, entry_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l warehouse.DeadLetter
			if err := rows.Scan(&l.Stream, &l.EntryID, &l.ExperimentID, &l.Reason, &l.Error, &l.Fields, &l.SeenAt); err != nil {
				return err
			}
			l.SeenAt = l.SeenAt.UTC()
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteDeadLetters implements warehouse.DeadLetterReader.
func (s *Sink) DeleteDeadLetters(ctx context.Context, letters []warehouse.DeadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	return s.with(ctx, func(conn *sql.Conn) error {
		return tx(ctx, conn, func() error {
			for _, l := range letters {
				if _, err := conn.ExecContext(ctx, `DELETE FROM dead_letters WHERE stream = ? AND entry_id = ?`, l.Stream, l.EntryID); err != nil {
					return fmt.Errorf("dead letters: %w", err)
				}
			}
			return nil
		})
	})
}
