package redisstore_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

func TestExperimentService_CreateExperiment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		t.Run("OK", func(t *testing.T) {
			e := newExperiment("f380739f-62f3-4316-8acf-93ed5744cb9e", 250, 0.3,
				assign.Group{Name: "old_journey", Probability: 0.5}, assign.Group{Name: "new_journey", Probability: 0.5})
			e.Eligibility = []assign.Rule{{Claim: "first_order", Equals: true}}
			e.UpdatedBy = "admin"
			mustCreate(t, s, e)
			if e.Status != assign.StatusRunning || e.Version != 1 || len(e.Salt) != 32 {
				t.Fatalf("Status=%q Version=%d Salt=%q, want running, 1, 32 hex digits", e.Status, e.Version, e.Salt)
			}
			got, err := s.FindExperimentByID(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := *e
			want.Stats = &assign.ExperimentStats{Enrolled: 0, Remaining: 250, PerGroup: map[string]int64{"old_journey": 0, "new_journey": 0}}
			want.EffectiveStatus = assign.StatusRunning
			if a, b := mustJSON(t, got), mustJSON(t, &want); a != b {
				t.Fatalf("FindExperimentByID=%s\nwant %s", a, b)
			}
			// The creation is exported as a config event, and the stream has
			// the warehouse's consumer group from the start.
			prefix := s.Keys().Prefix(e.ID, "")
			msgs, err := c.XRange(ctx, redisstore.EventsKey(prefix), "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			} else if len(msgs) != 1 || msgs[0].Values[redisstore.EventType] != redisstore.EventConfig || msgs[0].Values[redisstore.EventBy] != "admin" {
				t.Fatalf("events=%v, want one config event by admin", msgs)
			}
			var ev assign.Experiment
			if err := json.Unmarshal([]byte(msgs[0].Values[redisstore.EventExperiment].(string)), &ev); err != nil || ev.ID != e.ID || ev.MaxSampleSize != 250 {
				t.Fatalf("config event experiment=%+v (%v)", ev, err)
			}
			groups, err := c.XInfoGroups(ctx, redisstore.EventsKey(prefix)).Result()
			if err != nil || len(groups) != 1 || groups[0].Name != redisstore.ConsumerGroup {
				t.Fatalf("consumer groups=%v (%v), want %q", groups, err, redisstore.ConsumerGroup)
			}
			if ok, err := c.SIsMember(ctx, s.Keys().Streams(), redisstore.EventsKey(prefix)).Result(); err != nil || !ok {
				t.Fatalf("stream not in %s (%v)", s.Keys().Streams(), err)
			}
		})
		t.Run("GeneratedID", func(t *testing.T) {
			e := mustCreate(t, s, newExperiment("", 10, 1))
			if len(e.ID) != 36 {
				t.Fatalf("ID=%q, want a UUID", e.ID)
			}
			if _, err := s.FindExperimentByID(ctx, e.ID); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("ErrConflict", func(t *testing.T) {
			mustCreate(t, s, newExperiment("dup", 10, 1))
			err := s.CreateExperiment(ctx, newExperiment("dup", 99, 1))
			if got, want := assign.ErrorCode(err), assign.ECONFLICT; got != want {
				t.Fatalf("code=%q (%v), want %q", got, err, want)
			}
			// The same id in a layer is the same id.
			e := newExperiment("dup", 10, 1)
			e.Layer = "checkout"
			if got, want := assign.ErrorCode(s.CreateExperiment(ctx, e)), assign.ECONFLICT; got != want {
				t.Fatalf("code=%q in a layer, want %q", got, want)
			}
			got, err := s.FindExperimentByID(ctx, "dup")
			if err != nil || got.MaxSampleSize != 10 || got.Layer != "" {
				t.Fatalf("after conflicts: %+v, %v; want the first experiment unchanged", got, err)
			}
		})
		t.Run("Layer", func(t *testing.T) {
			e := newExperiment("in-layer", 10, 1)
			e.Layer = "checkout"
			mustCreate(t, s, e)
			got, err := s.FindExperimentByID(ctx, "in-layer")
			if err != nil || got.Layer != "checkout" {
				t.Fatalf("got %+v, %v", got, err)
			}
			if n, err := c.Exists(ctx, s.Keys().Prefix("in-layer", "checkout")).Result(); err != nil || n != 1 {
				t.Fatalf("config not under the layer's prefix: %d, %v", n, err)
			}
			if res := mustEnroll(t, s, "in-layer", "u1"); !res.Enrolled {
				t.Fatalf("Enroll=%+v", res)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			for name, e := range map[string]*assign.Experiment{
				"ZeroMax":    newExperiment("x1", 0, 1),
				"BadP":       newExperiment("x2", 10, 1.5),
				"BadSum":     newExperiment("x3", 10, 1, assign.Group{Name: "a", Probability: 0.5}, assign.Group{Name: "b", Probability: 0.4}),
				"Duplicate":  newExperiment("x4", 10, 1, assign.Group{Name: "a", Probability: 0.5}, assign.Group{Name: "a", Probability: 0.5}),
				"BadID":      newExperiment("no spaces", 10, 1),
				"BadLayer":   {ID: "x5", MaxSampleSize: 10, SamplingProbability: 1, Groups: []assign.Group{{Name: "a", Probability: 1}}, Layer: "a b"},
				"BadWinner":  {ID: "x6", MaxSampleSize: 10, SamplingProbability: 1, Groups: []assign.Group{{Name: "a", Probability: 1}}, Winner: "b"},
				"EmptyGroup": newExperiment("x7", 10, 1, assign.Group{Name: "", Probability: 1}),
			} {
				if got, want := assign.ErrorCode(s.CreateExperiment(ctx, e)), assign.EINVALID; got != want {
					t.Fatalf("%s: code=%q, want %q", name, got, want)
				}
			}
			if n, err := c.ZCard(ctx, s.Keys().Experiments()).Result(); err != nil {
				t.Fatal(err)
			} else if _, err := s.FindExperimentByID(ctx, "x1"); assign.ErrorCode(err) != assign.ENOTFOUND {
				t.Fatalf("invalid experiment stored (%d ids): %v", n, err)
			}
		})
	})
}

func TestExperimentService_FindExperimentByID(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		for _, id := range []string{"missing", "", "no spaces", string(make([]byte, 100))} {
			if _, err := s.FindExperimentByID(testenv.Context(t), id); assign.ErrorCode(err) != assign.ENOTFOUND {
				t.Fatalf("FindExperimentByID(%q): %v, want not_found", id, err)
			}
		}
	})
}

func TestExperimentService_FindExperiments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		t.Run("Empty", func(t *testing.T) {
			list, next, err := s.FindExperiments(ctx, assign.ExperimentFilter{})
			if err != nil || len(list) != 0 || next != "" {
				t.Fatalf("got %d, %q, %v; want an empty last page", len(list), next, err)
			}
		})
		var want []string
		for i := range 7 {
			id := fmt.Sprintf("exp-%02d", 6-i) // created out of order
			mustCreate(t, s, newExperiment(id, int64(10+i), 1))
			want = append([]string{id}, want...)
		}
		mustEnroll(t, s, "exp-03", "someone")
		t.Run("Pages", func(t *testing.T) {
			var got []string
			after, pages := "", 0
			for {
				list, next, err := s.FindExperiments(ctx, assign.ExperimentFilter{After: after, Limit: 3})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, e := range list {
					got = append(got, e.ID)
					if e.Stats == nil {
						t.Fatalf("%s has no stats", e.ID)
					} else if e.ID == "exp-03" && e.Stats.Enrolled != 1 {
						t.Fatalf("exp-03 Enrolled=%d, want 1", e.Stats.Enrolled)
					}
				}
				if next == "" {
					break
				}
				after = next
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
				t.Fatalf("ids=%v in %d pages, want %v in 3", got, pages, want)
			}
		})
		t.Run("DefaultLimit", func(t *testing.T) {
			list, next, err := s.FindExperiments(ctx, assign.ExperimentFilter{})
			if err != nil || len(list) != 7 || next != "" {
				t.Fatalf("got %d, %q, %v; want all 7 on one page", len(list), next, err)
			}
		})
		t.Run("ExactPage", func(t *testing.T) {
			list, next, err := s.FindExperiments(ctx, assign.ExperimentFilter{After: "exp-02", Limit: 4})
			if err != nil || len(list) != 4 || next != "" || list[0].ID != "exp-03" {
				t.Fatalf("got %d, %q, %v; want exp-03..exp-06 and no next page", len(list), next, err)
			}
		})
		t.Run("SkipsHalfCreated", func(t *testing.T) {
			// An id reserved by a creation that failed before its script.
			c.ZAdd(ctx, s.Keys().Experiments(), redis.Z{Member: "exp-00a"})
			list, _, err := s.FindExperiments(ctx, assign.ExperimentFilter{Limit: 1000})
			if err != nil || len(list) != 7 {
				t.Fatalf("got %d, %v; want the 7 real experiments", len(list), err)
			}
		})
	})
}

func TestExperimentService_UpdateExperiment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		mustCreate(t, s, newExperiment("upd", 100, 1))
		later := time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC)
		s.Now = func() time.Time { return later }

		t.Run("OK", func(t *testing.T) {
			paused, p, max := assign.StatusPaused, 0.25, int64(500)
			got, err := s.UpdateExperiment(ctx, "upd", assign.ExperimentUpdate{
				Status: &paused, SamplingProbability: &p, MaxSampleSize: &max,
				Groups: []assign.Group{{Name: "control", Probability: 0.9}, {Name: "treatment", Probability: 0.1}},
			}, "alice")
			if err != nil {
				t.Fatal(err)
			}
			found, err := s.FindExperimentByID(ctx, "upd")
			if err != nil {
				t.Fatal(err)
			}
			if a, b := mustJSON(t, got), mustJSON(t, found); a != b {
				t.Fatalf("UpdateExperiment=%s\nread back %s", a, b)
			}
			if found.Status != paused || found.SamplingProbability != p || found.MaxSampleSize != max ||
				found.Groups[0].Probability != 0.9 || found.Version != 2 || found.UpdatedBy != "alice" ||
				!found.UpdatedAt.Equal(later) || found.Stats.Remaining != 500 {
				t.Fatalf("after update: %s", mustJSON(t, found))
			}
			msgs, err := c.XRange(ctx, redisstore.EventsKey(s.Keys().Prefix("upd", "")), "-", "+").Result()
			if err != nil || len(msgs) != 2 {
				t.Fatalf("events=%v, %v; want creation and update", msgs, err)
			}
			var ev assign.Experiment
			if err := json.Unmarshal([]byte(msgs[1].Values[redisstore.EventExperiment].(string)), &ev); err != nil ||
				ev.Version != 2 || ev.Status != paused || msgs[1].Values[redisstore.EventBy] != "alice" {
				t.Fatalf("update event=%v (%v)", msgs[1].Values, err)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			bad := assign.Status("finished")
			p, zero := 2.0, int64(0)
			winner := "nobody"
			for name, upd := range map[string]assign.ExperimentUpdate{
				"Status":    {Status: &bad},
				"P":         {SamplingProbability: &p},
				"Max":       {MaxSampleSize: &zero},
				"Winner":    {Winner: &winner},
				"Renamed":   {Groups: []assign.Group{{Name: "treatment", Probability: 0.5}, {Name: "control", Probability: 0.5}}},
				"Fewer":     {Groups: []assign.Group{{Name: "control", Probability: 1}}},
				"BadSum":    {Groups: []assign.Group{{Name: "control", Probability: 0.5}, {Name: "treatment", Probability: 0.6}}},
				"Rollout+P": {Winner: new("control"), SamplingProbability: &p},
			} {
				if _, err := s.UpdateExperiment(ctx, "upd", upd, "bob"); assign.ErrorCode(err) != assign.EINVALID {
					t.Fatalf("%s: %v, want invalid", name, err)
				}
			}
			if e, _ := s.FindExperimentByID(ctx, "upd"); e.Version != 2 {
				t.Fatalf("Version=%d after invalid updates, want 2", e.Version)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			if _, err := s.UpdateExperiment(ctx, "nope", assign.ExperimentUpdate{}, "bob"); assign.ErrorCode(err) != assign.ENOTFOUND {
				t.Fatalf("%v, want not_found", err)
			}
		})
	})
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
