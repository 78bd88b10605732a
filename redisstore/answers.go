package redisstore

import (
	"github.com/assign-dev/assign/answercache"
	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

// Which answers of the enrollment script the answer cache keeps. Each is
// kept under the experiment's handle (invalidated by every configuration
// change: PATCH, pause, ramp, cap, rollout, schedule edits, overrides,
// creation) and answered again only while it is valid:
//
//   - a member's group (new or existing: answered as existing), and a QA
//     override's group: whatever the claims, until the configuration changes
//     (a rollout, an override set or removed);
//   - outside a layer, the rolled-out winner, not_sampled (changes with the
//     sampling probability) and sample_full (with the cap: the count only
//     grows): each only for an eligible user (claims and platform, checked
//     in Go on every call). None of them can turn into a membership behind
//     the cache's back: the user's draws are the same in every process, and
//     a rollout records no one.
//
// Never kept: not_eligible (the same user may join through another process
// with other claims, and must then be answered as the member they are),
// not_running (a schedule's start_at passes without any change), not_found
// (the experiment may be created at any moment), stale replies, and in a
// layer every refusal and rollout (the layer's other experiments change who
// may join without a change of this one). A
// schedule's end_at is no change either: a not_sampled or sample_full kept
// then reads so, instead of not_running, for at most the cache's maximum
// age; both refuse the user.
//
// The cache never decides: it only repeats what Redis recorded, so the cap,
// stickiness and the export are the script's alone.

// The cache's value: the reply code, shifted to be positive, and whether it
// is a member's or an override's answer (valid whatever the claims); every
// other kept answer was computed for an eligible user and holds only for one.
const (
	answerCodeOffset = 1 << 10
	answerCodeMask   = 1<<11 - 1
	answerAnyClaims  = 1 << 11
)

// The reply codes must fit the value's code bits.
var (
	_ [answerCodeOffset + scripts.ReplyStale]struct{}
	_ [answerCodeMask - answerCodeOffset - scripts.ReplyOverride - scripts.ReplyBand]struct{}
)

// keptAnswer returns the cache's value for a reply of the enrollment script
// computed for a user of the given eligibility, or false when it must not
// be kept.
func (d *definition) keptAnswer(code int64, eligible bool) (uint32, bool) {
	inBand := func(base int64) bool { return code >= base && code < base+scripts.ReplyBand }
	switch {
	case inBand(scripts.ReplyNew):
		return (answerAnyClaims | answerCodeOffset) + uint32(code-scripts.ReplyNew+scripts.ReplyExisting), true
	case inBand(scripts.ReplyExisting), inBand(scripts.ReplyOverride):
		return (answerAnyClaims | answerCodeOffset) + uint32(code), true
	case d.layer != "" || !eligible:
		// (A member who no longer qualifies is told the rollout too: a
		// miss for the cache, as it cannot tell them from others.)
		return 0, false
	case inBand(scripts.ReplyRolledOut), code == scripts.ReplyNotSampled, code == scripts.ReplySampleFull:
		return answerCodeOffset + uint32(code), true
	}
	return 0, false
}

// keptCode returns the reply a kept value stands for, for a user of the
// given eligibility, or false when it does not apply to them.
func keptCode(v uint32, eligible bool) (int64, bool) {
	if v&answerAnyClaims == 0 && !eligible {
		return 0, false
	}
	return int64(v&answerCodeMask) - answerCodeOffset, true
}

// cachedAnswer returns the kept answer for req, if there is one.
func (s *Store) cachedAnswer(d *definition, req assign.EnrollRequest, eligible bool) (int64, bool) {
	v, ok := s.Answers.Get(d.answers, req.UserID)
	if !ok {
		return 0, false
	}
	code, ok := keptCode(v, eligible)
	if !ok {
		s.Answers.Refuse() // kept for eligible users only
	}
	return code, ok
}

// keepAnswer keeps a reply computed under st, when it may be kept.
func (s *Store) keepAnswer(d *definition, req assign.EnrollRequest, st answercache.Stamp, eligible bool, code int64) {
	if v, ok := d.keptAnswer(code, eligible); ok {
		s.Answers.Put(d.answers, req.UserID, st, v)
	}
}

// changed drops this process's kept answers of experiment id at once, after
// a change made through it: its own callers never see an answer from before
// their change, whenever the notice the script published arrives (other
// processes get it within HeartbeatWindow).
func (s *Store) changed(id string) {
	if s.Answers != nil {
		s.Answers.Invalidate(id)
	}
}
