package assign

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// SaltBytes is the length of an experiment's random salt, before hex.
const SaltBytes = 16

// NewSalt returns a fresh random salt for an experiment's draws (hex of
// SaltBytes random bytes).
func NewSalt() (string, error) {
	var b [SaltBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Errorf(EINTERNAL, "salt: %v", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// PrepareCreate fills what a creation decides and checks the result: a UUID
// when ID is empty, the salt given (NewSalt), status running when empty,
// version 1, CreatedAt and UpdatedAt now (the store keeps the precision it
// can: pass now at it), the schedule truncated to the second, no Stats. A non-empty UpdatedBy is the creator.
// Returns EINVALID.
func (e *Experiment) PrepareCreate(now time.Time, salt string) error {
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	e.Salt = salt
	if e.Status == "" {
		e.Status = StatusRunning
	}
	e.Version = 1
	e.CreatedAt, e.UpdatedAt = now, now
	e.Stats = nil
	e.EffectiveStatus = ""
	e.StartAt, e.EndAt = truncSecond(e.StartAt), truncSecond(e.EndAt)
	return e.Validate()
}

// ApplyUpdate returns a validated copy of cur with upd applied: the next
// version, changed at now by who. Only the mutable part changes: status,
// sampling probability, maximum sample size, the groups' probabilities (the
// names must be the existing ones, in order) and the winner ("" undoes a
// rollout), the schedule (start_at, end_at: set or cleared) and the QA
// overrides (set or removed per user). Stats are
// copied, Remaining recomputed for the new maximum, EffectiveStatus for now;
// members keep their group. Returns EINVALID.
func ApplyUpdate(cur *Experiment, upd ExperimentUpdate, who string, now time.Time) (*Experiment, error) {
	next := *cur
	next.Groups = append([]Group(nil), cur.Groups...)
	if cur.Stats != nil {
		stats := *cur.Stats
		next.Stats = &stats
	}
	if upd.Status != nil {
		if !upd.Status.Valid() {
			return nil, Invalidf("status", "status must be running, paused or stopped")
		}
		next.Status = *upd.Status
	}
	if upd.SamplingProbability != nil {
		next.SamplingProbability = *upd.SamplingProbability
	}
	if upd.MaxSampleSize != nil {
		next.MaxSampleSize = *upd.MaxSampleSize
	}
	if upd.Groups != nil {
		if len(upd.Groups) != len(cur.Groups) {
			return nil, Invalidf("groups", "groups must list the existing %d groups in order; only probabilities may change", len(cur.Groups))
		}
		for i, g := range upd.Groups {
			if g.Name != cur.Groups[i].Name {
				return nil, Invalidf("groups", "group %d is %q, not %q: only probabilities may change", i, cur.Groups[i].Name, g.Name)
			}
		}
		next.Groups = append([]Group(nil), upd.Groups...)
	}
	if upd.Winner != nil {
		next.Winner = *upd.Winner
	}
	for _, b := range []struct {
		field string
		upd   *TimeUpdate
		to    **time.Time
	}{{"start_at", &upd.StartAt, &next.StartAt}, {"end_at", &upd.EndAt, &next.EndAt}} {
		if err := b.upd.Parse(b.field); err != nil {
			return nil, err
		}
		if b.upd.Set {
			*b.to = b.upd.At
		}
	}
	if upd.Overrides != nil {
		next.Overrides = make(map[string]string, len(cur.Overrides)+len(upd.Overrides))
		for u, g := range cur.Overrides {
			next.Overrides[u] = g
		}
		for u, g := range upd.Overrides {
			if err := ValidateOverride(u, g); err != nil {
				return nil, err
			}
			if g == nil {
				delete(next.Overrides, u)
			} else {
				next.Overrides[u] = *g
			}
		}
		if len(next.Overrides) == 0 {
			next.Overrides = nil
		}
	}
	next.Version = cur.Version + 1
	next.UpdatedAt = now
	next.UpdatedBy = who
	if err := next.Validate(); err != nil {
		return nil, err
	}
	if next.Stats != nil {
		next.Stats.Remaining = max(0, next.MaxSampleSize-next.Stats.Enrolled)
	}
	if cur.EffectiveStatus != "" {
		next.EffectiveStatus = next.EffectiveStatusAt(now)
	}
	return &next, nil
}

// MarshalJSON writes an experiment; one listed with a Problem is written as
// only its id and the problem, not as an experiment of zero values.
func (e Experiment) MarshalJSON() ([]byte, error) {
	if e.Problem != "" {
		return json.Marshal(struct {
			ID      string `json:"experiment_id"`
			Problem string `json:"problem"`
		}{e.ID, e.Problem})
	}
	type plain Experiment // without this method
	return json.Marshal(plain(e))
}

// truncSecond returns a copy of *t in UTC truncated to the second; nil for nil.
func truncSecond(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.UTC().Truncate(time.Second)
	return &c
}
