package redisstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

func TestEnrollmentService_Enroll(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)

		t.Run("Sticky", func(t *testing.T) {
			mustCreate(t, s, newExperiment("sticky", 1000, 0.5))
			var enrolled, notSampled int
			for i := range 200 {
				user := fmt.Sprintf("user-%d", i)
				first := mustEnroll(t, s, "sticky", user)
				if first.Enrolled != first.New {
					t.Fatalf("first answer %+v: a new member must be New", first)
				}
				if first.Enrolled {
					enrolled++
				} else if first.Reason == assign.ReasonNotSampled {
					notSampled++
				} else {
					t.Fatalf("first answer %+v", first)
				}
				for range 2 {
					again := mustEnroll(t, s, "sticky", user)
					if again.Enrolled != first.Enrolled || again.Group != first.Group || again.Reason != first.Reason || again.New {
						t.Fatalf("%s: first %+v, then %+v", user, first, again)
					}
				}
				if g, ok, err := s.MemberGroup(ctx, "sticky", user); err != nil || ok != first.Enrolled || g != first.Group {
					t.Fatalf("MemberGroup(%s)=%q,%v,%v; want %q,%v", user, g, ok, err, first.Group, first.Enrolled)
				}
			}
			// Half are sampled: 200 draws at p=0.5 land in 70..130 with overwhelming probability.
			if enrolled < 70 || notSampled < 70 {
				t.Fatalf("enrolled=%d not_sampled=%d of 200 at p=0.5", enrolled, notSampled)
			}
			if n := checkCounts(t, s, "sticky"); n != int64(enrolled) {
				t.Fatalf("n=%d, want %d", n, enrolled)
			}
		})

		t.Run("Cap", func(t *testing.T) {
			mustCreate(t, s, newExperiment("cap", 25, 1))
			for i := range 60 {
				res := mustEnroll(t, s, "cap", fmt.Sprintf("u%d", i))
				if i < 25 && !res.Enrolled {
					t.Fatalf("user %d: %+v, want enrolled", i, res)
				} else if i >= 25 && res.Reason != assign.ReasonSampleFull {
					t.Fatalf("user %d: %+v, want sample_full", i, res)
				}
			}
			// Members still get their group once full.
			if res := mustEnroll(t, s, "cap", "u3"); !res.Enrolled {
				t.Fatalf("member after full: %+v", res)
			}
			if n := checkCounts(t, s, "cap"); n != 25 {
				t.Fatalf("n=%d, want 25", n)
			}
			e, _ := s.FindExperimentByID(ctx, "cap")
			if e.Stats.Remaining != 0 {
				t.Fatalf("Remaining=%d, want 0", e.Stats.Remaining)
			}
		})

		t.Run("NotRunning", func(t *testing.T) {
			mustCreate(t, s, newExperiment("pause", 100, 1))
			member := mustEnroll(t, s, "pause", "member")
			for _, st := range []assign.Status{assign.StatusPaused, assign.StatusStopped} {
				if _, err := s.UpdateExperiment(ctx, "pause", assign.ExperimentUpdate{Status: &st}, "admin"); err != nil {
					t.Fatal(err)
				}
				if res := mustEnroll(t, s, "pause", "newcomer-"+string(st)); res.Enrolled || res.Reason != assign.ReasonNotRunning {
					t.Fatalf("%s: newcomer got %+v, want not_running", st, res)
				}
				if res := mustEnroll(t, s, "pause", "member"); !res.Enrolled || res.Group != member.Group {
					t.Fatalf("%s: member got %+v, want %q", st, res, member.Group)
				}
			}
			running := assign.StatusRunning
			if _, err := s.UpdateExperiment(ctx, "pause", assign.ExperimentUpdate{Status: &running}, "admin"); err != nil {
				t.Fatal(err)
			}
			if res := mustEnroll(t, s, "pause", "newcomer-paused"); !res.Enrolled || !res.New {
				t.Fatalf("after resume: %+v, want a new member", res)
			}
			if n := checkCounts(t, s, "pause"); n != 2 {
				t.Fatalf("n=%d, want 2", n)
			}
		})

		t.Run("Eligibility", func(t *testing.T) {
			e := newExperiment("elig", 100, 1)
			e.Eligibility = []assign.Rule{{Claim: "first_order", Equals: true}}
			mustCreate(t, s, e)
			enroll := func(user string, claims map[string]any) *assign.Enrollment {
				res, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "elig", UserID: user, Claims: claims})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			if res := enroll("u1", map[string]any{"first_order": false}); res.Enrolled || res.Reason != assign.ReasonNotEligible {
				t.Fatalf("ineligible: %+v", res)
			}
			first := enroll("u2", map[string]any{"first_order": true})
			if !first.Enrolled {
				t.Fatalf("eligible: %+v", first)
			}
			// A member whose claims changed since keeps their group.
			if res := enroll("u2", map[string]any{"first_order": false}); !res.Enrolled || res.Group != first.Group {
				t.Fatalf("member no longer eligible: %+v, want %q", res, first.Group)
			}
			if n := checkCounts(t, s, "elig"); n != 1 {
				t.Fatalf("n=%d, want 1", n)
			}
		})

		t.Run("ChooseGroupAgrees", func(t *testing.T) {
			groups := []assign.Group{{Name: "a", Probability: 0.1}, {Name: "b", Probability: 0.0}, {Name: "c", Probability: 0.6}, {Name: "d", Probability: 0.3}}
			e := mustCreate(t, s, newExperiment("agree", 1_000_000, 0.8, groups...))
			cum := assign.CumulativeProbabilities(groups)
			counts := map[string]int{}
			for i := range 1500 {
				user := fmt.Sprintf("%d", 1000+i)
				draw := assign.NewDraw(e.Salt, e.ID, user)
				res := mustEnroll(t, s, "agree", user)
				if draw.Sampled(e.SamplingProbability) != res.Enrolled {
					t.Fatalf("%s: Go sampled=%v, Lua %+v", user, draw.Sampled(e.SamplingProbability), res)
				}
				if res.Enrolled {
					if want := groups[assign.ChooseGroup(cum, draw.Group)].Name; res.Group != want {
						t.Fatalf("%s: draw %v: Lua chose %q, Go %q", user, draw.Group, res.Group, want)
					}
					counts[res.Group]++
				}
			}
			if counts["b"] != 0 || counts["a"] == 0 || counts["c"] == 0 || counts["d"] == 0 {
				t.Fatalf("counts=%v", counts)
			}
			checkCounts(t, s, "agree")
		})

		t.Run("Rollout", func(t *testing.T) {
			mustCreate(t, s, newExperiment("roll", 50, 1))
			before := map[string]string{}
			for i := range 20 {
				u := fmt.Sprintf("r%d", i)
				before[u] = mustEnroll(t, s, "roll", u).Group
			}
			winner := "treatment"
			paused := assign.StatusStopped
			got, err := s.UpdateExperiment(ctx, "roll", assign.ExperimentUpdate{Winner: &winner, Status: &paused}, "po")
			if err != nil || got.Winner != winner {
				t.Fatalf("rollout: %+v, %v", got, err)
			}
			for u, g := range before {
				res := mustEnroll(t, s, "roll", u)
				if !res.Enrolled || res.Group != winner || !res.RolledOut || res.New {
					t.Fatalf("member %s: %+v, want rolled-out %q", u, res, winner)
				}
				// The record of the experiment is kept.
				if rec, ok, err := s.MemberGroup(ctx, "roll", u); err != nil || !ok || rec != g {
					t.Fatalf("member %s record=%q,%v,%v; want %q", u, rec, ok, err, g)
				}
			}
			if res := mustEnroll(t, s, "roll", "late"); !res.Enrolled || res.Group != winner || !res.RolledOut {
				t.Fatalf("newcomer: %+v, want rolled-out %q", res, winner)
			}
			if _, ok, _ := s.MemberGroup(ctx, "roll", "late"); ok {
				t.Fatalf("rolled-out newcomer was recorded as a member")
			}
			if n := checkCounts(t, s, "roll"); n != 20 {
				t.Fatalf("n=%d, want 20", n)
			}
			// Clearing the winner gives members their own group back.
			if _, err := s.UpdateExperiment(ctx, "roll", assign.ExperimentUpdate{Winner: new("")}, "po"); err != nil {
				t.Fatal(err)
			}
			for u, g := range before {
				if res := mustEnroll(t, s, "roll", u); res.Group != g || res.RolledOut {
					t.Fatalf("member %s after clearing: %+v, want %q", u, res, g)
				}
			}
		})

		t.Run("ProbabilityChangeKeepsMembers", func(t *testing.T) {
			mustCreate(t, s, newExperiment("reweigh", 1000, 1))
			before := map[string]string{}
			for i := range 50 {
				u := fmt.Sprintf("w%d", i)
				before[u] = mustEnroll(t, s, "reweigh", u).Group
			}
			if _, err := s.UpdateExperiment(ctx, "reweigh", assign.ExperimentUpdate{
				Groups: []assign.Group{{Name: "control", Probability: 0}, {Name: "treatment", Probability: 1}},
			}, "po"); err != nil {
				t.Fatal(err)
			}
			for u, g := range before {
				if res := mustEnroll(t, s, "reweigh", u); res.Group != g {
					t.Fatalf("member %s: %+v, want %q", u, res, g)
				}
			}
			for i := range 20 {
				if res := mustEnroll(t, s, "reweigh", fmt.Sprintf("n%d", i)); res.Group != "treatment" {
					t.Fatalf("newcomer: %+v, want treatment", res)
				}
			}
		})

		t.Run("Replay", func(t *testing.T) {
			// Every script call runs twice, as when a pipeline is retried
			// after the server executed it.
			mustCreate(t, s, newExperiment("replay", 100, 1))
			orig := s.Scripter
			s.Scripter = replayScripter{c}
			defer func() { s.Scripter = orig }()
			for i := range 30 {
				u := fmt.Sprintf("p%d", i)
				res := mustEnroll(t, s, "replay", u)
				if g, ok, err := s.MemberGroup(ctx, "replay", u); err != nil || !ok || g != res.Group {
					t.Fatalf("%s: answer %+v, record %q,%v,%v", u, res, g, ok, err)
				}
			}
			if n := checkCounts(t, s, "replay"); n != 30 {
				t.Fatalf("n=%d, want 30", n)
			}
			msgs, err := c.XRange(ctx, redisstore.EventsKey(s.Keys().Prefix("replay", "")), "-", "+").Result()
			if err != nil || len(msgs) != 31 {
				t.Fatalf("%d events, %v; want 1 config + 30 enroll", len(msgs), err)
			}
		})

		t.Run("Events", func(t *testing.T) {
			mustCreate(t, s, newExperiment("ev", 100, 1))
			user := "2f1c8a8e-5a38-4b8e-9d62-0f0e2b7c1a11"
			res := mustEnroll(t, s, "ev", user)
			msgs, err := c.XRange(ctx, redisstore.EventsKey(s.Keys().Prefix("ev", "")), "-", "+").Result()
			if err != nil || len(msgs) != 2 {
				t.Fatalf("%d events, %v", len(msgs), err)
			}
			v := msgs[1].Values
			if v[redisstore.EventType] != redisstore.EventEnroll || v[redisstore.EventUser] != user || v[redisstore.EventGroup] != res.Group {
				t.Fatalf("event=%v, want enroll of %s in %s", v, user, res.Group)
			}
			if ts, _ := v[redisstore.EventTime].(string); len(ts) != 13 {
				t.Fatalf("ts=%q, want unix milliseconds", ts)
			}
			var m assign.Member
			if err := s.Members(ctx, "ev", func(x assign.Member) error { m = x; return nil }); err != nil {
				t.Fatal(err)
			} else if m.UserID != user || m.Group != res.Group || m.EnrolledAt.IsZero() {
				t.Fatalf("member=%+v", m)
			}
		})

		// Draws and probabilities near 0 are sent to Lua in fixed notation:
		// gopher-lua (the embedded miniredis) cannot parse "5e-05".
		t.Run("TinyNumbers", func(t *testing.T) {
			mustCreate(t, s, newExperiment("tiny-p", 10, 1e-12))
			if res := mustEnroll(t, s, "tiny-p", "someone"); res.Reason != assign.ReasonNotSampled {
				t.Fatalf("p=1e-12: %+v, want not_sampled", res)
			}
			mustCreate(t, s, newExperiment("tiny-draw", 10, 1))
			e, err := s.FindExperimentByID(ctx, "tiny-draw")
			if err != nil {
				t.Fatal(err)
			}
			user := ""
			for i := 0; user == ""; i++ {
				if id := fmt.Sprint("u", i); assign.NewDraw(e.Salt, e.ID, id).Sample < 1e-4 {
					user = id
				}
			}
			if res := mustEnroll(t, s, "tiny-draw", user); !res.Enrolled {
				t.Fatalf("user with a draw below 1e-4: %+v, want enrolled", res)
			}
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []string{"nope", "", "bad id"} {
				if _, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: id, UserID: "u"}); assign.ErrorCode(err) != assign.ENOTFOUND {
					t.Fatalf("Enroll(%q): %v, want not_found", id, err)
				}
			}
			// Not cached: the experiment is found once it exists.
			mustCreate(t, s, newExperiment("nope", 10, 1))
			if res := mustEnroll(t, s, "nope", "u"); !res.Enrolled {
				t.Fatalf("%+v", res)
			}
		})

		t.Run("ErrInvalid", func(t *testing.T) {
			mustCreate(t, s, newExperiment("inv", 10, 1))
			for _, u := range []string{"", string(make([]byte, 257))} {
				if _, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "inv", UserID: u}); assign.ErrorCode(err) != assign.EINVALID {
					t.Fatalf("user of %d bytes: %v, want invalid", len(u), err)
				}
			}
		})

		t.Run("ErrUnavailable", func(t *testing.T) {
			mustCreate(t, s, newExperiment("late", 10, 1))
			mustEnroll(t, s, "late", "warm") // cache the definition
			expired, cancel := context.WithTimeout(ctx, 0)
			defer cancel()
			if _, err := s.Enroll(expired, assign.EnrollRequest{ExperimentID: "late", UserID: "u"}); assign.ErrorCode(err) != assign.EUNAVAILABLE {
				t.Fatalf("expired context: %v, want unavailable", err)
			}
		})
	})
}

// replayScripter runs every EVALSHA twice and answers with the second reply,
// as a retried pipeline would.
type replayScripter struct{ redis.UniversalClient }

func (r replayScripter) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *redis.Cmd {
	if err := r.UniversalClient.EvalSha(ctx, sha, keys, args...).Err(); err != nil {
		return redis.NewCmdResult(nil, err)
	}
	return r.UniversalClient.EvalSha(ctx, sha, keys, args...)
}
