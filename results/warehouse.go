// Package results computes the results of an experiment from the warehouse:
// the enrollments the exporter wrote, joined with an outcome the analyst
// supplies as SQL, aggregated per group in the database, then analysed by
// package stats. It is what `assignctl results` runs.
//
// # The outcome query contract
//
// The analyst's query (Query.OutcomeSQL) returns one row per outcome event,
// with the columns:
//
//	user_id     the user, as the enrollments table has it (compared as text)
//	converted   0/1 or boolean: a binary outcome (did the user order?)
//	  or
//	value       a number: a numeric outcome (how much did the user spend?)
//	<time>      optional: when the event happened (Query.TimeColumn)
//
// Exactly one of converted and value must be present. Several rows per user
// are fine. When Query.TimeColumn is set, only the rows with
// <time> > the user's enrolled_at count (strictly after, as the seed's own
// analysis query in the README and docs/warehouse.md has it): what happened
// before the user saw the experiment says nothing about it (the seed
// requires it; set it).
//
// # Time zones
//
// Results do not depend on where they are computed: Open sets every
// session's time zone to UTC (DuckDB's default is the machine's TZ,
// PostgreSQL's the server's setting, PGTZ or the URL's), so every
// comparison is made in UTC. A TIMESTAMPTZ column is an instant and
// compares as one. A column without a zone (TIMESTAMP, DATE) holds wall
// clock values: they are read as UTC, and Result.Warnings says so. Store
// event times as TIMESTAMPTZ, or as TIMESTAMP in UTC; a TIMESTAMP in local
// time must be converted in the outcome query, e.g. PostgreSQL's
// ordered_at AT TIME ZONE 'Europe/Amsterdam' or DuckDB's
// timezone('Europe/Amsterdam', ordered_at), both of which give an instant.
//
// Per enrolled user, in SQL:
//
//   - binary: converted = 1 if any counted row has converted = 1, else 0;
//   - numeric: value = the sum of the counted rows' values (revenue per user).
//
// Enrolled users without any counted row are kept by a LEFT JOIN and count as
// not converted (binary) or as 0 (numeric): an enrolled user who never
// ordered is the most important observation of all, and leaving them out
// would compare only buyers. For a numeric outcome where 0 is not the right
// value for "no event" (a duration, a rating), filter in the query and read
// the result as "per user with an event" instead, or model it as binary.
//
// Per group, in SQL: n, conversions (binary), or n, avg and var_samp (numeric),
// which feed stats.Analyze with the configured probabilities of the
// experiment (for the sample-ratio-mismatch check), and the third central
// moment, whose skewness flags a difference the t-based intervals cannot be
// trusted on.
//
// # Windows, caps, CUPED and metrics files
//
// Query.Window counts only the events within a fixed time after each user's
// enrollment (enrolled_at < time <= enrolled_at + window), and only the
// users whose window has closed by Query.Now; the others are counted in
// Result.WindowOpenUsers. Query.CapPercentile caps each user's numeric
// value at a percentile of every analysed user's value (percentile_cont,
// groups pooled). Query.CUPED adjusts the outcome for the same outcome over
// a lookback before enrollment (stats.CUPED, from per-group moments and
// covariances computed in SQL). A MetricsFile names several such analyses;
// Warehouse.AnalyzeMetrics runs them all and adjusts the goal metrics'
// p-values together (stats.AdjustFamily).
package results

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/assign-dev/assign/assign"
)

// Dialects of the warehouses.
const (
	DialectDuckDB   = "duckdb"
	DialectPostgres = "postgres"
)

// DefaultURL is the warehouse read when none is given: the embedded DuckDB
// file the exporter writes by default.
const DefaultURL = "assign.duckdb"

// lockWait is how long Open retries a DuckDB file held by a writer: the
// exporter keeps the file only for the few milliseconds of a batch.
const lockWait = 10 * time.Second

// Warehouse reads a warehouse through database/sql.
type Warehouse struct {
	db      *sql.DB
	dialect string
}

// Open opens the warehouse named by rawURL, with the same syntax as the
// exporter's (package warehouse/sinks):
//
//	postgres://user@host:5432/db?schema=analytics   PostgreSQL (also postgresql://)
//	duckdb:///var/lib/assign/assign.duckdb          DuckDB file (also duckdb:relative/path)
//	./assign.duckdb                                 DuckDB file: any value without a scheme
//
// A DuckDB file is opened read-only, so that the analysis can never change
// the warehouse, and so that it waits (up to 10s) rather than fails while
// the exporter writes a batch. For PostgreSQL the schema goes first in the
// search_path, so the analyst's query finds the warehouse tables and the
// public ones unqualified. Returns EINVALID for an unknown scheme and
// ENOTFOUND for a DuckDB file that does not exist.
func Open(ctx context.Context, rawURL string) (*Warehouse, error) {
	if rawURL == "" {
		rawURL = DefaultURL
	}
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	case strings.HasPrefix(rawURL, "duckdb://"):
		return openDuckDB(ctx, strings.TrimPrefix(rawURL, "duckdb://"))
	case strings.HasPrefix(rawURL, "duckdb:"):
		return openDuckDB(ctx, strings.TrimPrefix(rawURL, "duckdb:"))
	case strings.Contains(rawURL, "://"):
		return nil, assign.Errorf(assign.EINVALID, "warehouse url: use postgres://... or a DuckDB file path")
	}
	return openDuckDB(ctx, rawURL)
}

// NewWarehouse wraps an open database of the given dialect, for callers that
// manage the connection themselves. Its session time zone should be UTC, as
// Open sets it (see the package doc).
func NewWarehouse(db *sql.DB, dialect string) *Warehouse {
	return &Warehouse{db: db, dialect: dialect}
}

// Dialect returns DialectDuckDB or DialectPostgres.
func (w *Warehouse) Dialect() string { return w.dialect }

// DB returns the underlying database.
func (w *Warehouse) DB() *sql.DB { return w.db }

// Close closes the database.
func (w *Warehouse) Close() error { return w.db.Close() }

func openPostgres(ctx context.Context, rawURL string) (*Warehouse, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, assign.Errorf(assign.EINVALID, "warehouse url: %v", err)
	}
	// "schema" is the exporter's parameter, not PostgreSQL's.
	q := u.Query()
	schema := q.Get("schema")
	q.Del("schema")
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, assign.Errorf(assign.EINVALID, "warehouse url: %v", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if schema != "" && schema != "public" {
		cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize() + ", public"
	}
	// Results must not depend on where they are computed: the session zone
	// is UTC whatever PGTZ, the URL or the server's configuration say, so
	// that a timestamp without a zone (and any date arithmetic of the
	// analyst's query) is read as UTC.
	for k := range cfg.RuntimeParams {
		if strings.EqualFold(k, "timezone") {
			delete(cfg.RuntimeParams, k)
		}
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	// The analysis never writes: every transaction is read-only, whatever
	// the role may do (a metric's SQL cannot turn into an INSERT).
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	// And once more after connecting, in case the URL's options (-c
	// timezone=...) come after the startup parameter.
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SET TIME ZONE 'UTC'")
		return err
	}))
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse: cannot connect to PostgreSQL at %s: %v", u.Host, err)
	}
	return &Warehouse{db: db, dialect: DialectPostgres}, nil
}

func openDuckDB(ctx context.Context, path string) (*Warehouse, error) {
	if path == "" {
		return nil, assign.Errorf(assign.EINVALID, "warehouse: empty DuckDB path")
	}
	if err := statFile(path); err != nil {
		return nil, err
	}
	// Every connection's session zone is UTC (DuckDB's default is the
	// machine's zone, TZ): see openPostgres.
	setUTC := func(e driver.ExecerContext) error {
		_, err := e.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
		return err
	}
	deadline := time.Now().Add(lockWait)
	for {
		// Opening the database takes the file's lock: retried as a whole.
		connector, err := duckdb.NewConnector(path+"?access_mode=read_only", setUTC)
		if err == nil {
			db := sql.OpenDB(connector)
			if err = db.PingContext(ctx); err == nil {
				return &Warehouse{db: db, dialect: DialectDuckDB}, nil
			}
			db.Close()
		}
		if !isLockError(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return nil, assign.Errorf(assign.EUNAVAILABLE, "warehouse: open %s: %v", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// isLockError reports whether DuckDB refused the file because another
// process holds it for writing.
func isLockError(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "lock") || strings.Contains(s, "conflicting")
}

// queryRow runs a one-row query and reports sql.ErrNoRows as found=false.
func (w *Warehouse) queryRow(ctx context.Context, query string, args []any, dest ...any) (bool, error) {
	err := w.db.QueryRowContext(ctx, query, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
