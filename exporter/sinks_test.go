package exporter_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/duckdb"
	"github.com/assign-dev/assign/warehouse/postgres"
	"github.com/assign-dev/assign/warehouse/warehousetest"
)

// pgSink opens a PostgreSQL sink in a fresh schema, dropped at the end.
// url may point at a proxy; the schema is dropped through the real server.
func pgSink(tb testing.TB, url string) (*postgres.Sink, *pgxpool.Pool) {
	tb.Helper()
	real := testenv.PostgresURL(tb)
	if url == "" {
		url = real
	}
	schema := fmt.Sprintf("t_%08x", rand.Uint32())
	s, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema})
	if err != nil {
		tb.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), real)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Close()
		pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		pool.Close()
	})
	return s, pool
}

func duckSink(tb testing.TB) *duckdb.Sink {
	tb.Helper()
	s, err := duckdb.Open(filepath.Join(tb.TempDir(), "w.duckdb"), duckdb.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// allRows reads every enrollment of a warehouse back.
func allRows(tb testing.TB, r warehouse.Reader) []warehouse.EnrollmentRow {
	tb.Helper()
	return warehousetest.Scan(tb, r, time.Unix(0, 0), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
}

// pgCount counts the enrollments table's rows in the sink's schema.
func pgCount(tb testing.TB, pool *pgxpool.Pool, s *postgres.Sink) int {
	tb.Helper()
	var n int
	err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{s.Schema(), "enrollments"}.Sanitize()).Scan(&n)
	if err != nil && !strings.Contains(err.Error(), "does not exist") {
		tb.Fatal(err)
	}
	return n
}
