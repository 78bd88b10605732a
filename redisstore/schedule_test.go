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

// redisNow returns the server's clock, the one the enrollment script decides
// schedules with.
func redisNow(tb testing.TB, c redis.UniversalClient) time.Time {
	tb.Helper()
	t, err := c.Time(testenv.Context(tb)).Result()
	if err != nil {
		tb.Fatalf("TIME: %v", err)
	}
	return t
}

func at(t time.Time) *time.Time { t = t.UTC().Truncate(time.Second); return &t }

// A schedule is decided by the script on Redis's clock: not_running before
// start_at, not_running from end_at on, members keep their group through
// both; GET keeps the status an admin set and shows the effective one; an
// update sets and clears each bound.
func TestEnroll_Schedule(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		now := redisNow(t, c)

		future := newExperiment("sched-future", 100, 1)
		future.StartAt = at(now.Add(time.Hour))
		mustCreate(t, s, future)
		if res := mustEnroll(t, s, "sched-future", "u1"); res.Enrolled || res.Reason != assign.ReasonNotRunning {
			t.Fatalf("before start_at: %+v, want not_running", res)
		}
		e, err := s.FindExperimentByID(ctx, "sched-future")
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != assign.StatusRunning || e.EffectiveStatus != assign.EffectiveScheduled || !e.StartAt.Equal(*future.StartAt) || e.EndAt != nil {
			t.Fatalf("read back: status %s effective %s start %v end %v", e.Status, e.EffectiveStatus, e.StartAt, e.EndAt)
		}
		// Clearing start_at opens it at once.
		e, err = s.UpdateExperiment(ctx, "sched-future", assign.ExperimentUpdate{StartAt: assign.ClearTime()}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		if e.StartAt != nil || e.EffectiveStatus != assign.StatusRunning {
			t.Fatalf("after clearing start_at: start %v effective %s", e.StartAt, e.EffectiveStatus)
		}
		if res := mustEnroll(t, s, "sched-future", "u1"); !res.Enrolled || !res.New {
			t.Fatalf("after clearing start_at: %+v, want a new member", res)
		}

		window := newExperiment("sched-window", 100, 1)
		window.StartAt, window.EndAt = at(now.Add(-time.Hour)), at(now.Add(time.Hour))
		mustCreate(t, s, window)
		member := mustEnroll(t, s, "sched-window", "member")
		if !member.Enrolled {
			t.Fatalf("inside the window: %+v", member)
		}
		// end_at now: ended from this second on.
		e, err = s.UpdateExperiment(ctx, "sched-window", assign.ExperimentUpdate{EndAt: assign.SetTime(redisNow(t, c))}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != assign.StatusRunning || e.EffectiveStatus != assign.EffectiveEnded {
			t.Fatalf("after end_at: status %s effective %s", e.Status, e.EffectiveStatus)
		}
		if res := mustEnroll(t, s, "sched-window", "late"); res.Enrolled || res.Reason != assign.ReasonNotRunning {
			t.Fatalf("after end_at: %+v, want not_running", res)
		}
		if res := mustEnroll(t, s, "sched-window", "member"); !res.Enrolled || res.Group != member.Group || res.New {
			t.Fatalf("member after end_at: %+v, want %s", res, member.Group)
		}
		// Paused past end_at has ended too; stopped stays stopped.
		paused := assign.StatusPaused
		if e, err = s.UpdateExperiment(ctx, "sched-window", assign.ExperimentUpdate{Status: &paused}, "admin"); err != nil || e.EffectiveStatus != assign.EffectiveEnded {
			t.Fatalf("paused past end_at: %v, %v", e, err)
		}
		stopped := assign.StatusStopped
		if e, err = s.UpdateExperiment(ctx, "sched-window", assign.ExperimentUpdate{Status: &stopped}, "admin"); err != nil || e.EffectiveStatus != assign.StatusStopped {
			t.Fatalf("stopped past end_at: %v, %v", e, err)
		}
		list, _, err := s.FindExperiments(ctx, assign.ExperimentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range list {
			if want := map[string]assign.Status{"sched-future": assign.StatusRunning, "sched-window": assign.StatusStopped}[x.ID]; x.EffectiveStatus != want {
				t.Errorf("listed %s: effective %s, want %s", x.ID, x.EffectiveStatus, want)
			}
		}

		// end_at must follow start_at, also when only one is changed.
		_, err = s.UpdateExperiment(ctx, "sched-future", assign.ExperimentUpdate{
			StartAt: assign.SetTime(now.Add(2 * time.Hour)), EndAt: assign.SetTime(now.Add(time.Hour))}, "admin")
		if assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != "end_at" {
			t.Fatalf("end_at before start_at: %v, want EINVALID on end_at", err)
		}
		if _, err := s.UpdateExperiment(ctx, "sched-window", assign.ExperimentUpdate{StartAt: assign.SetTime(now.Add(3 * time.Hour))}, "admin"); assign.ErrorField(err) != "end_at" {
			t.Fatalf("start_at after the stored end_at: %v, want EINVALID on end_at", err)
		}
	})
}

// To the second: every enrollment answered inside [start_at, end_at) on
// Redis's clock is a member, every one outside is not_running. Users enroll
// one after the other across both bounds, each bracketed by TIME.
func TestEnroll_ScheduleToTheSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for two seconds on each backend")
	}
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		now := redisNow(t, c)
		start := now.Truncate(time.Second).Add(time.Second)
		end := start.Add(time.Second)
		x := newExperiment("sched-second", 100000, 1)
		x.StartAt, x.EndAt = &start, &end
		mustCreate(t, s, x)
		var in, out int
		for i := 0; ; i++ {
			before := redisNow(t, c)
			res := mustEnroll(t, s, "sched-second", fmt.Sprintf("u%d", i))
			after := redisNow(t, c)
			if res.Enrolled {
				in++
				if after.Before(start) || !before.Before(end) {
					t.Fatalf("enrolled between %v and %v, outside [%v, %v)", before, after, start, end)
				}
			} else {
				out++
				if res.Reason != assign.ReasonNotRunning {
					t.Fatalf("%+v", res)
				}
				if !before.Before(start) && after.Before(end) {
					t.Fatalf("not_running between %v and %v, inside [%v, %v)", before, after, start, end)
				}
			}
			if before.After(end.Add(200 * time.Millisecond)) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if in == 0 || out == 0 {
			t.Fatalf("%d enrolled, %d not running: the loop must cross both bounds", in, out)
		}
	})
}
