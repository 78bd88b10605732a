package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/client/clienttest"
)

// A small users file: enrollment answers and the orders users place follow
// the sample data's rules.
func TestDemoEnrollCommand(t *testing.T) {
	srv, env := serverEnv(t)
	run(t, env, "", "create", "--id", "demo", "--max", "3", "--group", "old_journey=0.5", "--group", "new_journey=0.5",
		"--eligible", "first_order=true").mustOK(t)

	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	os.WriteFile(users, []byte(`user_id,first_order,orders_with,minutes_to_order,amount,previous_order_days_ago
u1,true,both,10,20.00,
u2,true,none,10,20.00,3
u3,true,new_journey,10,30.00,
u4,false,both,10,40.00,
u5,true,both,10,50.00,
`), 0o600)
	orders := filepath.Join(dir, "orders.csv")

	var sum DemoSummary
	run(t, env, "", "demo-enroll", "--jwt-secret", clienttest.JWTSecret, "--users", users, "--orders-out", orders, "demo").mustOK(t).json(t, &sum)
	if sum.Users != 5 || sum.Enrolled["old_journey"]+sum.Enrolled["new_journey"] != 3 || sum.NotEnrolled["not_eligible"] != 1 || sum.NotEnrolled["sample_full"] != 1 {
		t.Fatalf("summary=%+v", sum)
	}

	f, _ := os.Open(orders)
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range recs[1:] {
		at, err := time.Parse(time.RFC3339Nano, r[2])
		if err != nil {
			t.Fatal(err)
		}
		if at.Before(time.Now().Add(-time.Hour)) {
			got[r[1]+" before"]++
		} else {
			got[r[1]+" after"]++
		}
	}
	group := func(u string) string {
		g, ok, err := srv.Store.MemberGroup(t.Context(), "demo", u)
		if err != nil {
			t.Fatal(err)
		} else if !ok {
			return "old_journey" // outside the experiment: the current journey
		}
		return g
	}
	want := map[string]int{"u1 after": 1, "u2 before": 1, "u4 after": 1, "u5 after": 1}
	if group("u3") == "new_journey" {
		want["u3 after"] = 1
	}
	if len(got) != len(want) {
		t.Fatalf("orders %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("orders %v, want %v", got, want)
		}
	}

	r := run(t, env, "", "demo-enroll", "--jwt-secret", clienttest.JWTSecret, "--users", users, "--output", "table", "demo").mustOK(t)
	if !strings.Contains(r.Stdout, "not enrolled: sample_full") {
		t.Fatalf("table=%q", r.Stdout)
	}
	run(t, env, "", "demo-enroll", "demo").mustCode(t, ExitUsage, "--jwt-secret")
	run(t, env, "", "demo-enroll", "--jwt-secret", "wrong-secret", "--users", users, "demo").mustCode(t, ExitError, "token signature is invalid")
	run(t, env, "", "demo-enroll", "--jwt-secret", "x", "--users", filepath.Join(dir, "none.csv"), "demo").mustCode(t, ExitError, "no such file")
}
