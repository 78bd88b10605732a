package nightly_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parquet-go/parquet-go"

	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/duckdb"
	"github.com/assign-dev/assign/warehouse/nightly"
	"github.com/assign-dev/assign/warehouse/postgres"
	"github.com/assign-dev/assign/warehouse/warehousetest"
)

var day = warehousetest.Day

// seed writes enrollments of three experiments over the day before, the
// day, and the day after, and returns the day's rows.
func seed(t *testing.T, w warehouse.Warehouse) []warehouse.EnrollmentRow {
	t.Helper()
	ctx := context.Background()
	if err := w.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var all, want []warehouse.EnrollmentRow
	for i, id := range []string{"exp-b", "exp-a", "f380739f-62f3-4316-8acf-93ed5744cb9e"} {
		rows := warehousetest.Enrollments(id, 3000+i*500)
		for j := range rows {
			// 1237 ms apart: about 3,700 s per 3,000 rows; shift some
			// rows to the neighbouring days.
			switch j % 10 {
			case 0:
				rows[j].EnrolledAt = rows[j].EnrolledAt.Add(-24 * time.Hour)
			case 1:
				rows[j].EnrolledAt = rows[j].EnrolledAt.Add(24 * time.Hour)
			default:
				want = append(want, rows[j])
			}
		}
		all = append(all, rows...)
	}
	// The day's edges: its first and last milliseconds are in, the next
	// midnight is not.
	edges := []warehouse.EnrollmentRow{
		{ExperimentID: "exp-a", UserID: "first", Group: "a", EnrolledAt: day},
		{ExperimentID: "exp-a", UserID: "last", Group: "b", EnrolledAt: day.Add(24*time.Hour - time.Millisecond)},
	}
	want = append(want, edges...)
	all = append(all, edges...)
	all = append(all, warehouse.EnrollmentRow{ExperimentID: "exp-a", UserID: "next", Group: "a", EnrolledAt: day.Add(24 * time.Hour)})
	if err := w.WriteBatch(ctx, all, nil); err != nil {
		t.Fatal(err)
	}
	return want
}

func forEachWarehouse(t *testing.T, fn func(t *testing.T, w warehouse.Warehouse)) {
	t.Run("duckdb", func(t *testing.T) {
		s, err := duckdb.Open(filepath.Join(t.TempDir(), "w.duckdb"), duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		url := testenv.PostgresURL(t)
		schema := fmt.Sprintf("t_%08x", rand.Uint32())
		s, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			s.Close()
			pool, err := pgxpool.New(context.Background(), url)
			if err == nil {
				pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
				pool.Close()
			}
		}()
		fn(t, s)
	})
}

func TestExport(t *testing.T) {
	forEachWarehouse(t, func(t *testing.T, w warehouse.Warehouse) {
		ctx := context.Background()
		want := seed(t, w)
		table := warehousetest.Scan(t, w, day, day.AddDate(0, 0, 1))
		warehousetest.Equal(t, table, want)
		dir := t.TempDir()

		sum, err := nightly.Export(ctx, w, nightly.Options{Date: day.Add(13 * time.Hour), Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Rows != int64(len(want)) || sum.Experiments != 3 || sum.Date != "2026-03-14" {
			t.Fatalf("Summary=%+v, want %d rows of 3 experiments on 2026-03-14", sum, len(want))
		}

		t.Run("Parquet", func(t *testing.T) {
			warehousetest.Equal(t, readParquet(t, dir), table)
		})
		t.Run("DuckDBReadParquet", func(t *testing.T) {
			warehousetest.Equal(t, duckReadParquet(t, dir), table)
		})
		t.Run("CSV", func(t *testing.T) {
			warehousetest.Equal(t, readCSV(t, dir), table)
		})

		t.Run("RerunIdempotent", func(t *testing.T) {
			before := snapshot(t, dir)
			// Another day's partition must survive; a stale partition of
			// the day (an experiment with no rows now) must go.
			other := filepath.Join(dir, "experiment_id=exp-a", "date=2026-03-13")
			ghost := filepath.Join(dir, "experiment_id=ghost", "date=2026-03-14")
			for _, d := range []string{other, ghost} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, nightly.CSVFile), []byte("x\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := nightly.Export(ctx, w, nightly.Options{Date: day, Dir: dir, Progress: true, Output: &bytes.Buffer{}})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Removed != 1 || sum.Rows != int64(len(want)) {
				t.Fatalf("Summary=%+v, want 1 removed and %d rows", sum, len(want))
			}
			if _, err := os.Stat(ghost); !os.IsNotExist(err) {
				t.Fatalf("stale partition still there (%v)", err)
			}
			if _, err := os.Stat(filepath.Join(other, nightly.CSVFile)); err != nil {
				t.Fatalf("another day's partition was touched: %v", err)
			}
			if _, err := os.Stat(filepath.Dir(ghost)); !os.IsNotExist(err) {
				t.Fatalf("empty experiment directory left behind (%v)", err)
			}
			os.RemoveAll(other)
			after := snapshot(t, dir)
			if len(after) != len(before) {
				t.Fatalf("rerun wrote %d files, first run %d", len(after), len(before))
			}
			for name, b := range before {
				if !bytes.Equal(after[name], b) {
					t.Fatalf("rerun changed %s", name)
				}
			}
			warehousetest.Equal(t, readParquet(t, dir), table)
		})
	})
}

func TestExport_EmptyDay(t *testing.T) {
	s, err := duckdb.Open(filepath.Join(t.TempDir(), "w.duckdb"), duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seed(t, s)
	dir := t.TempDir()
	sum, err := nightly.Export(context.Background(), s, nightly.Options{Date: day.AddDate(0, 0, 5), Dir: dir})
	if err != nil {
		t.Fatal(err)
	} else if sum.Rows != 0 || sum.Experiments != 0 {
		t.Fatalf("Summary=%+v, want nothing", sum)
	}
	if got := snapshot(t, dir); len(got) != 0 {
		t.Fatalf("files written for an empty day: %v", got)
	}
}

func parquetFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "experiment_id=*", "date=*", nightly.ParquetFile))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Parquet files in %s (%v)", dir, err)
	}
	return files
}

func readParquet(t *testing.T, dir string) []warehouse.EnrollmentRow {
	t.Helper()
	var out []warehouse.EnrollmentRow
	for _, f := range parquetFiles(t, dir) {
		rows, err := parquet.ReadFile[nightly.Row](f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if !strings.Contains(f, "experiment_id="+r.ExperimentID+string(filepath.Separator)) {
				t.Fatalf("row of %s in %s", r.ExperimentID, f)
			}
			out = append(out, warehouse.EnrollmentRow{ExperimentID: r.ExperimentID, UserID: r.UserID, Group: r.GroupName, EnrolledAt: r.EnrolledAt})
		}
	}
	return out
}

// duckReadParquet reads the files with DuckDB's read_parquet, using the
// Hive partitions as an analyst would.
func duckReadParquet(t *testing.T, dir string) []warehouse.EnrollmentRow {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT experiment_id, user_id, group_name, enrolled_at, date::VARCHAR
FROM read_parquet(?, hive_partitioning = true)`, filepath.Join(dir, "*", "*", "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []warehouse.EnrollmentRow
	for rows.Next() {
		var r warehouse.EnrollmentRow
		var date string
		if err := rows.Scan(&r.ExperimentID, &r.UserID, &r.Group, &r.EnrolledAt, &date); err != nil {
			t.Fatal(err)
		}
		if date != "2026-03-14" {
			t.Fatalf("date partition %q", date)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readCSV(t *testing.T, dir string) []warehouse.EnrollmentRow {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "experiment_id=*", "date=*", nightly.CSVFile))
	var out []warehouse.EnrollmentRow
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != strings.Join(nightly.CSVHeader, ",") {
			t.Fatalf("header %v", recs[0])
		}
		for _, r := range recs[1:] {
			at, err := time.Parse(time.RFC3339Nano, r[3])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, warehouse.EnrollmentRow{ExperimentID: r[0], UserID: r[1], Group: r[2], EnrolledAt: at})
		}
	}
	return out
}

// snapshot returns every file under dir by relative name.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
