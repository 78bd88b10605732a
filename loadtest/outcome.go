package loadtest

import (
	"sync"

	"github.com/assign-dev/assign/assign"
)

// Outcome is a decision in a compact form the Ledger can store atomically:
// a positive value is "enrolled in group Outcome-1" (an index into
// GroupNames), a negative one a reason, zero no answer.
type Outcome int32

// Outcomes other than a group.
const (
	OutcomeNone        Outcome = 0
	OutcomeNotSampled  Outcome = -1
	OutcomeSampleFull  Outcome = -2
	OutcomeNotEligible Outcome = -3
	OutcomeNotRunning  Outcome = -4
	OutcomeOtherReason Outcome = -5 // a reason this tool does not know
)

// Enrolled reports whether o is a group.
func (o Outcome) Enrolled() bool { return o > 0 }

// ReasonOutcome returns the outcome of a reason.
func ReasonOutcome(r assign.Reason) Outcome {
	switch r {
	case assign.ReasonNotSampled:
		return OutcomeNotSampled
	case assign.ReasonSampleFull:
		return OutcomeSampleFull
	case assign.ReasonNotEligible:
		return OutcomeNotEligible
	case assign.ReasonNotRunning:
		return OutcomeNotRunning
	}
	return OutcomeOtherReason
}

// reasonNames are the report's names of the negative outcomes, by -o.
var reasonNames = [...]string{"", "not_sampled", "sample_full", "not_eligible", "not_running", "other_reason"}

// GroupNames interns group names, so an answer is stored as a small number
// and compared without strings. Safe for concurrent use.
type GroupNames struct {
	mu    sync.RWMutex
	ids   map[string]Outcome
	names []string
}

// NewGroupNames returns an empty table.
func NewGroupNames() *GroupNames { return &GroupNames{ids: make(map[string]Outcome)} }

// Outcome returns the outcome "enrolled in the named group". The common case
// (a known name) takes a read lock and does not allocate.
func (g *GroupNames) Outcome(name []byte) Outcome {
	g.mu.RLock()
	o, ok := g.ids[string(name)]
	g.mu.RUnlock()
	if ok {
		return o
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if o, ok := g.ids[string(name)]; ok {
		return o
	}
	g.names = append(g.names, string(name))
	o = Outcome(len(g.names))
	g.ids[string(name)] = o
	return o
}

// Name returns the report's name of an outcome: the group name, or the
// reason ("not_sampled", ...), or "" for OutcomeNone.
func (g *GroupNames) Name(o Outcome) string {
	if o < 0 {
		if int(-o) < len(reasonNames) {
			return reasonNames[-o]
		}
		return "other_reason"
	} else if o == 0 {
		return ""
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if int(o) <= len(g.names) {
		return g.names[o-1]
	}
	return ""
}
