package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/assign-dev/assign/results/resultstest"
)

// The nightly export of a fixture warehouse: the day's partitions appear,
// with every enrollment of the day; another day exports nothing.
func TestExportCommand(t *testing.T) {
	wh := resultstest.LoadDuckDB(t, resultstest.PropTest().Fixture) // enrolled on 2026-03-02, UTC
	out := filepath.Join(t.TempDir(), "export")
	env := map[string]string{"ASSIGN_WAREHOUSE_URL": wh}

	var sum struct {
		Date        string   `json:"date"`
		Rows        int64    `json:"rows"`
		Experiments int      `json:"experiments"`
		Dirs        []string `json:"dirs"`
	}
	run(t, env, "", "export", "--date", "2026-03-02", "--out", out).mustOK(t).json(t, &sum)
	// 128 + 214 users of prop-test that day; the noise experiment enrolled
	// its users two days before.
	if sum.Date != "2026-03-02" || sum.Rows != 342 || sum.Experiments != 1 {
		t.Fatalf("summary=%+v, want the 342 enrollments of prop-test", sum)
	}
	for _, name := range []string{"enrollments.parquet", "enrollments.csv"} {
		p := filepath.Join(out, "experiment_id=prop-test", "date=2026-03-02", name)
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", p, err)
		}
	}

	// Environment equivalents and the plain summary.
	env["ASSIGN_EXPORT_DATE"], env["ASSIGN_EXPORT_DIR"] = "2026-03-05", out
	r := run(t, env, "", "export", "--output", "table").mustOK(t)
	if r.Stdout == "" || r.Stdout[:len("exported 0 enrollments")] != "exported 0 enrollments" {
		t.Fatalf("summary=%q", r.Stdout)
	}
	rows := run(t, env, "", "export", "--output", "csv", "--date", "2026-03-02").mustOK(t).csv(t)
	if len(rows) != 1 || rows[0]["date"] != "2026-03-02" {
		t.Fatalf("csv=%v", rows)
	}

	run(t, nil, "", "export", "--date", "yesterday").mustCode(t, ExitUsage, "want YYYY-MM-DD")
	run(t, nil, "", "export", "--out", "").mustCode(t, ExitUsage, "--out")
	run(t, nil, "", "export", "--warehouse-url", "mysql://x").mustCode(t, ExitError, "warehouse url")
}
