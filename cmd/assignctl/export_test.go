package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestExportCommand(t *testing.T) {
	t.Run("NotWired", func(t *testing.T) {
		saved := Exporter
		Exporter = nil
		t.Cleanup(func() { Exporter = saved })
		run(t, nil, "", "export").mustCode(t, ExitError, "not available in this build")
	})
	t.Run("Delegates", func(t *testing.T) {
		var got ExportOptions
		saved := Exporter
		Exporter = func(_ context.Context, o ExportOptions) error { got = o; return nil }
		t.Cleanup(func() { Exporter = saved })
		run(t, map[string]string{"ASSIGN_WAREHOUSE_URL": "w.duckdb"}, "", "export", "--date", "2026-03-02", "--out", "/tmp/x").mustOK(t)
		if got.WarehouseURL != "w.duckdb" || got.Out != "/tmp/x" || !got.Date.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) || got.Progress {
			t.Fatalf("options=%+v", got)
		}
		// Default: yesterday, UTC.
		run(t, nil, "", "export").mustOK(t)
		if want := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1); !got.Date.Equal(want) {
			t.Fatalf("default date %v, want %v", got.Date, want)
		}
		Exporter = func(context.Context, ExportOptions) error { return errors.New("disk full") }
		run(t, nil, "", "export").mustCode(t, ExitError, "disk full")
	})
	t.Run("Usage", func(t *testing.T) {
		run(t, nil, "", "export", "--date", "yesterday").mustCode(t, ExitUsage, "want YYYY-MM-DD")
		run(t, nil, "", "export", "--out", "").mustCode(t, ExitUsage, "--out")
	})
}
