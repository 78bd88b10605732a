// Package postgres is the PostgreSQL warehouse sink, through pgx.
//
// A batch is one transaction: the enrollments are copied (COPY) into a
// temporary staging table, then inserted into enrollments with ON CONFLICT
// DO NOTHING, so a batch delivered twice leaves one row per
// (experiment_id, user_id).
package postgres

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/warehouse"
)

var _ warehouse.Warehouse = (*Sink)(nil)

// Options configure a Sink.
type Options struct {
	// Schema holds the warehouse tables. Default "public"; it is created
	// when missing. The URL parameter "schema" sets it too.
	Schema string
}

// Sink writes batches to PostgreSQL.
type Sink struct {
	pool   *pgxpool.Pool
	schema string
}

// Open returns a sink for the database at rawURL
// (postgres://user@host:port/db?schema=name). It does not connect yet, so a
// warehouse that is down at start delays the first batch rather than the
// start of the exporter.
func Open(ctx context.Context, rawURL string, opts Options) (*Sink, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, assign.Errorf(assign.EINVALID, "warehouse url: %v", err)
	}
	// "schema" is ours, not a PostgreSQL run-time parameter: take it out
	// before pgx sends the rest to the server.
	q := u.Query()
	if s := q.Get("schema"); s != "" && opts.Schema == "" {
		opts.Schema = s
	}
	q.Del("schema")
	u.RawQuery = q.Encode()
	if opts.Schema == "" {
		opts.Schema = "public"
	}

	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		return nil, assign.Errorf(assign.EINVALID, "warehouse url: %v", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres warehouse: %w", err)
	}
	return &Sink{pool: pool, schema: opts.Schema}, nil
}

// Close closes the connection pool.
func (s *Sink) Close() error {
	s.pool.Close()
	return nil
}

// Schema returns the schema holding the tables.
func (s *Sink) Schema() string { return s.schema }

// table returns the quoted, schema-qualified name of a table.
func (s *Sink) table(name string) string {
	return pgx.Identifier{s.schema, name}.Sanitize()
}
