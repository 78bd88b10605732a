package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

func memberOf(tb testing.TB, s *redisstore.Store, id, user string) (bool, error) {
	tb.Helper()
	_, ok, err := s.MemberGroup(testenv.Context(tb), id, user)
	return ok, err
}

// overrideEvents counts the override events of an experiment's stream.
func overrideEvents(tb testing.TB, s *redisstore.Store, c redis.UniversalClient, id string) int {
	tb.Helper()
	e, err := s.FindExperimentByID(testenv.Context(tb), id)
	if err != nil {
		tb.Fatal(err)
	}
	msgs, err := c.XRange(testenv.Context(tb), redisstore.EventsKey(s.Keys().Prefix(id, e.Layer)), "-", "+").Result()
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Values[redisstore.EventType] == redisstore.EventEnroll && m.Values[redisstore.EventOverride] == "1" {
			n++
		}
	}
	return n
}

func str(s string) *string { return &s }

// QA overrides: the forced group in every state (paused, before the
// schedule, not eligible, full, in a layer the user's slot is not, rolled
// out, a member of another group), marked override, never recorded, counted
// or capped, exported once per override set and flagged; removing one lets
// the user enroll as anyone; GET and updates show them; the bound and the
// group names are checked.
func TestEnroll_Overrides(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		enroll := func(id, user string, claims map[string]any) *assign.Enrollment {
			t.Helper()
			res, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: id, UserID: user, Claims: claims})
			if err != nil {
				t.Fatalf("Enroll(%s, %s): %v", id, user, err)
			}
			return res
		}
		forced := func(res *assign.Enrollment, group string) {
			t.Helper()
			if !res.Enrolled || !res.Override || res.Group != group || res.New || res.RolledOut {
				t.Fatalf("%+v, want the override %s", res, group)
			}
		}
		update := func(id string, upd assign.ExperimentUpdate) *assign.Experiment {
			t.Helper()
			e, err := s.UpdateExperiment(ctx, id, upd, "qa-lead")
			if err != nil {
				t.Fatalf("UpdateExperiment(%s): %v", id, err)
			}
			return e
		}

		x := newExperiment("ovr", 1, 1)
		x.Eligibility = []assign.Rule{{Claim: "country", Equals: "FR"}}
		x.Overrides = map[string]string{"qa-1": "treatment", "4f0c5b0e-8a35-4f5e-9d7c-0a4b9b6f1c11": "control"}
		mustCreate(t, s, x)
		fr := map[string]any{"country": "FR"}
		// Not eligible (no claim) and repeated: the override, once exported.
		for range 3 {
			forced(enroll("ovr", "qa-1", nil), "treatment")
		}
		forced(enroll("ovr", "4f0c5b0e-8a35-4f5e-9d7c-0a4b9b6f1c11", nil), "control") // a UUID user id, as given
		if n := overrideEvents(t, s, c, "ovr"); n != 2 {
			t.Fatalf("%d override events, want 2 (one per override)", n)
		}
		if ok, err := memberOf(t, s, "ovr", "qa-1"); err != nil || ok {
			t.Fatalf("qa-1 recorded as a member: %v %v", ok, err)
		}
		// The cap of 1 is still free for a real user, then full: the override answers.
		member := enroll("ovr", "member", fr)
		if !member.Enrolled || !member.New || member.Override {
			t.Fatalf("member: %+v", member)
		}
		if res := enroll("ovr", "late", fr); res.Reason != assign.ReasonSampleFull {
			t.Fatalf("late: %+v", res)
		}
		forced(enroll("ovr", "qa-1", fr), "treatment")
		if n := checkCounts(t, s, "ovr"); n != 1 {
			t.Fatalf("n=%d, want the one member", n)
		}

		// GET shows them; paused, scheduled later and rolled out: still the override.
		e, err := s.FindExperimentByID(ctx, "ovr")
		if err != nil || len(e.Overrides) != 2 || e.Overrides["qa-1"] != "treatment" {
			t.Fatalf("GET overrides %v, %v", e.Overrides, err)
		}
		paused := assign.StatusPaused
		update("ovr", assign.ExperimentUpdate{Status: &paused, StartAt: assign.SetTime(time.Now().Add(time.Hour))})
		forced(enroll("ovr", "qa-1", nil), "treatment")
		if res := enroll("ovr", "member", fr); res.Override || res.Group != member.Group {
			t.Fatalf("the member while paused: %+v", res)
		}
		winner := "control"
		update("ovr", assign.ExperimentUpdate{Winner: &winner})
		forced(enroll("ovr", "qa-1", nil), "treatment")

		// An override on the member: the forced group; removed: theirs again.
		other := map[string]string{"control": "treatment", "treatment": "control"}[member.Group]
		e = update("ovr", assign.ExperimentUpdate{Overrides: map[string]*string{"member": &other}})
		if e.Overrides["member"] != other || len(e.Overrides) != 3 {
			t.Fatalf("after adding: %v", e.Overrides)
		}
		forced(enroll("ovr", "member", fr), other)
		e = update("ovr", assign.ExperimentUpdate{Overrides: map[string]*string{"member": nil, "qa-1": nil}, Winner: str("")})
		if len(e.Overrides) != 1 {
			t.Fatalf("after removing: %v", e.Overrides)
		}
		if res := enroll("ovr", "member", fr); res.Override || res.Group != member.Group {
			t.Fatalf("the member once their override is removed: %+v", res)
		}
		// qa-1, no longer forced, is a user like another (here: full, paused).
		if res := enroll("ovr", "qa-1", fr); res.Enrolled || res.Override {
			t.Fatalf("qa-1 once removed: %+v", res)
		}
		// Re-set, it is exported again on its next answer.
		update("ovr", assign.ExperimentUpdate{Overrides: map[string]*string{"qa-1": str("control")}})
		forced(enroll("ovr", "qa-1", nil), "control")
		if n := overrideEvents(t, s, c, "ovr"); n != 4 {
			t.Fatalf("%d override events, want 4", n)
		}

		// Removing an override of a user under a cap with room lets them enroll.
		y := newExperiment("ovr-free", 10, 1)
		y.Overrides = map[string]string{"qa-2": "control"}
		mustCreate(t, s, y)
		forced(enroll("ovr-free", "qa-2", nil), "control")
		update("ovr-free", assign.ExperimentUpdate{Overrides: map[string]*string{"qa-2": nil}})
		if res := enroll("ovr-free", "qa-2", nil); !res.Enrolled || !res.New || res.Override {
			t.Fatalf("qa-2 once removed: %+v", res)
		}
		if n := checkCounts(t, s, "ovr-free"); n != 1 {
			t.Fatalf("n=%d, want 1", n)
		}

		// In a layer: the override, whatever slot the layer gives the user.
		for _, id := range []string{"lay-a", "lay-b"} {
			l := newExperiment(id, 100, 1)
			l.Layer = "ovr-layer"
			l.Overrides = map[string]string{"qa-3": "treatment"}
			mustCreate(t, s, l)
		}
		forced(enroll("lay-a", "qa-3", nil), "treatment")
		forced(enroll("lay-b", "qa-3", nil), "treatment")

		// Bounds and names.
		many := newExperiment("ovr-many", 10, 1)
		many.Overrides = map[string]string{}
		for i := range assign.MaxOverrides + 1 {
			many.Overrides[fmt.Sprintf("u%d", i)] = "control"
		}
		if err := s.CreateExperiment(ctx, many); assign.ErrorField(err) != "overrides" {
			t.Fatalf("%d overrides: %v, want EINVALID on overrides", len(many.Overrides), err)
		}
		for _, upd := range []map[string]*string{{"qa-9": str("nobody")}, {"": str("control")}, {"bad\x00id": str("control")}} {
			if _, err := s.UpdateExperiment(ctx, "ovr-free", assign.ExperimentUpdate{Overrides: upd}, "qa-lead"); assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != "overrides" {
				t.Fatalf("%v: %v, want EINVALID on overrides", upd, err)
			}
		}
		fill := map[string]*string{}
		for i := range assign.MaxOverrides {
			fill[fmt.Sprintf("u%d", i)] = str("treatment")
		}
		update("ovr-free", assign.ExperimentUpdate{Overrides: fill})
		if _, err := s.UpdateExperiment(ctx, "ovr-free", assign.ExperimentUpdate{Overrides: map[string]*string{"one-more": str("control")}}, "qa-lead"); assign.ErrorField(err) != "overrides" {
			t.Fatalf("override %d: %v, want EINVALID on overrides", assign.MaxOverrides+1, err)
		}
		forced(enroll("ovr-free", "u499", nil), "treatment")
	})
}
