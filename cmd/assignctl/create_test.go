package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assign-dev/assign/assign"
)

func TestCreateCommand(t *testing.T) {
	srv, env := serverEnv(t)

	t.Run("Flags", func(t *testing.T) {
		var out map[string]string
		run(t, env, "", "create", "--id", "ship-1", "--max", "250", "--sampling", "0.3",
			"--group", "old_journey=0.5", "--group", "new_journey=0.5", "--eligible", "first_order=true", "--eligible", "country=FR").mustOK(t).json(t, &out)
		if out["experiment_id"] != "ship-1" {
			t.Fatalf("output=%v", out)
		}
		e, err := srv.Client.Experiment(t.Context(), "ship-1")
		if err != nil {
			t.Fatal(err)
		}
		if e.MaxSampleSize != 250 || e.SamplingProbability != 0.3 || len(e.Groups) != 2 || e.Groups[1] != (assign.Group{Name: "new_journey", Probability: 0.5}) {
			t.Fatalf("created %+v", e)
		}
		if len(e.Eligibility) != 2 || e.Eligibility[0].Equals != true || e.Eligibility[1].Equals != "FR" {
			t.Fatalf("eligibility %+v", e.Eligibility)
		}
	})

	t.Run("File", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "e.json")
		body := `{"experiment_id": "ship-2", "maximum_sample_size": 10,
			"groups": [{"group_name": "a", "probability_of_falling_in": 1}]}`
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		r := run(t, env, "", "create", "--file", path, "--output", "table").mustOK(t)
		if r.Stdout != "Created experiment ship-2\n" {
			t.Fatalf("table output=%q", r.Stdout)
		}
		// stdin, CSV output, generated id
		r = run(t, env, `{"maximum_sample_size": 10, "groups": [{"group_name": "a", "probability_of_falling_in": 1}]}`,
			"create", "--file", "-", "--output", "csv").mustOK(t)
		rows := r.csv(t)
		if len(rows) != 1 || len(rows[0]["experiment_id"]) != 36 {
			t.Fatalf("csv=%q", r.Stdout)
		}
	})

	t.Run("ServerRefuses", func(t *testing.T) {
		// Duplicate id: 409, exit 1.
		run(t, env, "", "create", "--id", "ship-1", "--max", "5", "--group", "a=1").mustCode(t, ExitError, "already exists")
		// Probabilities not summing to 1: 400 naming the field, exit 1.
		run(t, env, "", "create", "--max", "5", "--group", "a=0.5", "--group", "b=0.4").mustCode(t, ExitError, "groups")
		// Unknown field in a file is refused before sending.
		path := filepath.Join(t.TempDir(), "e.json")
		os.WriteFile(path, []byte(`{"maximum_sample_size": 1, "groups": [], "salt": "x"}`), 0o600)
		run(t, env, "", "create", "--file", path).mustCode(t, ExitError, `unknown field "salt"`)
	})

	t.Run("Usage", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{[]string{"create"}, "--max and at least one --group are required"},
			{[]string{"create", "--max", "5", "--group", "a"}, "want name=probability"},
			{[]string{"create", "--max", "5", "--group", "a=x"}, "is not a number"},
			{[]string{"create", "--max", "5", "--group", "a=1", "--eligible", "nothing"}, "want claim=value"},
			{[]string{"create", "--file", "x.json", "--max", "5"}, "--file excludes"},
			{[]string{"create", "--max", "5", "--group", "a=1", "extra"}, "want 0 argument(s)"},
			{[]string{"create", "--max", "five"}, "invalid value"},
		} {
			run(t, env, "", tc.args...).mustCode(t, ExitUsage, tc.msg)
		}
	})
}

func TestParseRule(t *testing.T) {
	for in, want := range map[string]any{"a=true": true, "a=false": false, "a=3": 3.0, "a=FR": "FR", `a="42"`: "42", "a=[1]": "[1]", "a=null": "null", "a=": ""} {
		r, err := parseRule(in)
		if err != nil {
			t.Fatal(err)
		}
		if r.Claim != "a" || r.Equals != want {
			t.Errorf("parseRule(%q)=%+v, want equals %#v", in, r, want)
		}
	}
	if _, err := parseRule("=x"); err == nil || !strings.Contains(err.Error(), "claim=value") {
		t.Fatalf("err=%v", err)
	}
}
