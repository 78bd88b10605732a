package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/assign-dev/assign/warehouse"
)

var (
	_ warehouse.DeadLetterWriter = (*Sink)(nil)
	_ warehouse.DeadLetterReader = (*Sink)(nil)
)

// classify wraps err as warehouse.Refused when PostgreSQL refused the data
// rather than the connection, the load or the schema:
//
//   - class 22, data exception: a value the column cannot take
//     (22021 "invalid byte sequence for encoding UTF8", 22P05 \u0000 in jsonb,
//     22001 a value too long for a narrowed column, 22008 a time out of range);
//   - class 23, integrity constraint, but for 23502 not-null: the exporter
//     never sends a NULL, so that one says a column was added without a
//     default (the schema, for every row: retried, not dead-lettered);
//     23505 (a unique index added beside the primary key), 23514 (a CHECK),
//     23503 (a foreign key) depend on the row;
//   - 54000, program limit exceeded: an index row too large (a user id of
//     kilobytes), a jsonb value too large.
//
// Everything else (connection errors, timeouts, 40001 serialization, 40P01
// deadlock, 53 resources, 57 operator intervention, 42 a missing table or
// privilege) is transient for the exporter: retried with backoff.
func classify(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case len(pe.Code) == 5 && pe.Code[:2] == "22",
		len(pe.Code) == 5 && pe.Code[:2] == "23" && pe.Code != "23502",
		pe.Code == "54000":
		return warehouse.Refused(err)
	}
	return err
}

// WriteDeadLetters implements warehouse.DeadLetterWriter: one transaction,
// a letter already present (same stream and entry) is left as it is.
func (s *Sink) WriteDeadLetters(ctx context.Context, letters []warehouse.DeadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, l := range letters {
		b.Queue(`INSERT INTO `+s.table("dead_letters")+` (stream, entry_id, experiment_id, reason, error, fields, first_seen_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (stream, entry_id) DO NOTHING`,
			warehouse.Text(l.Stream), warehouse.Text(l.EntryID), warehouse.Text(l.ExperimentID),
			warehouse.Text(l.Reason), warehouse.Text(l.Error), warehouse.Text(l.Fields), l.SeenAt)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return fmt.Errorf("postgres warehouse: dead letters: %w", err)
	}
	return nil
}

// ReadDeadLetters implements warehouse.DeadLetterReader.
func (s *Sink) ReadDeadLetters(ctx context.Context) ([]warehouse.DeadLetter, error) {
	rows, err := s.pool.Query(ctx, `SELECT stream, entry_id, experiment_id, reason, error, fields, first_seen_at
FROM `+s.table("dead_letters")+` ORDER BY first_seen_at, stream, entry_id`)
	if err != nil {
		return nil, fmt.Errorf("postgres warehouse: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (warehouse.DeadLetter, error) {
		var l warehouse.DeadLetter
		err := r.Scan(&l.Stream, &l.EntryID, &l.ExperimentID, &l.Reason, &l.Error, &l.Fields, &l.SeenAt)
		l.SeenAt = l.SeenAt.UTC()
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres warehouse: %w", err)
	}
	return out, nil
}

// DeleteDeadLetters implements warehouse.DeadLetterReader.
func (s *Sink) DeleteDeadLetters(ctx context.Context, letters []warehouse.DeadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, l := range letters {
		b.Queue(`DELETE FROM `+s.table("dead_letters")+` WHERE stream = $1 AND entry_id = $2`, l.Stream, l.EntryID)
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() }); err != nil {
		return fmt.Errorf("postgres warehouse: dead letters: %w", err)
	}
	return nil
}
