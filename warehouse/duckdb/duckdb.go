// Package duckdb is the embedded DuckDB warehouse sink, the default when no
// warehouse URL is given.
//
// DuckDB lets one process at a time open a database file for writing, and a
// writer excludes readers in other processes. So that an analyst can query
// the file while the service runs, the sink opens the file for each batch
// and closes it right after (a few milliseconds at the batch rate). While an
// analyst holds the file open, the batch fails, the exporter retries with
// backoff, and the Redis stream keeps the events meanwhile: nothing is lost,
// the export is only delayed. Analysts should therefore open the file
// briefly (duckdb -readonly assign.duckdb -c '...'), or query the nightly
// Parquet files, or use PostgreSQL when many people query at once.
// Options.KeepOpen trades this for speed.
package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"github.com/assign-dev/assign/warehouse"
)

var _ warehouse.Warehouse = (*Sink)(nil)

// Options configure a Sink.
type Options struct {
	// KeepOpen keeps the database file open between batches: faster, but no
	// other process can open the file while the sink lives. Default false.
	KeepOpen bool
}

// Sink writes batches to a DuckDB file.
type Sink struct {
	path string
	opts Options

	// mu serializes use of the file: one DuckDB instance per file per
	// process at a time.
	mu sync.Mutex
	db *sql.DB // open only with KeepOpen
}

// Open returns a sink writing to the DuckDB file at path. The file is
// created by the first Migrate.
func Open(path string, opts Options) (*Sink, error) {
	if path == "" {
		return nil, fmt.Errorf("duckdb warehouse: empty path")
	}
	return &Sink{path: path, opts: opts}, nil
}

// Path returns the database file's path.
func (s *Sink) Path() string { return s.path }

// Close closes the file if it is kept open.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		err := s.db.Close()
		s.db = nil
		return err
	}
	return nil
}

// with runs fn on one connection to the file, opening and closing the file
// around it unless KeepOpen is set.
func (s *Sink) with(ctx context.Context, fn func(*sql.Conn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.db
	if db == nil {
		var err error
		if db, err = sql.Open("duckdb", s.path); err != nil {
			return fmt.Errorf("duckdb warehouse: open %s: %w", s.path, err)
		}
		if s.opts.KeepOpen {
			s.db = db
		} else {
			defer db.Close()
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		if s.opts.KeepOpen {
			s.db = nil
			db.Close()
		}
		return fmt.Errorf("duckdb warehouse: open %s: %w", s.path, err)
	}
	defer conn.Close()
	if err := fn(conn); err != nil {
		return fmt.Errorf("duckdb warehouse: %w", err)
	}
	return nil
}

// tx runs fn inside BEGIN/COMMIT on conn. It uses plain statements rather
// than database/sql's Tx so that the Appender, which works on the raw
// connection, writes inside the same transaction.
func tx(ctx context.Context, conn *sql.Conn, fn func() error) error {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	_, err := conn.ExecContext(ctx, "COMMIT")
	return err
}

// Query runs fn on a connection to the file, under the sink's lock, for
// reads that the Reader interface does not cover (tests, the results of
// issue 6 served by the service itself while the exporter runs in it).
func (s *Sink) Query(ctx context.Context, fn func(*sql.Conn) error) error {
	return s.with(ctx, fn)
}
