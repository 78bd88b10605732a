package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/sinks"
)

// TestMain_ExportsToWarehouse enrolls users through the HTTP API of a whole
// assignd and checks that each enrollment reaches the warehouse exactly once,
// with the group the user was told and the time of the decision: into the
// default embedded DuckDB file, and into the real PostgreSQL.
func TestMain_ExportsToWarehouse(t *testing.T) {
	t.Run("DuckDB", func(t *testing.T) {
		testExportsTo(t, filepath.Join(t.TempDir(), "assign.duckdb"))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		url := testenv.PostgresURL(t)
		schema := fmt.Sprintf("assignd_e2e_%d", time.Now().UnixNano())
		t.Cleanup(func() {
			if conn, err := pgx.Connect(context.Background(), url); err == nil {
				_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
				conn.Close(context.Background())
			}
		})
		testExportsTo(t, url+"&schema="+schema)
	})
}

func testExportsTo(t *testing.T, warehouseURL string) {
	const users = 300
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.Exporter = true
	m.Config.WarehouseURL = warehouseURL
	m.Config.ExportFlushInterval = 50 * time.Millisecond
	m.Config.ExportBatchSize = 64 // several batches
	m.Stdout = new(strings.Builder)
	m.Logger = discardLogger()
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			m.Close()
		}
	}()
	out := m.Stdout.(*strings.Builder).String()
	admin := valueAfter(t, out, "export ADMIN_TOKEN=")
	secret := valueAfter(t, out, "export JWT_SECRET=")
	url := m.Server.URL()

	body := `{"experiment_id":"wh","maximum_sample_size":250,"sampling_probability":0.9,
		"groups":[{"group_name":"control","probability_of_falling_in":0.4},{"group_name":"treatment","probability_of_falling_in":0.6}]}`
	if code, b := post(t, url+"/api/experiment-create", admin, body); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}

	start := time.Now().Add(-time.Second)
	told := map[string]string{} // user -> group answered
	for i := 0; i < users; i++ {
		user := fmt.Sprintf("user-%03d", i)
		token, err := auth.SignHS256([]byte(secret), user, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Every user asks twice: the second answer must not add a row.
		for range 2 {
			code, b := post(t, url+"/api/experiment-enrollments", token, `{"experiment_id":"wh"}`)
			if code != 200 {
				t.Fatalf("enroll %s: %d %s", user, code, b)
			}
			var e struct {
				Enrolled bool   `json:"enrolled"`
				Group    string `json:"group_name"`
			}
			_ = json.Unmarshal([]byte(b), &e)
			if e.Enrolled {
				told[user] = e.Group
			}
		}
	}
	end := time.Now().Add(time.Second)
	if len(told) != 250 {
		t.Fatalf("%d users enrolled, want the cap of 250 (300 users, 90%% sampled)", len(told))
	}

	// The exporter catches up while the service runs...
	waitFor(t, func() bool {
		resp, err := httpGet(url + "/metrics")
		return err == nil && regexp.MustCompile(`(?m)^assign_exporter_rows_total 250$`).MatchString(resp)
	})
	// Each committed batch is timed for the latency histogram.
	exposition, err := httpGet(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^assign_exporter_batch_duration_seconds_count (\d+)$`).FindStringSubmatch(exposition); m == nil || m[1] == "0" {
		t.Fatalf("no exporter batch observed in the histogram: %v", m)
	}
	// ...and a graceful stop leaves nothing pending.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true

	wh, err := sinks.Open(context.Background(), warehouseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	var rows []warehouse.EnrollmentRow
	if err := wh.ScanEnrollments(context.Background(), start, end, func(r warehouse.EnrollmentRow) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(told) {
		t.Fatalf("%d rows in the warehouse, want %d", len(rows), len(told))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.UserID] {
			t.Fatalf("user %s exported twice", r.UserID)
		}
		seen[r.UserID] = true
		if r.ExperimentID != "wh" || r.Group != told[r.UserID] {
			t.Fatalf("row %+v, want experiment wh, group %q", r, told[r.UserID])
		} else if r.EnrolledAt.Before(start) || r.EnrolledAt.After(end) {
			t.Fatalf("row %+v: enrolled_at outside the run [%v, %v]", r, start, end)
		}
	}
}

func httpGet(url string) (string, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return "", err
	}
	return readAll(resp), nil
}
