package exporter_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/assign-dev/assign/auth"
	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/duckdb"
	"github.com/assign-dev/assign/warehouse/postgres"
	"github.com/assign-dev/assign/warehouse/warehousetest"
)

// TestExporter_ThroughHTTP enrolls users through the real API (fasthttp
// server, redisstore, Lua script), each twice, changes the configuration,
// and finds exactly one row per user with the group the API answered and an
// enrollment time inside the request's window, plus every configuration
// version with who made it.
func TestExporter_ThroughHTTP(t *testing.T) {
	for _, sinkName := range []string{"postgres", "duckdb"} {
		t.Run(sinkName, func(t *testing.T) {
			forEachRedis(t, func(t *testing.T, b backend) {
				var w warehouse.Warehouse
				var versions func() (int64, string, []int64)
				if sinkName == "postgres" {
					s, pool := pgSink(t, "")
					w = s
					versions = func() (int64, string, []int64) { return pgVersions(t, pool, s, "exp-http") }
				} else {
					s := duckSink(t)
					w = s
					versions = func() (int64, string, []int64) { return duckVersions(t, s, "exp-http") }
				}
				api := openAPI(t, b)
				api.do(t, "POST", "/api/experiment-create", api.admin, `{"experiment_id":"exp-http","maximum_sample_size":1000,
"groups":[{"group_name":"old_journey","probability_of_falling_in":0.5},{"group_name":"new_journey","probability_of_falling_in":0.5}]}`, 201)

				const n = 150
				want := make([]warehouse.EnrollmentRow, 0, n)
				windows := map[string][2]time.Time{}
				for i := 0; i < n; i++ {
					user := "user-" + strconv.Itoa(i)
					tok, err := auth.SignHS256(api.secret, user, time.Hour, nil)
					if err != nil {
						t.Fatal(err)
					}
					before := time.Now()
					res := api.do(t, "POST", "/api/experiment-enrollments", tok, `{"experiment_id":"exp-http"}`, 200)
					after := time.Now()
					again := api.do(t, "POST", "/api/experiment-enrollments", tok, `{"experiment_id":"exp-http"}`, 200)
					if res["group_name"] != again["group_name"] || res["enrolled"] != true {
						t.Fatalf("enroll %s: %v then %v", user, res, again)
					}
					want = append(want, warehouse.EnrollmentRow{ExperimentID: "exp-http", UserID: user, Group: res["group_name"].(string)})
					windows[user] = [2]time.Time{before, after}
				}
				api.do(t, "PATCH", "/api/experiments/exp-http", api.admin, `{"status":"paused"}`, 200)

				e := newExporter(b, w, "c1")
				r := start(e)
				waitFor(t, "the streams to drain", func() bool { return drained(t, e) })
				if err := r.stop(t); err != nil {
					t.Fatal(err)
				}
				got := allRows(t, w)
				for i, g := range got {
					win := windows[g.UserID]
					// Redis TIME and this clock are the same machine's;
					// the slack only absorbs the millisecond truncation.
					if g.EnrolledAt.Before(win[0].Add(-time.Second)) || g.EnrolledAt.After(win[1].Add(time.Second)) {
						t.Fatalf("%s enrolled_at %v outside its request %v..%v", g.UserID, g.EnrolledAt, win[0], win[1])
					}
					got[i].EnrolledAt = time.Time{}
				}
				warehousetest.Equal(t, got, want)
				v, by, changes := versions()
				if v != 2 || by != "alice" || fmt.Sprint(changes) != "[1 2]" {
					t.Fatalf("experiment version=%d by=%q changes=%v, want 2, alice, [1 2]", v, by, changes)
				}
			})
		})
	}
}

type api struct {
	url, admin string
	secret     []byte
	client     *http.Client
}

func openAPI(t *testing.T, b backend) *api {
	t.Helper()
	store := redisstore.New(b.Client, b.Keys)
	if err := store.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	secret := []byte("exporter-test-secret-0123456789abcdef")
	v, err := auth.NewVerifier(auth.Config{HS256Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	s := assignhttp.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Experiments, s.Enrollments, s.Verifier = store, store, v
	s.Admins = map[string]string{"admin-token-0123456789": "alice"}
	s.EnrollTimeout = 5 * time.Second
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	a := &api{url: s.URL(), admin: "admin-token-0123456789", secret: secret, client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(func() {
		a.client.CloseIdleConnections()
		s.Close()
	})
	return a
}

func (a *api) do(t *testing.T, method, path, token, body string, status int) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d (%s), want %d", method, path, res.StatusCode, data, status)
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}

// pgVersions returns the experiments row's version and author, and the
// versions in experiment_changes.
func pgVersions(t *testing.T, pool *pgxpool.Pool, s *postgres.Sink, id string) (v int64, by string, changes []int64) {
	t.Helper()
	ctx := context.Background()
	if err := pool.QueryRow(ctx, "SELECT version, updated_by FROM "+pgx.Identifier{s.Schema(), "experiments"}.Sanitize()+
		" WHERE experiment_id = $1", id).Scan(&v, &by); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, "SELECT version FROM "+pgx.Identifier{s.Schema(), "experiment_changes"}.Sanitize()+
		" WHERE experiment_id = $1 ORDER BY version", id)
	if err != nil {
		t.Fatal(err)
	}
	if changes, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		t.Fatal(err)
	}
	return v, by, changes
}

func duckVersions(t *testing.T, s *duckdb.Sink, id string) (v int64, by string, changes []int64) {
	t.Helper()
	ctx := context.Background()
	err := s.Query(ctx, func(c *sql.Conn) error {
		if err := c.QueryRowContext(ctx, "SELECT version, updated_by FROM experiments WHERE experiment_id = ?", id).Scan(&v, &by); err != nil {
			return err
		}
		rows, err := c.QueryContext(ctx, "SELECT version FROM experiment_changes WHERE experiment_id = ? ORDER BY version", id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var x int64
			if err := rows.Scan(&x); err != nil {
				return err
			}
			changes = append(changes, x)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, by, changes
}
