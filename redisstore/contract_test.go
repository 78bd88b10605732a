package redisstore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/scripts"
)

// Issue 10, item 3: after Redis loses an experiment and an admin creates the
// same id again with other groups and rules, a running process (another
// Store: another assignd, with its own definition cache) must answer from
// the new definition: the enrollment script refuses its cached one (another
// fingerprint, though the bucket layout is the same) and it reloads. Before,
// it kept the old salt, rules and groups: users were told a group of the old
// list while Redis recorded another, and whoever drew a group past the old
// list's end got "unknown group".
func TestEnroll_RecreatedExperiment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		running := redisstore.New(c, s.Keys()) // the process that lives through the loss
		old := mustCreate(t, s, newExperiment("recreated", 1000, 1,
			assign.Group{Name: "a", Probability: 0.5}, assign.Group{Name: "b", Probability: 0.5}))
		for i := range 40 {
			mustEnroll(t, running, old.ID, fmt.Sprint("before-", i))
		}
		flush(t, c, s.Keys().Namespace)

		// The same id and cap (so the same bucket layout), other groups and
		// an eligibility rule.
		e := newExperiment("recreated", 1000, 1,
			assign.Group{Name: "x", Probability: 0.2}, assign.Group{Name: "y", Probability: 0.3}, assign.Group{Name: "z", Probability: 0.5})
		e.Eligibility = []assign.Rule{{Claim: "country", In: []any{"FR", "DE"}}}
		mustCreate(t, s, e)
		fr := map[string]any{"country": "FR"}
		// Members of the new experiment made by the other process.
		want := map[string]string{}
		for i := range 20 {
			u := fmt.Sprint("before-", i) // members of the old one too
			res, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: e.ID, UserID: u, Claims: fr})
			if err != nil || !res.New {
				t.Fatalf("%s through the creating process: %+v, %v", u, res, err)
			}
			want[u] = res.Group
		}
		for i := 20; i < 40; i++ {
			u := fmt.Sprint("before-", i)
			res, err := running.Enroll(ctx, assign.EnrollRequest{ExperimentID: e.ID, UserID: u, Claims: fr})
			if err != nil {
				t.Fatalf("%s through the running process: %v", u, err)
			} else if !res.New {
				t.Fatalf("%s through the running process: %+v, want a new member of the new experiment", u, res)
			}
			want[u] = res.Group
		}
		// The new rules hold in the running process.
		if res, err := running.Enroll(ctx, assign.EnrollRequest{ExperimentID: e.ID, UserID: "elsewhere", Claims: map[string]any{"country": "US"}}); err != nil || res.Enrolled || res.Reason != assign.ReasonNotEligible {
			t.Fatalf("a user the new rules refuse, through the running process: %+v, %v", res, err)
		}
		for u, g := range want {
			for name, p := range map[string]*redisstore.Store{"creating": s, "running": running} {
				res, err := p.Enroll(ctx, assign.EnrollRequest{ExperimentID: e.ID, UserID: u, Claims: fr})
				if err != nil || res.New || res.Group != g {
					t.Fatalf("%s again through the %s process: %+v, %v; want %s", u, name, res, err, g)
				}
			}
			if rec, ok, err := s.MemberGroup(ctx, e.ID, u); err != nil || !ok || rec != g {
				t.Fatalf("%s is recorded in %q (%v, %v), answered %q", u, rec, ok, err, g)
			}
			if g != "x" && g != "y" && g != "z" {
				t.Fatalf("%s answered %q, a group of the lost experiment", u, g)
			}
		}
		if n := checkCounts(t, s, e.ID); n != 40 {
			t.Fatalf("n=%d, want 40", n)
		}
	})
}

// An experiment created again in another layer (so under another key
// prefix) is found by a process that cached it where it was.
func TestEnroll_RecreatedInAnotherLayer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		running := redisstore.New(c, s.Keys())
		old := newExperiment("moved", 100, 1)
		old.Layer = "first"
		mustCreate(t, s, old)
		mustEnroll(t, running, old.ID, "u-0")
		flush(t, c, s.Keys().Namespace)
		e := newExperiment("moved", 100, 1, assign.Group{Name: "only", Probability: 1})
		e.Layer = "second"
		mustCreate(t, s, e)
		for i := range 5 {
			res, err := running.Enroll(ctx, assign.EnrollRequest{ExperimentID: e.ID, UserID: fmt.Sprint("u-", i)})
			if err != nil || res.Group != "only" || !res.New {
				t.Fatalf("u-%d through the running process: %+v, %v", i, res, err)
			}
		}
		if owner, ok, err := s.LayerOwner(ctx, "second", "u-0"); err != nil || !ok || owner != e.ID {
			t.Fatalf("owner in the new layer: %q %v %v", owner, ok, err)
		}
	})
}

// A restore rebuilds the same definition and t0, so the same fingerprint: a
// process that cached the experiment before the loss is refused for its
// layout only when that changed, never for its definition.
func TestRestore_KeepsTheFingerprint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		e := newExperiment("same-fp", 100, 1)
		e.Eligibility = []assign.Rule{{Claim: "plan", Equals: "pro"}}
		mustCreate(t, s, e)
		config := redisstore.ConfigKey(s.Keys().Prefix(e.ID, ""))
		before, err := c.HGet(ctx, config, redisstore.FieldFingerprint).Result()
		if err != nil {
			t.Fatal(err)
		}
		saved, err := s.FindExperimentByID(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		flush(t, c, s.Keys().Namespace)
		saved.Stats = nil
		if created, err := s.RestoreExperiment(ctx, saved); err != nil || !created {
			t.Fatalf("RestoreExperiment: %v %v", created, err)
		}
		if after, err := c.HGet(ctx, config, redisstore.FieldFingerprint).Result(); err != nil || after != before {
			t.Fatalf("fingerprint %q after the restore (%v), %q before", after, err, before)
		}
	})
}

// The creation script tells a replay of its own call (go-redis retries a
// call whose reply timed out, and a creation's first run may well have
// succeeded) from another experiment holding the id: the fingerprint is the
// same only for the same call, whose salt is new. A replay is a success, not
// a conflict.
func TestScripts_CreateReplay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		prefix := s.Keys().Prefix("replayed", "")
		create := func(fp string) int64 {
			t.Helper()
			args := make([]any, scripts.CreateArgFields-1)
			args[scripts.CreateArgConsumerGroup-1] = redisstore.ConsumerGroup
			args[scripts.CreateArgBy-1] = "ops"
			args[scripts.CreateArgEvent-1] = "{}"
			args[scripts.CreateArgID-1] = "replayed"
			args[scripts.CreateArgOwnerBuckets-1] = "1024"
			args[scripts.CreateArgFP-1] = fp
			args[scripts.CreateArgOverrides-1] = "0"
			args[scripts.CreateArgChannel-1] = s.Keys().ChangeChannel()
			args = append(args, redisstore.FieldFingerprint, fp, redisstore.FieldStatus, "running", redisstore.FieldWinner, "-1")
			n, err := scripts.Create.Run(ctx, c, []string{redisstore.ConfigKey(prefix), redisstore.EventsKey(prefix), redisstore.OverridesKey(prefix)}, args...).Int64()
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := create("aaaa"); n != scripts.ReplyCreated {
			t.Fatalf("first call: %d", n)
		}
		if n := create("aaaa"); n != scripts.ReplySame {
			t.Fatalf("the same call again: %d, want %d", n, scripts.ReplySame)
		}
		if n := create("bbbb"); n != scripts.ReplyExists {
			t.Fatalf("another experiment: %d, want %d", n, scripts.ReplyExists)
		}
		if n, err := c.XLen(ctx, redisstore.EventsKey(prefix)).Result(); err != nil || n != 1 {
			t.Fatalf("%d config events (%v), want 1", n, err)
		}
	})
}

// The other scripts refuse another definition too: an update computed from
// the lost experiment (same version, 1) and a restore batch computed from
// it write nothing.
func TestScripts_RefuseAnotherDefinition(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		mustCreate(t, s, newExperiment("other-def", 100, 1))
		prefix := s.Keys().Prefix("other-def", "")
		config := redisstore.ConfigKey(prefix)
		fp, err := c.HGet(ctx, config, redisstore.FieldFingerprint).Result()
		if err != nil || len(fp) != 16 {
			t.Fatalf("fingerprint %q (%v)", fp, err)
		}
		stale := strings.Repeat("0", 16)
		if n, err := scripts.Update.Run(ctx, c, []string{config, redisstore.EventsKey(prefix), redisstore.OverridesKey(prefix)},
			"1", stale, "ops", "{}", "0", redisstore.FieldStatus, "paused").Int(); err != nil || n != scripts.ReplyMoved {
			t.Fatalf("update from another definition: %d (%v), want %d", n, err, scripts.ReplyMoved)
		}
		if n, err := scripts.Restore.Run(ctx, c, []string{config, redisstore.MembersKey(prefix, 0)},
			stale, "1", 1, 2, "someone", 0, 0).Int(); err != nil || n != scripts.ReplyStale {
			t.Fatalf("restore from another definition: %d (%v), want %d", n, err, scripts.ReplyStale)
		}
		if e, err := s.FindExperimentByID(ctx, "other-def"); err != nil || e.Status != assign.StatusRunning || e.Stats.Enrolled != 0 {
			t.Fatalf("after the refused calls: %+v (%v)", e, err)
		}
		if n, err := scripts.Restore.Run(ctx, c, []string{config, redisstore.MembersKey(prefix, 0)},
			fp, "1", 1, 2, "someone", 0, 0).Int(); err != nil || n != 1 {
			t.Fatalf("restore from this definition: %d (%v), want 1", n, err)
		}
	})
}

// The Go and Lua sides of the contract agree at their edges: the last group
// an experiment may have (index assign.MaxGroups-1) comes back through every
// reply band (new, existing, rolled out) and the member encoding, with
// enrollment times far from t0. A script encoding or decoding with other
// numbers than Go's would answer another group here.
func TestScriptContract_RoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		groups := make([]assign.Group, assign.MaxGroups)
		for i := range groups {
			groups[i] = assign.Group{Name: fmt.Sprint("g", i)}
		}
		last := groups[len(groups)-1].Name
		groups[len(groups)-1].Probability = 1 // everyone joins the last group
		e := mustCreate(t, s, newExperiment("edges", 10, 1, groups...))
		// s.Now is days before Redis's TIME: the member value's seconds are
		// far from 0.
		if res := mustEnroll(t, s, e.ID, "u"); !res.New || res.Group != last {
			t.Fatalf("new: %+v, want %s", res, last)
		}
		if res := mustEnroll(t, s, e.ID, "u"); res.New || res.RolledOut || res.Group != last {
			t.Fatalf("existing: %+v, want %s", res, last)
		}
		if g, ok, err := s.MemberGroup(ctx, e.ID, "u"); err != nil || !ok || g != last {
			t.Fatalf("MemberGroup: %q %v %v", g, ok, err)
		}
		ms := readMembers(t, s, e.ID)
		if len(ms) != 1 || ms[0].Group != last || !ms[0].EnrolledAt.After(s.Now().Add(-1)) {
			t.Fatalf("members: %+v", ms)
		}
		for _, r := range []struct {
			want assign.Reason
			upd  assign.ExperimentUpdate
		}{
			{assign.ReasonNotRunning, assign.ExperimentUpdate{Status: ptr(assign.StatusPaused)}},
			{assign.ReasonNotSampled, assign.ExperimentUpdate{Status: ptr(assign.StatusRunning), SamplingProbability: ptr(1e-9)}},
			{assign.ReasonSampleFull, assign.ExperimentUpdate{SamplingProbability: ptr(1.0), MaxSampleSize: ptr(int64(1))}},
		} {
			if _, err := s.UpdateExperiment(ctx, e.ID, r.upd, "ops"); err != nil {
				t.Fatal(err)
			}
			if res := mustEnroll(t, s, e.ID, "newcomer"); res.Enrolled || res.Reason != r.want {
				t.Fatalf("%+v, want %s", res, r.want)
			}
		}
		if _, err := s.UpdateExperiment(ctx, e.ID, assign.ExperimentUpdate{Winner: &last}, "ops"); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"u", "newcomer"} {
			if res := mustEnroll(t, s, e.ID, u); !res.RolledOut || res.Group != last {
				t.Fatalf("rolled out, %s: %+v, want %s", u, res, last)
			}
		}
		if _, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "missing", UserID: "u"}); assign.ErrorCode(err) != assign.ENOTFOUND {
			t.Fatalf("missing experiment: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// Issue 10, item 7 (in part): one corrupt configuration hash no longer turns
// the whole listing into an error: the others are listed, the corrupt one
// with only its id and the problem.
func TestExperimentService_FindExperiments_Corrupt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		for _, id := range []string{"a-good", "b-bad-field", "c-bad-def", "d-not-a-hash", "e-good"} {
			mustCreate(t, s, newExperiment(id, 10, 1))
		}
		config := func(id string) string { return redisstore.ConfigKey(s.Keys().Prefix(id, "")) }
		if err := c.HSet(ctx, config("b-bad-field"), redisstore.FieldMax, "many").Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.HSet(ctx, config("c-bad-def"), redisstore.FieldDefinition, "{not json").Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.Del(ctx, config("d-not-a-hash")).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, config("d-not-a-hash"), "a string", 0).Err(); err != nil {
			t.Fatal(err)
		}
		list, next, err := s.FindExperiments(ctx, assign.ExperimentFilter{})
		if err != nil || next != "" || len(list) != 5 {
			t.Fatalf("FindExperiments: %d experiments, %q, %v; want all 5", len(list), next, err)
		}
		for _, e := range list {
			bad := strings.Contains(e.ID, "bad") || strings.Contains(e.ID, "not-a-hash")
			switch {
			case bad && (e.Problem == "" || e.Stats != nil || e.Groups != nil || e.Status != ""):
				t.Errorf("%s: %+v, want only its id and a problem", e.ID, e)
			case !bad && (e.Problem != "" || e.Stats == nil || e.Status != assign.StatusRunning):
				t.Errorf("%s: %+v, want it listed as usual", e.ID, e)
			}
		}
		if p := list[1].Problem; !strings.Contains(p, "max") {
			t.Errorf("problem of the bad field: %q", p)
		}
		if p := list[3].Problem; !strings.Contains(p, "WRONGTYPE") {
			t.Errorf("problem of the string key: %q", p)
		}
		// Read alone, a corrupt experiment is still an error.
		if _, err := s.FindExperimentByID(ctx, "b-bad-field"); assign.ErrorCode(err) != assign.EINTERNAL {
			t.Fatalf("FindExperimentByID of the corrupt one: %v", err)
		}
		// Pages still work around it.
		page, next, err := s.FindExperiments(ctx, assign.ExperimentFilter{Limit: 2, After: "a-good"})
		if err != nil || len(page) != 2 || page[0].ID != "b-bad-field" || next != "c-bad-def" {
			t.Fatalf("a page: %+v %q %v", page, next, err)
		}
	})
}
