package exporter_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/warehouse"
)

// TestExporter_OverridesFlagged: a QA override's answers, however many,
// reach the warehouse as one row flagged override, with the forced group;
// members' rows are unflagged, with the platform their enrollment gave
// (” for none), and reads of members leave the override out.
func TestExporter_OverridesFlagged(t *testing.T) {
	for _, sinkName := range []string{"postgres", "duckdb"} {
		t.Run(sinkName, func(t *testing.T) {
			forEachRedis(t, func(t *testing.T, b backend) {
				ctx := context.Background()
				var w warehouse.Warehouse
				var flagged func() map[string]string // user -> group of the override rows
				if sinkName == "postgres" {
					s, pool := pgSink(t, "")
					w = s
					flagged = func() map[string]string {
						rows, err := pool.Query(ctx, "SELECT user_id, group_name FROM "+pgx.Identifier{s.Schema(), "enrollments"}.Sanitize()+" WHERE override")
						if err != nil {
							t.Fatal(err)
						}
						defer rows.Close()
						m := map[string]string{}
						for rows.Next() {
							var u, g string
							if err := rows.Scan(&u, &g); err != nil {
								t.Fatal(err)
							}
							m[u] = g
						}
						return m
					}
				} else {
					s := duckSink(t)
					w = s
					flagged = func() map[string]string {
						m := map[string]string{}
						if err := s.Query(ctx, func(c *sql.Conn) error {
							rows, err := c.QueryContext(ctx, "SELECT user_id, group_name FROM enrollments WHERE override")
							if err != nil {
								return err
							}
							defer rows.Close()
							for rows.Next() {
								var u, g string
								if err := rows.Scan(&u, &g); err != nil {
									return err
								}
								m[u] = g
							}
							return rows.Err()
						}); err != nil {
							t.Fatal(err)
						}
						return m
					}
				}
				api := openAPI(t, b)
				api.do(t, "POST", "/api/experiment-create", api.admin, `{"experiment_id":"exp-ovr","maximum_sample_size":1000,
"groups":[{"group_name":"old_journey","probability_of_falling_in":0.5},{"group_name":"new_journey","probability_of_falling_in":0.5}],
"overrides":{"qa-1":"new_journey"}}`, 201)
				for _, user := range []string{"qa-1", "member-1", "qa-1", "member-2", "qa-1"} {
					tok, err := auth.SignHS256(api.secret, user, time.Hour, nil)
					if err != nil {
						t.Fatal(err)
					}
					body := `{"experiment_id":"exp-ovr"}`
					if user == "member-1" {
						body = `{"experiment_id":"exp-ovr","platform":"ios"}`
					}
					res := api.do(t, "POST", "/api/experiment-enrollments", tok, body, 200)
					if (res["override"] == true) != strings.HasPrefix(user, "qa-") || res["enrolled"] != true {
						t.Fatalf("%s: %v", user, res)
					}
				}
				e := newExporter(b, w, "c1")
				r := start(e)
				waitFor(t, "the streams to drain", func() bool { return drained(t, e) })
				if err := r.stop(t); err != nil {
					t.Fatal(err)
				}
				if got := flagged(); len(got) != 1 || got["qa-1"] != "new_journey" {
					t.Fatalf("override rows %v, want qa-1 in new_journey alone", got)
				}
				members := allRows(t, w)
				if len(members) != 2 {
					t.Fatalf("member rows %v, want member-1 and member-2", members)
				}
				for _, m := range members {
					if m.Override || !strings.HasPrefix(m.UserID, "member-") || m.Platform != map[string]string{"member-1": "ios"}[m.UserID] {
						t.Fatalf("member row %+v", m)
					}
				}
			})
		})
	}
}
