package assign_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
)

func TestExperiment_PrepareCreate(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	e := validExperiment()
	e.ID = ""
	e.Stats = &assign.ExperimentStats{Enrolled: 3}
	salt, err := assign.NewSalt()
	if err != nil || len(salt) != 2*assign.SaltBytes {
		t.Fatalf("NewSalt: %q, %v", salt, err)
	}
	if other, _ := assign.NewSalt(); other == salt {
		t.Fatal("two salts alike")
	}
	if err := e.PrepareCreate(now, salt); err != nil {
		t.Fatal(err)
	}
	if len(e.ID) != 36 || e.Salt != salt || e.Status != assign.StatusRunning || e.Version != 1 ||
		!e.CreatedAt.Equal(now) || !e.UpdatedAt.Equal(now) || e.Stats != nil {
		t.Fatalf("prepared: %+v", e)
	}
	// A status given is kept; an invalid experiment is refused.
	p := validExperiment()
	p.Status = assign.StatusPaused
	if err := p.PrepareCreate(now, salt); err != nil || p.Status != assign.StatusPaused || p.ID != validExperiment().ID {
		t.Fatalf("paused: %+v, %v", p, err)
	}
	bad := validExperiment()
	bad.Groups = nil
	if err := bad.PrepareCreate(now, salt); assign.ErrorField(err) != "groups" {
		t.Fatalf("no groups: %v", err)
	}
}

func TestApplyUpdate(t *testing.T) {
	then := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	now := then.Add(time.Hour)
	cur := validExperiment()
	if err := cur.PrepareCreate(then, "00"); err != nil {
		t.Fatal(err)
	}
	cur.Stats = &assign.ExperimentStats{Enrolled: 200, Remaining: 50, PerGroup: map[string]int64{"old_journey": 100, "new_journey": 100}}
	paused, bogus := assign.StatusPaused, assign.Status("gone")
	max, p, winner := int64(1000), 0.5, "new_journey"
	reweighted := []assign.Group{{Name: "old_journey", Probability: 0.2}, {Name: "new_journey", Probability: 0.8}}

	next, err := assign.ApplyUpdate(&cur, assign.ExperimentUpdate{Status: &paused, MaxSampleSize: &max, SamplingProbability: &p, Groups: reweighted, Winner: &winner}, "bob", now)
	if err != nil {
		t.Fatal(err)
	}
	if next.Status != paused || next.MaxSampleSize != max || next.SamplingProbability != p || next.Groups[1].Probability != 0.8 ||
		next.Winner != winner || next.Version != 2 || !next.UpdatedAt.Equal(now) || next.UpdatedBy != "bob" ||
		!next.CreatedAt.Equal(then) || next.Salt != "00" || next.Stats.Remaining != 800 || next.Stats.Enrolled != 200 {
		t.Fatalf("next: %+v %+v", next, next.Stats)
	}
	// cur is untouched.
	if cur.Version != 1 || cur.Status != assign.StatusRunning || cur.Groups[1].Probability != 0.5 || cur.Stats.Remaining != 50 {
		t.Fatalf("cur changed: %+v", cur)
	}
	undo := ""
	if n, err := assign.ApplyUpdate(next, assign.ExperimentUpdate{Winner: &undo}, "bob", now); err != nil || n.Winner != "" || n.Version != 3 {
		t.Fatalf("undo the rollout: %+v, %v", n, err)
	}
	for name, tc := range map[string]struct {
		upd   assign.ExperimentUpdate
		who   string
		field string
	}{
		"status":        {assign.ExperimentUpdate{Status: &bogus}, "bob", "status"},
		"group count":   {assign.ExperimentUpdate{Groups: reweighted[:1]}, "bob", "groups"},
		"group renamed": {assign.ExperimentUpdate{Groups: []assign.Group{{Name: "x", Probability: 0.5}, {Name: "new_journey", Probability: 0.5}}}, "bob", "groups"},
		"probabilities": {assign.ExperimentUpdate{Groups: []assign.Group{{Name: "old_journey", Probability: 0.5}, {Name: "new_journey", Probability: 0.6}}}, "bob", "groups"},
		"winner":        {assign.ExperimentUpdate{Winner: ptr("nobody")}, "bob", "winner"},
		"who":           {assign.ExperimentUpdate{}, "bob\x1b", "updated_by"},
	} {
		if _, err := assign.ApplyUpdate(&cur, tc.upd, tc.who, now); assign.ErrorField(err) != tc.field {
			t.Errorf("%s: %v, want field %s", name, err, tc.field)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestExperiment_MarshalJSON(t *testing.T) {
	b, err := json.Marshal([]*assign.Experiment{{ID: "x", Problem: "corrupt", Status: assign.StatusRunning}})
	if err != nil || string(b) != `[{"experiment_id":"x","problem":"corrupt"}]` {
		t.Fatalf("%s, %v", b, err)
	}
	e := validExperiment()
	b, err = json.Marshal(e)
	var back assign.Experiment
	if err != nil || strings.Contains(string(b), "problem") || json.Unmarshal(b, &back) != nil || back.ID != e.ID || len(back.Groups) != 2 || back.Eligibility[0].Claim != "first_order" {
		t.Fatalf("%s, %v", b, err)
	}
}
