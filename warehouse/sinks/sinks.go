// Package sinks opens a warehouse sink from a URL. It is apart from package
// warehouse because it imports every concrete sink.
package sinks

import (
	"context"
	"strings"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/duckdb"
	"github.com/assign-dev/assign/warehouse/postgres"
)

// DefaultURL is the warehouse used when none is configured: an embedded
// DuckDB file in the working directory.
const DefaultURL = "./assign.duckdb"

// Open returns the warehouse named by rawURL:
//
//	postgres://user@host:5432/db?schema=analytics   PostgreSQL (also postgresql://)
//	duckdb:///var/lib/assign/assign.duckdb          DuckDB file (also duckdb:relative/path)
//	./assign.duckdb                                 DuckDB file: any value without a scheme
//
// An empty rawURL means DefaultURL. Opening does not connect: an
// unreachable warehouse shows in the first batch, which the exporter
// retries. Returns EINVALID for an unknown scheme.
func Open(ctx context.Context, rawURL string) (warehouse.Warehouse, error) {
	if rawURL == "" {
		rawURL = DefaultURL
	}
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return postgres.Open(ctx, rawURL, postgres.Options{})
	case strings.HasPrefix(rawURL, "duckdb://"):
		return duckdb.Open(strings.TrimPrefix(rawURL, "duckdb://"), duckdb.Options{})
	case strings.HasPrefix(rawURL, "duckdb:"):
		return duckdb.Open(strings.TrimPrefix(rawURL, "duckdb:"), duckdb.Options{})
	case strings.Contains(rawURL, "://"):
		return nil, assign.Errorf(assign.EINVALID, "warehouse url %q: use postgres://... or a DuckDB file path", redact(rawURL))
	default:
		return duckdb.Open(rawURL, duckdb.Options{})
	}
}

// redact drops what may be credentials from a URL before it goes in an error.
func redact(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		return u[:i] + "://…"
	}
	return u
}
