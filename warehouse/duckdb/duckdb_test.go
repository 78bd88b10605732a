package duckdb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/assign-dev/assign/warehouse/duckdb"
	"github.com/assign-dev/assign/warehouse/warehousetest"
)

func TestSink_Contract(t *testing.T) {
	for _, keep := range []bool{false, true} {
		name := "PerBatch"
		if keep {
			name = "KeepOpen"
		}
		t.Run(name, func(t *testing.T) {
			warehousetest.Run(t, func(t *testing.T) warehousetest.Subject {
				s := MustOpenSink(t, duckdb.Options{KeepOpen: keep})
				return warehousetest.Subject{Warehouse: s, Inspector: inspector{s}}
			})
		})
	}
}

// TestSink_FileFreeBetweenBatches proves the point of opening per batch:
// another handle can open the file between two batches.
func TestSink_FileFreeBetweenBatches(t *testing.T) {
	s := MustOpenSink(t, duckdb.Options{})
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteBatch(ctx, warehousetest.Enrollments("e", 10), nil); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", s.Path()+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM enrollments`).Scan(&n); err != nil {
		t.Fatal(err)
	} else if n != 10 {
		t.Fatalf("analyst sees %d rows, want 10", n)
	}
	db.Close()
	if err := s.WriteBatch(ctx, warehousetest.Enrollments("e", 20), nil); err != nil {
		t.Fatalf("write after the analyst closed the file: %v", err)
	}
}

// MustOpenSink opens a sink on a fresh file in the test's temporary directory.
func MustOpenSink(tb testing.TB, opts duckdb.Options) *duckdb.Sink {
	tb.Helper()
	s, err := duckdb.Open(filepath.Join(tb.TempDir(), "w.duckdb"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// inspector reads the tables through the sink's own Query, which works in
// both modes (a second instance of a kept-open file would conflict).
type inspector struct{ s *duckdb.Sink }

func (i inspector) Experiment(ctx context.Context, id string) (v int64, by string, max int64, err error) {
	err = i.s.Query(ctx, func(db *sql.Conn) error {
		return db.QueryRowContext(ctx, `SELECT version, updated_by, maximum_sample_size FROM experiments
WHERE experiment_id = ?`, id).Scan(&v, &by, &max)
	})
	return
}

func (i inspector) Changes(ctx context.Context, id string) (vs []int64, err error) {
	err = i.s.Query(ctx, func(db *sql.Conn) error {
		rows, err := db.QueryContext(ctx, `SELECT version FROM experiment_changes WHERE experiment_id = ? ORDER BY version`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				return err
			}
			vs = append(vs, v)
		}
		return rows.Err()
	})
	return
}

func (i inspector) Migrations(ctx context.Context) (n int, err error) {
	err = i.s.Query(ctx, func(db *sql.Conn) error {
		return db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
	})
	return
}
