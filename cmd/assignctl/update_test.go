package main

import (
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/client/clienttest"
)

func TestUpdateCommand(t *testing.T) {
	srv, env := serverEnv(t)
	createN(t, srv, "e-1")

	var e assign.Experiment
	run(t, env, "", "update", "e-1", "--sampling", "0.25", "--max", "500").mustOK(t).json(t, &e)
	if e.SamplingProbability != 0.25 || e.MaxSampleSize != 500 || e.Version != 2 || e.UpdatedBy != clienttest.AdminName {
		t.Fatalf("after update: %+v", e)
	}
	// One group named: the other keeps its place; the sum must still be 1.
	run(t, env, "", "update", "e-1", "--group", "new_journey=0.8", "--group", "old_journey=0.2").mustOK(t).json(t, &e)
	if e.Groups[0] != (assign.Group{Name: "old_journey", Probability: 0.2}) || e.Groups[1].Probability != 0.8 || e.Version != 3 {
		t.Fatalf("after groups: %+v", e.Groups)
	}
	run(t, env, "", "update", "e-1", "--group", "new_journey=0.5").mustCode(t, ExitError, "sum to")
	run(t, env, "", "update", "e-1", "--group", "nobody=0.5").mustCode(t, ExitError, `no group "nobody"`)
	run(t, env, "", "update", "e-1", "--status", "paused", "--output", "csv").mustOK(t)
	if got, _ := srv.Client.Experiment(t.Context(), "e-1"); got.Status != assign.StatusPaused {
		t.Fatalf("status=%q", got.Status)
	}

	run(t, env, "", "update", "e-1").mustCode(t, ExitUsage, "nothing to change")
	run(t, env, "", "update", "e-1", "--status", "sleeping").mustCode(t, ExitUsage, "--status must be")
	run(t, env, "", "update", "--sampling", "0.5").mustCode(t, ExitUsage, "want 1 argument(s)")
	run(t, env, "", "update", "e-1", "--sampling", "1.5").mustCode(t, ExitError, "sampling_probability")
	run(t, env, "", "update", "nope", "--max", "5").mustCode(t, ExitError, "not found")
}

// pause, resume and stop change the status alone; enrollment answers follow.
func TestStatusCommands(t *testing.T) {
	srv, env := serverEnv(t)
	createN(t, srv, "e-1")
	enroll := func(user string) *assign.Enrollment {
		e, err := srv.Client.Enroll(t.Context(), clienttest.UserToken(t, user, nil), "e-1")
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	member := enroll("member")

	for _, tc := range []struct {
		cmd    string
		status assign.Status
	}{{"pause", assign.StatusPaused}, {"resume", assign.StatusRunning}, {"stop", assign.StatusStopped}} {
		var e assign.Experiment
		run(t, env, "", tc.cmd, "e-1").mustOK(t).json(t, &e)
		if e.Status != tc.status {
			t.Fatalf("%s: status=%q, want %q", tc.cmd, e.Status, tc.status)
		}
		newcomer := enroll("new-after-" + tc.cmd)
		if running := tc.status == assign.StatusRunning; newcomer.Enrolled != running || (!running && newcomer.Reason != assign.ReasonNotRunning) {
			t.Fatalf("%s: newcomer=%+v", tc.cmd, newcomer)
		}
		if again := enroll("member"); again.Group != member.Group {
			t.Fatalf("%s: member moved from %q to %q", tc.cmd, member.Group, again.Group)
		}
	}
	r := run(t, env, "", "pause", "e-1", "--output", "table").mustOK(t)
	if !strings.Contains(r.Stdout, "paused") {
		t.Fatalf("table=%q", r.Stdout)
	}
	run(t, env, "", "stop").mustCode(t, ExitUsage, "want 1 argument(s)")
	run(t, env, "", "resume", "nope").mustCode(t, ExitError, "not found")
}

// rollout gives the winner to everyone, members of the other group included,
// and the record of the members' own groups stays.
func TestRolloutCommand(t *testing.T) {
	srv, env := serverEnv(t)
	createN(t, srv, "e-1")
	groups := map[string]string{}
	for i := range 20 {
		user := "u" + string(rune('a'+i))
		e, err := srv.Client.Enroll(t.Context(), clienttest.UserToken(t, user, nil), "e-1")
		if err != nil {
			t.Fatal(err)
		}
		groups[user] = e.Group
	}
	var e assign.Experiment
	run(t, env, "", "rollout", "e-1", "new_journey").mustOK(t).json(t, &e)
	if e.Winner != "new_journey" {
		t.Fatalf("winner=%q", e.Winner)
	}
	sawOld := false
	for user, own := range groups {
		got, err := srv.Client.Enroll(t.Context(), clienttest.UserToken(t, user, nil), "e-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Group != "new_journey" {
			t.Fatalf("%s (was %s) now gets %q, want the winner", user, own, got.Group)
		}
		if rec, ok, err := srv.Store.MemberGroup(t.Context(), "e-1", user); err != nil || !ok || rec != own {
			t.Fatalf("%s: recorded group %q ok=%v err=%v, want %q kept", user, rec, ok, err, own)
		}
		sawOld = sawOld || own == "old_journey"
	}
	if !sawOld {
		t.Fatal("no member of old_journey among 20 users: the test proves nothing")
	}
	r := run(t, env, "", "show", "e-1", "--output", "table").mustOK(t)
	if !strings.Contains(r.Stdout, "Winner:") || !strings.Contains(r.Stdout, "new_journey (rolled out") {
		t.Fatalf("show after rollout:\n%s", r.Stdout)
	}
	run(t, env, "", "rollout", "e-1", "nobody").mustCode(t, ExitError, "")
	run(t, env, "", "rollout", "e-1").mustCode(t, ExitUsage, "want 2 argument(s)")
}

// --start-at and --end-at schedule an experiment at creation and in an
// update; none clears a bound; show prints the schedule and the effective
// status.
func TestScheduleFlags(t *testing.T) {
	_, env := serverEnv(t)
	var e assign.Experiment
	run(t, env, "", "create", "--id", "s-1", "--max", "10", "--group", "a=1",
		"--start-at", "2099-01-01T00:00:00Z", "--end-at", "2099-02-01T00:00:00+01:00").mustOK(t)
	run(t, env, "", "show", "s-1", "--output", "json").mustOK(t).json(t, &e)
	if e.StartAt == nil || !e.StartAt.Equal(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		e.EndAt == nil || !e.EndAt.Equal(time.Date(2099, 1, 31, 23, 0, 0, 0, time.UTC)) || e.EffectiveStatus != assign.EffectiveScheduled {
		t.Fatalf("created: start %v end %v effective %s", e.StartAt, e.EndAt, e.EffectiveStatus)
	}
	out := run(t, env, "", "show", "s-1", "--output", "table").mustOK(t).Stdout
	for _, want := range []string{"Effective status:", "scheduled", "Schedule:", "2099-01-01T00:00:00Z to 2099-01-31T23:00:00Z"} {
		if !strings.Contains(out, want) {
			t.Fatalf("show lacks %q:\n%s", want, out)
		}
	}
	e = assign.Experiment{}
	run(t, env, "", "update", "s-1", "--start-at", "none").mustOK(t).json(t, &e)
	if e.StartAt != nil || e.EndAt == nil || e.EffectiveStatus != assign.StatusRunning {
		t.Fatalf("after --start-at none: start %v end %v effective %s", e.StartAt, e.EndAt, e.EffectiveStatus)
	}
	run(t, env, "", "update", "s-1", "--start-at", "2099-03-01T00:00:00Z").mustCode(t, ExitError, "end_at")
	run(t, env, "", "update", "s-1", "--end-at", "soon").mustCode(t, ExitUsage, "--end-at")
	run(t, env, "", "create", "--max", "10", "--group", "a=1", "--start-at", "monday").mustCode(t, ExitUsage, "--start-at")
}

// --override and --clear-override set and remove QA overrides; the forced
// user is answered the group marked override; show lists them.
func TestOverrideFlags(t *testing.T) {
	srv, env := serverEnv(t)
	run(t, env, "", "create", "--id", "o-1", "--max", "10", "--group", "old_journey=0.5", "--group", "new_journey=0.5",
		"--override", "user-1=new_journey", "--override", "a=b=old_journey").mustOK(t)
	var e assign.Experiment
	run(t, env, "", "show", "o-1", "--output", "json").mustOK(t).json(t, &e)
	if len(e.Overrides) != 2 || e.Overrides["user-1"] != "new_journey" || e.Overrides["a=b"] != "old_journey" {
		t.Fatalf("created overrides %v", e.Overrides)
	}
	res, err := srv.Client.Enroll(t.Context(), clienttest.UserToken(t, "user-1", nil), "o-1")
	if err != nil || !res.Override || res.Group != "new_journey" {
		t.Fatalf("enroll user-1: %+v %v", res, err)
	}
	out := run(t, env, "", "show", "o-1", "--output", "table").mustOK(t).Stdout
	if !strings.Contains(out, "OVERRIDE USER") || !strings.Contains(out, "user-1") {
		t.Fatalf("show lacks the overrides:\n%s", out)
	}
	e = assign.Experiment{}
	run(t, env, "", "update", "o-1", "--override", "user-2=old_journey", "--clear-override", "user-1").mustOK(t).json(t, &e)
	if len(e.Overrides) != 2 || e.Overrides["user-2"] != "old_journey" || e.Overrides["user-1"] != "" {
		t.Fatalf("updated overrides %v", e.Overrides)
	}
	if res, err := srv.Client.Enroll(t.Context(), clienttest.UserToken(t, "user-1", nil), "o-1"); err != nil || res.Override || !res.Enrolled {
		t.Fatalf("user-1 once cleared: %+v %v", res, err)
	}
	run(t, env, "", "update", "o-1", "--override", "user-3=nobody").mustCode(t, ExitError, "overrides")
	run(t, env, "", "update", "o-1", "--override", "user-3").mustCode(t, ExitUsage, "want user=group")
	run(t, env, "", "update", "o-1", "--override", "u=old_journey", "--clear-override", "u").mustCode(t, ExitUsage, "both")
}
