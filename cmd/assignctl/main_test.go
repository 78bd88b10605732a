package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/assign-dev/assign/client/clienttest"
)

// Run is the result of one in-process assignctl run.
type Run struct {
	Stdout, Stderr string
	Code           int
}

// run runs assignctl in-process with args, the environment env (nothing
// else of the process's environment leaks in) and stdout not a terminal
// unless terminal is set.
func run(t *testing.T, env map[string]string, stdin string, args ...string) Run {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
	}
	if env["TERMINAL"] == "1" {
		m.IsTerminal = true
	}
	code := m.Run(context.Background(), args)
	return Run{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// serverEnv starts a real API (package http over redisstore on miniredis)
// and returns the environment pointing assignctl at it.
func serverEnv(t *testing.T) (*clienttest.Server, map[string]string) {
	t.Helper()
	srv := clienttest.MustOpen(t)
	return srv, map[string]string{"ASSIGN_URL": srv.URL(), "ASSIGN_ADMIN_TOKEN": clienttest.AdminToken}
}

// mustOK fails the test unless the run exited 0.
func (r Run) mustOK(t *testing.T) Run {
	t.Helper()
	if r.Code != ExitOK {
		t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// mustCode fails the test unless the run exited with code and its stderr
// contains msg.
func (r Run) mustCode(t *testing.T, code int, msg string) Run {
	t.Helper()
	if r.Code != code || !strings.Contains(r.Stderr, msg) {
		t.Fatalf("exit %d stderr %q, want exit %d containing %q", r.Code, r.Stderr, code, msg)
	}
	return r
}

// json decodes stdout into v.
func (r Run) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.Stdout)
	}
}

// csv parses stdout as CSV with a header, into maps by column.
func (r Run) csv(t *testing.T) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(r.Stdout)).ReadAll()
	if err != nil || len(recs) < 1 {
		t.Fatalf("stdout is not CSV: %v\n%s", err, r.Stdout)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

func TestMain_Usage(t *testing.T) {
	t.Run("NoArguments", func(t *testing.T) {
		r := run(t, nil, "")
		if r.Code != ExitUsage || !strings.Contains(r.Stderr, "Commands:") {
			t.Fatalf("exit %d stderr %q", r.Code, r.Stderr)
		}
	})
	t.Run("Help", func(t *testing.T) {
		for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
			r := run(t, nil, "", args...).mustOK(t)
			for _, c := range commands {
				if !strings.Contains(r.Stdout, c.name) {
					t.Fatalf("%v: help does not list %q", args, c.name)
				}
			}
		}
	})
	t.Run("EveryCommandHasHelp", func(t *testing.T) {
		for _, c := range commands {
			for _, args := range [][]string{{c.name, "--help"}, {"help", c.name}} {
				r := run(t, nil, "", args...).mustOK(t)
				if !strings.HasPrefix(r.Stdout, "Usage: assignctl "+c.name) || !strings.Contains(r.Stdout, "--output") {
					t.Fatalf("%v: help=%q", args, r.Stdout)
				}
			}
		}
	})
	t.Run("UnknownCommand", func(t *testing.T) {
		run(t, nil, "", "frobnicate").mustCode(t, ExitUsage, `unknown command "frobnicate"`)
	})
	t.Run("UnknownFlag", func(t *testing.T) {
		run(t, nil, "", "list", "--nope").mustCode(t, ExitUsage, "flag provided but not defined: -nope")
		run(t, nil, "", "--nope", "list").mustCode(t, ExitUsage, "flag provided but not defined")
	})
	t.Run("BadOutput", func(t *testing.T) {
		run(t, map[string]string{"ASSIGN_ADMIN_TOKEN": "x"}, "", "list", "--output", "xml").mustCode(t, ExitUsage, "--output must be table, json or csv")
	})
	t.Run("MissingToken", func(t *testing.T) {
		run(t, nil, "", "list").mustCode(t, ExitUsage, "an admin token is required")
	})
}

// Global flags come from the environment, from before the command name, or
// after it; the last wins over the first.
func TestMain_Globals(t *testing.T) {
	srv, env := serverEnv(t)
	url := env["ASSIGN_URL"]

	// Environment only.
	run(t, env, "", "list").mustOK(t)
	// A wrong URL in the environment, the right one on the command line,
	// before or after the command name.
	bad := map[string]string{"ASSIGN_URL": "http://127.0.0.1:1", "ASSIGN_ADMIN_TOKEN": clienttest.AdminToken}
	run(t, bad, "", "list").mustCode(t, ExitError, "cannot reach assignd")
	run(t, bad, "", "--url", url, "list").mustOK(t)
	run(t, bad, "", "list", "--url", url).mustOK(t)
	// A wrong token: the server's 401, exit 1.
	run(t, env, "", "list", "--admin-token", "wrong").mustCode(t, ExitError, "not valid")
	_ = srv

	// Output: JSON when stdout is not a terminal, table on a terminal,
	// ASSIGN_OUTPUT and --output override.
	if r := run(t, env, "", "list").mustOK(t); strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("default output off a terminal=%q, want JSON []", r.Stdout)
	}
	term := map[string]string{"TERMINAL": "1"}
	for k, v := range env {
		term[k] = v
	}
	if r := run(t, term, "", "list").mustOK(t); !strings.HasPrefix(r.Stdout, "ID ") {
		t.Fatalf("default output on a terminal=%q, want a table", r.Stdout)
	}
	term["ASSIGN_OUTPUT"] = "csv"
	if r := run(t, term, "", "list").mustOK(t); !strings.HasPrefix(r.Stdout, "experiment_id,status,") {
		t.Fatalf("ASSIGN_OUTPUT=csv output=%q", r.Stdout)
	}
	if r := run(t, term, "", "list", "--output", "json").mustOK(t); strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("--output json over ASSIGN_OUTPUT=csv: %q", r.Stdout)
	}
}

func TestExitCode(t *testing.T) {
	if ExitCode(nil) != 0 || ExitCode(usageErrorf("x")) != 2 || ExitCode(context.Canceled) != 1 {
		t.Fatal("exit codes are not 0/2/1")
	}
}
