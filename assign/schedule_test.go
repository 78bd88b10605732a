package assign_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
)

func TestEffectiveStatusAt(t *testing.T) {
	start, end := time.Date(2030, 1, 1, 0, 0, 10, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 20, 0, time.UTC)
	for _, tc := range []struct {
		status assign.Status
		now    time.Time
		want   assign.Status
	}{
		{assign.StatusRunning, start.Add(-time.Millisecond), assign.EffectiveScheduled},
		{assign.StatusRunning, start, assign.StatusRunning},
		{assign.StatusRunning, end.Add(-time.Millisecond), assign.StatusRunning},
		{assign.StatusRunning, end, assign.EffectiveEnded}, // end_at is exclusive
		{assign.StatusPaused, start.Add(-time.Hour), assign.StatusPaused},
		{assign.StatusPaused, end, assign.EffectiveEnded},
		{assign.StatusStopped, end, assign.StatusStopped},
		{assign.StatusStopped, start.Add(-time.Hour), assign.StatusStopped},
	} {
		e := assign.Experiment{Status: tc.status, StartAt: &start, EndAt: &end}
		if got := e.EffectiveStatusAt(tc.now); got != tc.want {
			t.Errorf("%s at %v: %s, want %s", tc.status, tc.now, got, tc.want)
		}
	}
	if got := (&assign.Experiment{Status: assign.StatusRunning}).EffectiveStatusAt(end); got != assign.StatusRunning {
		t.Errorf("no schedule: %s", got)
	}
}

func TestApplyUpdate_Schedule(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cur := &assign.Experiment{ID: "e", MaxSampleSize: 10, SamplingProbability: 1, Status: assign.StatusRunning,
		Groups: []assign.Group{{Name: "a", Probability: 1}}, Version: 1, EffectiveStatus: assign.StatusRunning}
	decode := func(body string) assign.ExperimentUpdate {
		var u assign.ExperimentUpdate
		if err := json.Unmarshal([]byte(body), &u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	next, err := assign.ApplyUpdate(cur, decode(`{"start_at": "2030-01-01T00:00:05.75Z", "end_at": "2030-01-02T00:00:00+02:00"}`), "alice", now)
	if err != nil {
		t.Fatal(err)
	}
	if !next.StartAt.Equal(now.Add(5*time.Second)) || !next.EndAt.Equal(now.Add(22*time.Hour)) || next.EffectiveStatus != assign.EffectiveScheduled {
		t.Fatalf("start %v end %v effective %s", next.StartAt, next.EndAt, next.EffectiveStatus)
	}
	// Absent leaves a bound, null clears it.
	next2, err := assign.ApplyUpdate(next, decode(`{"start_at": null}`), "alice", now)
	if err != nil || next2.StartAt != nil || !next2.EndAt.Equal(*next.EndAt) {
		t.Fatalf("clear start: %v %v", next2, err)
	}
	for body, field := range map[string]string{
		`{"start_at": "2030-01-03T00:00:00Z"}`:  "end_at", // after the kept end_at
		`{"end_at": "yesterday"}`:               "end_at",
		`{"start_at": 5}`:                       "start_at",
		`{"start_at": "10000-01-01T00:00:00Z"}`: "start_at",
	} {
		if _, err := assign.ApplyUpdate(next, decode(body), "alice", now); assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != field {
			t.Errorf("%s: %v, want EINVALID on %s", body, err, field)
		}
	}
	// An update marshals back to the same JSON (the client sends it).
	b, _ := json.Marshal(assign.ExperimentUpdate{StartAt: assign.SetTime(now), EndAt: assign.ClearTime()})
	if string(b) != `{"start_at":"2030-01-01T00:00:00Z","end_at":null}` {
		t.Fatalf("marshalled %s", b)
	}
	if b, _ := json.Marshal(assign.ExperimentUpdate{}); string(b) != `{}` {
		t.Fatalf("empty update marshalled %s", b)
	}
}
