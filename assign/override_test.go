package assign_test

import (
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
)

// An update merges overrides: a group sets one, nil removes one, the
// others are kept; the bound and the group names hold on the result.
func TestApplyUpdate_Overrides(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cur := &assign.Experiment{ID: "e", MaxSampleSize: 10, SamplingProbability: 1, Status: assign.StatusRunning, Version: 1,
		Groups:    []assign.Group{{Name: "a", Probability: 0.5}, {Name: "b", Probability: 0.5}},
		Overrides: map[string]string{"u1": "a", "u2": "b"}}
	b := "b"
	next, err := assign.ApplyUpdate(cur, assign.ExperimentUpdate{Overrides: map[string]*string{"u1": nil, "u3": &b}}, "qa", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Overrides) != 2 || next.Overrides["u2"] != "b" || next.Overrides["u3"] != "b" || len(cur.Overrides) != 2 || cur.Overrides["u1"] != "a" {
		t.Fatalf("next %v, cur %v", next.Overrides, cur.Overrides)
	}
	nobody := "c"
	if _, err := assign.ApplyUpdate(cur, assign.ExperimentUpdate{Overrides: map[string]*string{"u4": &nobody}}, "qa", now); assign.ErrorField(err) != "overrides" {
		t.Fatalf("unknown group: %v", err)
	}
	if _, err := assign.ApplyUpdate(cur, assign.ExperimentUpdate{Overrides: map[string]*string{"": &b}}, "qa", now); assign.ErrorField(err) != "overrides" {
		t.Fatalf("empty user id: %v", err)
	}
	full := *cur
	full.Overrides = map[string]string{}
	for i := range assign.MaxOverrides {
		full.Overrides[string(rune('A'+i%26))+time.Duration(i).String()] = "a"
	}
	if err := full.Validate(); err != nil {
		t.Fatalf("%d overrides: %v", len(full.Overrides), err)
	}
	if _, err := assign.ApplyUpdate(&full, assign.ExperimentUpdate{Overrides: map[string]*string{"one-more": &b}}, "qa", now); assign.ErrorField(err) != "overrides" {
		t.Fatalf("%d overrides: %v", assign.MaxOverrides+1, err)
	}
}
