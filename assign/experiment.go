package assign

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// Limits of an experiment's definition.
const (
	MaxGroups          = 100  // groups per experiment
	MaxGroupNameLen    = 64   // bytes
	MaxIDLen           = 64   // bytes of an experiment id
	MaxEligibility     = 32   // rules per experiment
	MaxOverrides       = 500  // QA overrides per experiment
	ProbabilityEpsilon = 1e-9 // tolerance on the sum of group probabilities
)

// Status is the lifecycle state of an experiment.
type Status string

// Experiment statuses. Only a running experiment takes new members; members
// keep their group whatever the status.
const (
	StatusRunning Status = "running"
	StatusPaused  Status = "paused"
	StatusStopped Status = "stopped"
)

// Effective statuses a schedule adds to Status (Experiment.EffectiveStatus),
// never stored: a running experiment before its start_at is scheduled, one
// running or paused past its end_at has ended.
const (
	EffectiveScheduled Status = "scheduled"
	EffectiveEnded     Status = "ended"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusRunning || s == StatusPaused || s == StatusStopped
}

// Group is one arm of an experiment.
type Group struct {
	Name        string  `json:"group_name"`
	Probability float64 `json:"probability_of_falling_in"`
}

// Experiment is the definition of an A/B test and its live state.
//
// ID, Groups' names, Eligibility, Layer and Salt never change after creation:
// they decide who a user is, so changing them would break stickiness.
type Experiment struct {
	ID                  string  `json:"experiment_id"`
	MaxSampleSize       int64   `json:"maximum_sample_size"`
	SamplingProbability float64 `json:"sampling_probability"`
	Groups              []Group `json:"groups"`
	Eligibility         []Rule  `json:"eligibility,omitempty"`

	// Layer names a set of mutually exclusive experiments; empty for none.
	Layer string `json:"layer,omitempty"`

	Status Status `json:"status"`

	// Winner is the group every user gets once it is rolled out; empty before.
	Winner string `json:"winner,omitempty"`

	// StartAt and EndAt schedule the experiment, to the second (nil: no
	// bound): a running experiment takes new members only from StartAt
	// (inclusive) until EndAt (exclusive), decided by the enrollment script
	// on Redis's clock. Status is never changed by the schedule: the
	// configuration, and so the change history, keeps what an admin set;
	// EffectiveStatus says what new users meet.
	StartAt *time.Time `json:"start_at,omitempty"`
	EndAt   *time.Time `json:"end_at,omitempty"`

	// Overrides force a group on chosen users, for QA and support: user id
	// -> group name. An override answers that group (marked override) in
	// every status and schedule, whatever the user's eligibility, layer,
	// membership, the rollout or the cap; the user is never recorded,
	// counted or capped as a member, and the answer reaches the warehouse
	// flagged, left out of the analysis. At most MaxOverrides. Read by id
	// only: listings leave them out.
	Overrides map[string]string `json:"overrides,omitempty"`

	// EffectiveStatus, filled in by reads like Stats, is what a new user
	// meets now: the status, or EffectiveScheduled (running, before
	// StartAt) or EffectiveEnded (past EndAt, unless stopped).
	EffectiveStatus Status `json:"effective_status,omitempty"`

	// Salt keys the deterministic draws of this experiment (hex). It is
	// generated at creation so draws are independent across experiments.
	Salt string `json:"salt,omitempty"`

	// Version counts configuration changes, starting at 1 on creation.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`

	// Stats is the live enrollment state, filled in by reads.
	Stats *ExperimentStats `json:"stats,omitempty"`

	// Problem, in a listing only, says why this experiment could not be
	// read (its stored configuration is corrupt); only ID is set then. The
	// other experiments of the page are listed as usual.
	Problem string `json:"problem,omitempty"`
}

// ExperimentStats is the enrollment state of an experiment.
type ExperimentStats struct {
	Enrolled  int64            `json:"enrolled"`
	Remaining int64            `json:"remaining"`
	PerGroup  map[string]int64 `json:"per_group"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ValidateID checks an experiment id: 1 to 64 characters of letters, digits,
// '-', '_' and '.', starting with a letter or digit. UUIDs fit.
func ValidateID(id string) error {
	if id == "" {
		return Invalidf("experiment_id", "experiment_id is required")
	} else if len(id) > MaxIDLen {
		return Invalidf("experiment_id", "experiment_id is longer than %d characters", MaxIDLen)
	} else if !idPattern.MatchString(id) {
		return Invalidf("experiment_id", "experiment_id may hold only letters, digits, '-', '_' and '.', and must start with a letter or digit")
	}
	return nil
}

// ValidateLayer checks a layer name (same alphabet as an id); empty is valid.
func ValidateLayer(layer string) error {
	if layer == "" {
		return nil
	} else if len(layer) > MaxIDLen || !idPattern.MatchString(layer) {
		return Invalidf("layer", "layer may hold only letters, digits, '-', '_' and '.', at most %d characters", MaxIDLen)
	}
	return nil
}

// Validate checks the definition of an experiment. Creation fills a
// generated ID before validating, so an empty ID is an error here. Every
// string of it is text as ValidateText accepts it: the id and the layer by
// their ASCII alphabet, group names, eligibility claims and values and
// updated_by by ValidateText itself, whose errors name the exact field
// (groups[1].group_name, eligibility[0].in[2], ...).
func (e *Experiment) Validate() error {
	if err := ValidateID(e.ID); err != nil {
		return err
	}
	if err := ValidateSampleSize(e.MaxSampleSize); err != nil {
		return err
	}
	if err := ValidateSamplingProbability(e.SamplingProbability); err != nil {
		return err
	}
	if err := ValidateGroups(e.Groups); err != nil {
		return err
	}
	if len(e.Eligibility) > MaxEligibility {
		return Invalidf("eligibility", "at most %d eligibility rules", MaxEligibility)
	}
	for i := range e.Eligibility {
		if err := e.Eligibility[i].validate(fmt.Sprintf("eligibility[%d]", i)); err != nil {
			return err
		}
	}
	if err := ValidateLayer(e.Layer); err != nil {
		return err
	}
	if e.Status != "" && !e.Status.Valid() {
		return Invalidf("status", "status must be running, paused or stopped")
	}
	if err := ValidateSchedule(e.StartAt, e.EndAt); err != nil {
		return err
	}
	if len(e.Overrides) > MaxOverrides {
		return Invalidf("overrides", "at most %d overrides, not %d", MaxOverrides, len(e.Overrides))
	}
	for user, group := range e.Overrides {
		if err := ValidateOverride(user, &group); err != nil {
			return err
		}
		if e.GroupIndex(group) < 0 {
			return Invalidf("overrides", "the override of user %q names %q, not a group of the experiment", user, group)
		}
	}
	if e.Winner != "" && e.GroupIndex(e.Winner) < 0 {
		return Invalidf("winner", "winner %q is not a group of the experiment", e.Winner)
	}
	// The admin's name is stored with the configuration and exported.
	if err := ValidateText("updated_by", e.UpdatedBy); err != nil {
		return err
	}
	return nil
}

// Bounds of a schedule time: whole seconds from 1970 to the end of 9999.
var (
	minScheduleTime = time.Unix(0, 0).UTC()
	maxScheduleTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// ParseScheduleTime parses an RFC 3339 time of a schedule bound (field
// start_at or end_at) and truncates it to the second, in UTC.
func ParseScheduleTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, Invalidf(field, "%s must be an RFC 3339 time such as 2026-12-24T09:00:00Z", field)
	}
	t = t.UTC().Truncate(time.Second)
	if err := validateScheduleTime(field, t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

func validateScheduleTime(field string, t time.Time) error {
	if t.Before(minScheduleTime) || t.After(maxScheduleTime) {
		return Invalidf(field, "%s must be between 1970 and 9999", field)
	}
	return nil
}

// ValidateSchedule checks a schedule: each bound in range, and end_at after
// start_at when both are set.
func ValidateSchedule(start, end *time.Time) error {
	if start != nil {
		if err := validateScheduleTime("start_at", *start); err != nil {
			return err
		}
	}
	if end != nil {
		if err := validateScheduleTime("end_at", *end); err != nil {
			return err
		}
	}
	if start != nil && end != nil && !end.After(*start) {
		return Invalidf("end_at", "end_at (%s) must be after start_at (%s)", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	return nil
}

// EffectiveStatusAt returns what a new user meets at now (in whole seconds,
// as the enrollment script decides): a stopped experiment is stopped; past
// EndAt (from that second on) it has ended; paused is paused; running before
// StartAt is scheduled; running otherwise.
func (e *Experiment) EffectiveStatusAt(now time.Time) Status {
	sec := now.Unix()
	switch {
	case e.Status == StatusStopped:
		return StatusStopped
	case e.EndAt != nil && sec >= e.EndAt.Unix():
		return EffectiveEnded
	case e.Status != StatusRunning:
		return e.Status
	case e.StartAt != nil && sec < e.StartAt.Unix():
		return EffectiveScheduled
	}
	return StatusRunning
}

// ValidateOverride checks one override as given: a user id as a token's sub
// may be (assign.ValidateUserID's rule) and, unless nil (a removal), a group
// name of text. Errors name the field "overrides".
func ValidateOverride(user string, group *string) error {
	if err := ValidateUserID(user); err != nil {
		return Invalidf("overrides", "an override's user id is invalid: %s", ErrorMessage(err))
	}
	if group != nil {
		if err := ValidateText("overrides", *group); err != nil {
			return Invalidf("overrides", "the override of user %q: the group is not text", user)
		}
	}
	return nil
}

// ValidateSampleSize checks a maximum sample size.
func ValidateSampleSize(n int64) error {
	if n <= 0 {
		return Invalidf("maximum_sample_size", "maximum_sample_size must be a positive integer")
	} else if n > 1<<40 {
		return Invalidf("maximum_sample_size", "maximum_sample_size is too large")
	}
	return nil
}

// ValidateSamplingProbability checks a sampling probability: in (0, 1].
func ValidateSamplingProbability(p float64) error {
	if math.IsNaN(p) || p <= 0 || p > 1 {
		return Invalidf("sampling_probability", "sampling_probability must be greater than 0 and at most 1")
	}
	return nil
}

// ValidateGroups checks a list of groups: 1 to 100 distinct non-empty names
// of text (ValidateText: no control characters; the field is
// groups[i].group_name), probabilities in [0, 1] summing to 1 within ProbabilityEpsilon.
func ValidateGroups(groups []Group) error {
	if len(groups) == 0 {
		return Invalidf("groups", "at least one group is required")
	} else if len(groups) > MaxGroups {
		return Invalidf("groups", "at most %d groups", MaxGroups)
	}
	seen := make(map[string]struct{}, len(groups))
	sum := 0.0
	for i, g := range groups {
		if strings.TrimSpace(g.Name) == "" {
			return Invalidf("groups", "group_name must not be empty")
		} else if err := ValidateText(fmt.Sprintf("groups[%d].group_name", i), g.Name); err != nil {
			return err // before any message quotes the name
		} else if len(g.Name) > MaxGroupNameLen {
			return Invalidf("groups", "group_name %q is longer than %d bytes", g.Name, MaxGroupNameLen)
		}
		if _, ok := seen[g.Name]; ok {
			return Invalidf("groups", "duplicate group_name %q", g.Name)
		}
		seen[g.Name] = struct{}{}
		if math.IsNaN(g.Probability) || g.Probability < 0 || g.Probability > 1 {
			return Invalidf("groups", "probability_of_falling_in of %q must be between 0 and 1", g.Name)
		}
		sum += g.Probability
	}
	if math.Abs(sum-1) > ProbabilityEpsilon {
		return Invalidf("groups", "probabilities of the groups sum to %.12g, not 1", sum)
	}
	return nil
}

// GroupIndex returns the index of the named group, or -1.
func (e *Experiment) GroupIndex(name string) int {
	for i, g := range e.Groups {
		if g.Name == name {
			return i
		}
	}
	return -1
}

// GroupNames returns the names of the groups in order.
func (e *Experiment) GroupNames() []string {
	names := make([]string, len(e.Groups))
	for i, g := range e.Groups {
		names[i] = g.Name
	}
	return names
}

// ExperimentUpdate is a change to the mutable part of an experiment. Nil
// fields are left as they are.
type ExperimentUpdate struct {
	Status              *Status  `json:"status,omitempty"`
	SamplingProbability *float64 `json:"sampling_probability,omitempty"`
	MaxSampleSize       *int64   `json:"maximum_sample_size,omitempty"`
	Groups              []Group  `json:"groups,omitempty"` // new probabilities; names must match
	Winner              *string  `json:"winner,omitempty"`

	// StartAt and EndAt set (a time) or clear (JSON null) a schedule bound;
	// absent leaves it as it is.
	StartAt TimeUpdate `json:"start_at,omitzero"`
	EndAt   TimeUpdate `json:"end_at,omitzero"`

	// Overrides sets (a group name) or removes (nil, JSON null) the QA
	// override of each user named; the others are kept.
	Overrides map[string]*string `json:"overrides,omitempty"`
}

// TimeUpdate is an optional, nullable time of an update: Set when the field
// was given, At nil to clear. Decoding keeps the raw JSON; Parse reads it,
// so that the error names the field.
type TimeUpdate struct {
	Set bool
	At  *time.Time
	raw []byte
}

// SetTime returns the update setting the bound to t.
func SetTime(t time.Time) TimeUpdate { return TimeUpdate{Set: true, At: &t} }

// ClearTime returns the update clearing the bound.
func ClearTime() TimeUpdate { return TimeUpdate{Set: true} }

// UnmarshalJSON implements json.Unmarshaler; the value is checked by Parse.
func (u *TimeUpdate) UnmarshalJSON(b []byte) error {
	u.Set, u.At, u.raw = true, nil, append([]byte(nil), b...)
	return nil
}

// MarshalJSON implements json.Marshaler: the time in RFC 3339, or null.
func (u TimeUpdate) MarshalJSON() ([]byte, error) {
	if u.At == nil {
		return []byte("null"), nil
	}
	return json.Marshal(u.At.UTC().Truncate(time.Second))
}

// IsZero reports an absent field (for omitzero).
func (u TimeUpdate) IsZero() bool { return !u.Set }

// Parse checks the value decoded for field (start_at or end_at): null or an
// RFC 3339 time, truncated to the second. Returns EINVALID naming field.
func (u *TimeUpdate) Parse(field string) error {
	if !u.Set {
		return nil
	}
	if u.raw != nil {
		raw := u.raw
		u.raw = nil
		if string(raw) == "null" {
			u.At = nil
			return nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Invalidf(field, "%s must be an RFC 3339 time as a string, or null to clear it", field)
		}
		t, err := ParseScheduleTime(field, s)
		if err != nil {
			return err
		}
		u.At = &t
		return nil
	}
	if u.At != nil {
		t := u.At.UTC().Truncate(time.Second)
		if err := validateScheduleTime(field, t); err != nil {
			return err
		}
		u.At = &t
	}
	return nil
}

// ExperimentFilter selects a page of experiments, ordered by id.
type ExperimentFilter struct {
	After string // return ids strictly after this one
	Limit int    // page size; 0 means DefaultPageSize
}

// Page sizes of experiment listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// ExperimentService manages experiments.
type ExperimentService interface {
	// CreateExperiment stores a new running experiment. It fills ID (when
	// empty), Salt, Status, Version and the timestamps.
	// Returns EINVALID or ECONFLICT when the id is taken.
	CreateExperiment(ctx context.Context, e *Experiment) error

	// FindExperimentByID returns an experiment with its Stats.
	// Returns ENOTFOUND.
	FindExperimentByID(ctx context.Context, id string) (*Experiment, error)

	// FindExperiments returns a page of experiments ordered by id, with their
	// Stats, and the cursor of the next page ("" on the last). An experiment
	// that cannot be read is listed with only its ID and Problem.
	FindExperiments(ctx context.Context, filter ExperimentFilter) ([]*Experiment, string, error)

	// UpdateExperiment applies upd atomically, bumps Version and records who.
	// Members keep their group. Returns ENOTFOUND or EINVALID.
	UpdateExperiment(ctx context.Context, id string, upd ExperimentUpdate, who string) (*Experiment, error)
}
