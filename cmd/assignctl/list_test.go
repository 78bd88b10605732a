package main

import (
	"strings"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/client"
	"github.com/assign-dev/assign/client/clienttest"
	"github.com/assign-dev/assign/redisstore"
)

// createN creates experiments e-00.. with two groups through the API.
func createN(t *testing.T, srv *clienttest.Server, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := srv.Client.CreateExperiment(t.Context(), client.ExperimentCreate{ID: id, MaxSampleSize: 100,
			Groups: []assign.Group{{Name: "old_journey", Probability: 0.5}, {Name: "new_journey", Probability: 0.5}}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestListCommand(t *testing.T) {
	srv, env := serverEnv(t)
	createN(t, srv, "e-1", "e-2", "e-3")
	tok := clienttest.UserToken(t, "u1", nil)
	if _, err := srv.Client.Enroll(t.Context(), tok, "e-2"); err != nil {
		t.Fatal(err)
	}

	t.Run("JSONFollowsPages", func(t *testing.T) {
		var list []assign.Experiment
		run(t, env, "", "list", "--page-size", "1").mustOK(t).json(t, &list)
		if len(list) != 3 || list[0].ID != "e-1" || list[2].ID != "e-3" || list[1].Stats.Enrolled != 1 {
			t.Fatalf("list=%+v", list)
		}
	})
	t.Run("CSV", func(t *testing.T) {
		rows := run(t, env, "", "list", "--output", "csv").mustOK(t).csv(t)
		if len(rows) != 3 || rows[1]["experiment_id"] != "e-2" || rows[1]["enrolled"] != "1" || rows[1]["remaining"] != "99" ||
			rows[1]["groups"] != "old_journey=0.5;new_journey=0.5" || rows[1]["status"] != "running" || rows[1]["version"] != "1" {
			t.Fatalf("rows=%v", rows)
		}
	})
	t.Run("Table", func(t *testing.T) {
		r := run(t, env, "", "list", "--output", "table").mustOK(t)
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[2], "e-2") ||
			!strings.Contains(lines[2], "old_journey=0.5 new_journey=0.5") || strings.Fields(lines[2])[4] != "1" {
			t.Fatalf("table=%q", r.Stdout)
		}
	})
	t.Run("Usage", func(t *testing.T) {
		run(t, env, "", "list", "--page-size", "0").mustCode(t, ExitUsage, "--page-size")
		run(t, env, "", "list", "extra").mustCode(t, ExitUsage, "want 0 argument(s)")
	})
}

// Issue 10, item 7 (in part): an experiment whose configuration in Redis is
// corrupt is listed as unreadable, its problem on stderr (in JSON, its
// "problem" field), and the others as usual.
func TestListCommand_Unreadable(t *testing.T) {
	srv, env := serverEnv(t)
	createN(t, srv, "e-1", "e-2", "e-3")
	srv.Mini.HSet(redisstore.ConfigKey(srv.Keys.Prefix("e-2", "")), redisstore.FieldSampling, "half")

	r := run(t, env, "", "list", "--output", "table").mustOK(t)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "e-1") || !strings.Contains(lines[1], "running") ||
		strings.Fields(lines[2])[0] != "e-2" || strings.Fields(lines[2])[1] != "unreadable" || !strings.Contains(lines[3], "running") {
		t.Fatalf("table=%q", r.Stdout)
	}
	if !strings.Contains(r.Stderr, `experiment "e-2" cannot be read`) || !strings.Contains(r.Stderr, "bad field") {
		t.Fatalf("stderr=%q", r.Stderr)
	}
	rows := run(t, env, "", "list", "--output", "csv").mustOK(t).csv(t)
	if len(rows) != 3 || rows[1]["experiment_id"] != "e-2" || rows[1]["status"] != "unreadable" || rows[2]["status"] != "running" {
		t.Fatalf("rows=%v", rows)
	}
	var list []assign.Experiment
	run(t, env, "", "list", "--output", "json").mustOK(t).json(t, &list)
	if len(list) != 3 || list[1].ID != "e-2" || list[1].Problem == "" || list[1].Stats != nil || list[0].Problem != "" || list[2].Stats == nil {
		t.Fatalf("list=%+v", list)
	}
}

func TestShowCommand(t *testing.T) {
	srv, env := serverEnv(t)
	createN(t, srv, "e-1")
	tok := clienttest.UserToken(t, "u1", nil)
	enr, err := srv.Client.Enroll(t.Context(), tok, "e-1")
	if err != nil {
		t.Fatal(err)
	}

	var e assign.Experiment
	// Flags after the positional argument work too.
	run(t, env, "", "show", "e-1", "--output", "json").mustOK(t).json(t, &e)
	if e.ID != "e-1" || e.Stats.PerGroup[enr.Group] != 1 || e.Stats.Remaining != 99 {
		t.Fatalf("show=%+v", e)
	}
	r := run(t, env, "", "show", "--output", "table", "e-1").mustOK(t)
	for _, want := range []string{"Experiment:", "e-1", "Status:", "running", "Enrolled:", "1 (remaining 99)", "GROUP", enr.Group + " "} {
		if !strings.Contains(r.Stdout, want) {
			t.Fatalf("table lacks %q:\n%s", want, r.Stdout)
		}
	}
	rows := run(t, env, "", "show", "e-1", "--output", "csv").mustOK(t).csv(t)
	if len(rows) != 1 || rows[0]["experiment_id"] != "e-1" || rows[0]["enrolled"] != "1" {
		t.Fatalf("csv=%v", rows)
	}
	run(t, env, "", "show", "nope").mustCode(t, ExitError, "not found")
	run(t, env, "", "show").mustCode(t, ExitUsage, "want 1 argument(s)")
	run(t, env, "", "show", "a", "b").mustCode(t, ExitUsage, "want 1 argument(s)")
}
