package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/assign-dev/assign/warehouse"
)

// migrations of the PostgreSQL warehouse; {s} stands for the quoted schema.
// Append new steps; never edit one that has shipped.
var migrations = []warehouse.Migration{
	{Version: 1, Name: "enrollments and experiments", SQL: `
CREATE TABLE {s}.enrollments (
	experiment_id text        NOT NULL,
	user_id       text        NOT NULL,
	group_name    text        NOT NULL,
	enrolled_at   timestamptz NOT NULL,
	exported_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (experiment_id, user_id)
);
CREATE INDEX enrollments_enrolled_at ON {s}.enrollments (enrolled_at);
CREATE TABLE {s}.experiments (
	experiment_id        text             PRIMARY KEY,
	maximum_sample_size  bigint           NOT NULL,
	sampling_probability double precision NOT NULL,
	groups               jsonb            NOT NULL,
	eligibility          jsonb            NOT NULL,
	layer                text             NOT NULL,
	status               text             NOT NULL,
	winner               text             NOT NULL,
	version              bigint           NOT NULL,
	updated_by           text             NOT NULL,
	created_at           timestamptz      NOT NULL,
	updated_at           timestamptz      NOT NULL
);
CREATE TABLE {s}.experiment_changes (
	experiment_id        text             NOT NULL,
	version              bigint           NOT NULL,
	maximum_sample_size  bigint           NOT NULL,
	sampling_probability double precision NOT NULL,
	groups               jsonb            NOT NULL,
	eligibility          jsonb            NOT NULL,
	layer                text             NOT NULL,
	status               text             NOT NULL,
	winner               text             NOT NULL,
	changed_by           text             NOT NULL,
	changed_at           timestamptz      NOT NULL,
	PRIMARY KEY (experiment_id, version)
);`},
	// The salt keys an experiment's draws: a restore of Redis needs it.
	{Version: 2, Name: "experiment salt", SQL: `
ALTER TABLE {s}.experiments ADD COLUMN salt text NOT NULL DEFAULT '';
ALTER TABLE {s}.experiment_changes ADD COLUMN salt text NOT NULL DEFAULT '';`},
	// Stream entries the exporter could not write (see warehouse.DeadLetter).
	{Version: 3, Name: "dead letters", SQL: `
CREATE TABLE {s}.dead_letters (
	stream        text        NOT NULL,
	entry_id      text        NOT NULL,
	experiment_id text        NOT NULL,
	reason        text        NOT NULL,
	error         text        NOT NULL,
	fields        text        NOT NULL,
	first_seen_at timestamptz NOT NULL,
	PRIMARY KEY (stream, entry_id)
);`},
	// An experiment's schedule (NULL: no bound).
	{Version: 4, Name: "experiment schedule", SQL: `
ALTER TABLE {s}.experiments ADD COLUMN start_at timestamptz, ADD COLUMN end_at timestamptz;
ALTER TABLE {s}.experiment_changes ADD COLUMN start_at timestamptz, ADD COLUMN end_at timestamptz;`},
	// QA overrides' answers, flagged: not members (warehouse.EnrollmentRow.Override).
	{Version: 5, Name: "enrollment override flag", SQL: `
ALTER TABLE {s}.enrollments ADD COLUMN override boolean NOT NULL DEFAULT false;`},
	// The client's platform ('' when none was given, and in older rows).
	{Version: 6, Name: "enrollment platform", SQL: `
ALTER TABLE {s}.enrollments ADD COLUMN platform text NOT NULL DEFAULT '';`},
	// An experiment's QA overrides (JSON: user id to group), for restores.
	{Version: 7, Name: "experiment overrides", SQL: `
ALTER TABLE {s}.experiments ADD COLUMN overrides text NOT NULL DEFAULT '{}';
ALTER TABLE {s}.experiment_changes ADD COLUMN overrides text NOT NULL DEFAULT '{}';`},
}

// Migrate applies the pending migrations in one transaction, under an
// advisory lock so that exporters starting together do not race.
func (s *Sink) Migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "assign-warehouse:"+s.schema); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		schema := pgx.Identifier{s.schema}.Sanitize()
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema+`;
CREATE TABLE IF NOT EXISTS `+s.table("schema_migrations")+` (
	version    integer     PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var applied int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+s.table("schema_migrations")).Scan(&applied); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, m := range warehouse.Pending(migrations, applied) {
			if _, err := tx.Exec(ctx, strings.ReplaceAll(m.SQL, "{s}", schema)); err != nil {
				return fmt.Errorf("migrate %d (%s): %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+s.table("schema_migrations")+` (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migrate %d: %w", m.Version, err)
			}
		}
		return nil
	})
}
