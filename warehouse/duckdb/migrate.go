package duckdb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/assign-dev/assign/warehouse"
)

// migrations of the DuckDB warehouse. Append new steps; never edit one that
// has shipped. JSON columns are VARCHAR so that no extension is needed;
// DuckDB's JSON functions accept them.
var migrations = []warehouse.Migration{
	{Version: 1, Name: "enrollments and experiments", SQL: `
CREATE TABLE enrollments (
	experiment_id VARCHAR     NOT NULL,
	user_id       VARCHAR     NOT NULL,
	group_name    VARCHAR     NOT NULL,
	enrolled_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (experiment_id, user_id)
);
CREATE TABLE experiments (
	experiment_id        VARCHAR     PRIMARY KEY,
	maximum_sample_size  BIGINT      NOT NULL,
	sampling_probability DOUBLE      NOT NULL,
	groups               VARCHAR     NOT NULL,
	eligibility          VARCHAR     NOT NULL,
	layer                VARCHAR     NOT NULL,
	status               VARCHAR     NOT NULL,
	winner               VARCHAR     NOT NULL,
	version              BIGINT      NOT NULL,
	updated_by           VARCHAR     NOT NULL,
	created_at           TIMESTAMPTZ NOT NULL,
	updated_at           TIMESTAMPTZ NOT NULL
);
CREATE TABLE experiment_changes (
	experiment_id        VARCHAR     NOT NULL,
	version              BIGINT      NOT NULL,
	maximum_sample_size  BIGINT      NOT NULL,
	sampling_probability DOUBLE      NOT NULL,
	groups               VARCHAR     NOT NULL,
	eligibility          VARCHAR     NOT NULL,
	layer                VARCHAR     NOT NULL,
	status               VARCHAR     NOT NULL,
	winner               VARCHAR     NOT NULL,
	changed_by           VARCHAR     NOT NULL,
	changed_at           TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (experiment_id, version)
);`},
	// The salt keys an experiment's draws: a restore of Redis needs it.
	{Version: 2, Name: "experiment salt", SQL: `
ALTER TABLE experiments ADD COLUMN salt VARCHAR DEFAULT '';
ALTER TABLE experiment_changes ADD COLUMN salt VARCHAR DEFAULT '';`},
	// Stream entries the exporter could not write (see warehouse.DeadLetter).
	{Version: 3, Name: "dead letters", SQL: `
CREATE TABLE dead_letters (
	stream        VARCHAR     NOT NULL,
	entry_id      VARCHAR     NOT NULL,
	experiment_id VARCHAR     NOT NULL,
	reason        VARCHAR     NOT NULL,
	error         VARCHAR     NOT NULL,
	fields        VARCHAR     NOT NULL,
	first_seen_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (stream, entry_id)
);`},
	// An experiment's schedule (NULL: no bound).
	{Version: 4, Name: "experiment schedule", SQL: `
ALTER TABLE experiments ADD COLUMN start_at TIMESTAMPTZ;
ALTER TABLE experiments ADD COLUMN end_at TIMESTAMPTZ;
ALTER TABLE experiment_changes ADD COLUMN start_at TIMESTAMPTZ;
ALTER TABLE experiment_changes ADD COLUMN end_at TIMESTAMPTZ;`},
	// QA overrides' answers, flagged: not members (warehouse.EnrollmentRow.Override).
	{Version: 5, Name: "enrollment override flag", SQL: `
ALTER TABLE enrollments ADD COLUMN override BOOLEAN DEFAULT false;`},
	// The client's platform ('' when none was given, and in older rows).
	{Version: 6, Name: "enrollment platform", SQL: `
ALTER TABLE enrollments ADD COLUMN platform VARCHAR DEFAULT '';`},
	// An experiment's QA overrides (JSON: user id to group), for restores.
	{Version: 7, Name: "experiment overrides", SQL: `
ALTER TABLE experiments ADD COLUMN overrides VARCHAR DEFAULT '{}';
ALTER TABLE experiment_changes ADD COLUMN overrides VARCHAR DEFAULT '{}';`},
}

// Migrate applies the pending migrations, each in a transaction with its
// record in schema_migrations. The file lock makes it single-writer.
func (s *Sink) Migrate(ctx context.Context) error {
	return s.with(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       VARCHAR NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var applied int
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, m := range warehouse.Pending(migrations, applied) {
			err := tx(ctx, conn, func() error {
				if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
					return err
				}
				_, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.Version, m.Name)
				return err
			})
			if err != nil {
				return fmt.Errorf("migrate %d (%s): %w", m.Version, m.Name, err)
			}
		}
		return nil
	})
}
