package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The embedded demo mode's walk without a terminal, minus the browser: as
// `make run` starts it (the warehouse assign.duckdb where it runs, the demo
// metrics file), an admin creates the seed's experiment, the console's
// button sends the 4,000 sample users (POST .../sample-users), their
// orders land in orders.csv beside the warehouse, and the results of both
// metrics follow once the exporter has written the enrollments.
func TestMain_DemoSampleUsers(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DemoUsers = filepath.Join(root, "examples", "shipping-address", "users.csv")
	m.Config.MetricsFile = filepath.Join(root, "examples", "shipping-address", "metrics-demo.yaml")
	m.Config.ExportFlushInterval = 100 * time.Millisecond
	var out bytes.Buffer
	m.Stdout = &out
	m.Logger = discardLogger()
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	admin := valueAfter(t, out.String(), "export ADMIN_TOKEN=")
	url := m.Server.URL()
	const id = "f380739f-62f3-4316-8acf-93ed5744cb9e"
	if code, body := post(t, url+"/api/experiment-create", admin, `{"experiment_id":"`+id+`","maximum_sample_size":2754,"sampling_probability":0.9,
		"groups":[{"group_name":"old_journey","probability_of_falling_in":0.5},{"group_name":"new_journey","probability_of_falling_in":0.5}],
		"eligibility":[{"claim":"first_order","equals":true}]}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	code, body := post(t, url+"/api/experiments/"+id+"/sample-users", admin, "")
	if code != 200 {
		t.Fatalf("sample users: %d %s", code, body)
	}
	var sum struct {
		Users       int              `json:"users"`
		Enrolled    map[string]int64 `json:"enrolled"`
		NotEnrolled map[string]int64 `json:"not_enrolled"`
		Orders      int              `json:"orders"`
	}
	mustJSON(t, body, &sum)
	if sum.Users != 4000 || sum.Enrolled["old_journey"]+sum.Enrolled["new_journey"] != 2754 || sum.NotEnrolled["sample_full"] == 0 || sum.Orders < 500 {
		t.Fatalf("summary %+v: want 4,000 users, the cap of 2,754 reached, hundreds of orders", sum)
	}
	if st, err := os.Stat("orders.csv"); err != nil || st.Size() == 0 {
		t.Fatalf("orders.csv beside the warehouse: %v", err)
	}
	if code, _ := post(t, url+"/api/experiments/nope/sample-users", admin, ""); code != 404 {
		t.Fatalf("unknown experiment: %d, want 404", code)
	}

	// The results of both metrics, once the exporter has caught up.
	deadline := time.Now().Add(time.Minute) // a guard against a hang, not a timing assertion
	for {
		req, _ := http.NewRequest("GET", url+"/api/experiments/"+id+"/results", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var res struct {
			Metrics []struct {
				Metric struct{ Name string } `json:"metric"`
				Error  string                `json:"error"`
				Groups []struct{ N int64 }   `json:"groups"`
			} `json:"metrics"`
		}
		if resp.StatusCode == 200 && json.Unmarshal(b, &res) == nil && len(res.Metrics) == 2 {
			var n int64
			for _, g := range res.Metrics[0].Groups {
				n += g.N
			}
			if n == 2754 {
				for i, want := range []string{"ordered", "revenue"} {
					if m := res.Metrics[i]; m.Metric.Name != want || m.Error != "" {
						t.Fatalf("metric %d: %+v", i, m)
					}
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("results never showed the 2,754 members: %d %s", resp.StatusCode, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
