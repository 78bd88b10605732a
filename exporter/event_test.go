package exporter

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
)

// A configuration event carries the schedule to the experiments and
// experiment_changes rows; one without a schedule gives none (NULL).
func TestParseEvent_Schedule(t *testing.T) {
	keys := redisstore.Keys{}
	start, end := time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC), time.Date(2027, 1, 7, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		start, end *time.Time
	}{{&start, &end}, {nil, &end}, {nil, nil}} {
		x := assign.Experiment{ID: "e", MaxSampleSize: 10, SamplingProbability: 1, Groups: []assign.Group{{Name: "a", Probability: 1}},
			Status: assign.StatusRunning, Version: 2, StartAt: tc.start, EndAt: tc.end}
		js, _ := json.Marshal(&x)
		var enr []warehouse.EnrollmentRow
		var exps []warehouse.ExperimentRow
		err := parseEvent(keys, redisstore.EventsKey(keys.Prefix("e", "")), map[string]any{
			redisstore.EventType: redisstore.EventConfig, redisstore.EventExperiment: string(js),
			redisstore.EventBy: "alice", redisstore.EventTime: "1790000000000",
		}, &enr, &exps)
		if err != nil || len(exps) != 1 {
			t.Fatalf("parseEvent: %v, %d rows", err, len(exps))
		}
		same := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
		if r := exps[0]; !same(r.StartAt, tc.start) || !same(r.EndAt, tc.end) {
			t.Fatalf("row schedule %v..%v, want %v..%v", r.StartAt, r.EndAt, tc.start, tc.end)
		}
	}
}
