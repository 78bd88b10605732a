package loadtest

import (
	"fmt"
	"sort"
	"strings"
)

// Verification is what checking a store after a run found. OK is true when
// every invariant held:
//   - no experiment has more members than its maximum sample size;
//   - every member is counted once: the member counter equals the number of
//     members stored, and each group's counter the members stored with that
//     group (so their sum too);
//   - every user of the run is where its first answer said: a member of that
//     group if it was told "enrolled", not a member otherwise (users whose
//     first request failed are not checked: the store may or may not have
//     recorded them);
//   - no user of the run is a member of an experiment it never asked about.
type Verification struct {
	Store        string            `json:"store"` // "redis" or "postgres"
	OK           bool              `json:"ok"`
	Experiments  []ExperimentCheck `json:"experiments"`
	Members      int64             `json:"members"`       // members stored in all experiments checked
	UsersChecked int64             `json:"users_checked"` // users of the run compared with the store
	Violations   int64             `json:"violations"`
	Problems     []string          `json:"problems,omitempty"` // the first few violations
}

// ExperimentCheck is the state of one experiment as the store holds it.
type ExperimentCheck struct {
	ID             string           `json:"experiment_id"`
	Max            int64            `json:"maximum_sample_size"`
	Counter        int64            `json:"counter"` // the store's member counter
	Members        int64            `json:"members"` // members actually stored
	GroupCounters  map[string]int64 `json:"group_counters"`
	GroupMembers   map[string]int64 `json:"group_members"`
	ForeignMembers int64            `json:"foreign_members,omitempty"` // members not from this run
}

const maxProblems = 20

func (v *Verification) problem(format string, args ...any) {
	v.Violations++
	v.OK = false
	if len(v.Problems) < maxProblems {
		v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	}
}

// checkCounts checks one experiment's counters against its stored members,
// and appends it to v.
func (v *Verification) checkCounts(c ExperimentCheck) {
	if c.Counter > c.Max {
		v.problem("experiment %s: %d members counted, over its cap of %d", c.ID, c.Counter, c.Max)
	}
	if c.Members > c.Max {
		v.problem("experiment %s: %d members stored, over its cap of %d", c.ID, c.Members, c.Max)
	}
	if c.Counter != c.Members {
		v.problem("experiment %s: counter says %d members, %d stored", c.ID, c.Counter, c.Members)
	}
	var sum int64
	for g, n := range c.GroupCounters {
		sum += n
		if m := c.GroupMembers[g]; m != n {
			v.problem("experiment %s: group %q counter says %d, %d stored", c.ID, g, n, m)
		}
	}
	for g, m := range c.GroupMembers {
		if _, ok := c.GroupCounters[g]; !ok {
			v.problem("experiment %s: %d members in group %q, which has no counter", c.ID, m, g)
		}
	}
	if sum != c.Counter {
		v.problem("experiment %s: group counters add up to %d, counter says %d", c.ID, sum, c.Counter)
	}
	v.Members += c.Members
	v.Experiments = append(v.Experiments, c)
}

// memberChecker compares stored members with a run's ledger.
type memberChecker struct {
	pop    *Population
	ledger *Ledger
	v      *Verification
	found  []uint64 // bitset of the run's users found as members
}

func newMemberChecker(pop *Population, ledger *Ledger, v *Verification) *memberChecker {
	return &memberChecker{pop: pop, ledger: ledger, v: v, found: make([]uint64, (pop.Users+63)/64)}
}

// member checks one stored member of experiment exp; it returns false for a
// user that is not of this run.
func (m *memberChecker) member(exp int, userID, group string) bool {
	u, ok := m.pop.UserIndex(userID)
	if !ok {
		return false
	}
	if want := m.pop.ExperimentOf(u); want != exp {
		m.v.problem("user %s is a member of %s but only asked about %s",
			userID, m.pop.Experiments[exp], m.pop.Experiments[want])
		return true
	}
	if m.found[u/64]&(1<<(u%64)) != 0 {
		m.v.problem("user %s is stored twice in %s", userID, m.pop.Experiments[exp])
	}
	m.found[u/64] |= 1 << (u % 64)
	switch first := m.ledger.First(u); {
	case first == OutcomeNone:
		// Its requests failed: the store may have recorded it or not.
	case !first.Enrolled():
		m.v.problem("user %s is a member of %s in %q but was told %q",
			userID, m.pop.Experiments[exp], group, m.pop.Groups.Name(first))
	case m.pop.Groups.Name(first) != group:
		m.v.problem("user %s is a member of %s in %q but was told %q",
			userID, m.pop.Experiments[exp], group, m.pop.Groups.Name(first))
	}
	return true
}

// finish reports the users told "enrolled" that no experiment holds.
func (m *memberChecker) finish() {
	for u := 0; u < m.pop.Users; u++ {
		first := m.ledger.First(u)
		if first == OutcomeNone {
			continue
		}
		m.v.UsersChecked++
		if first.Enrolled() && m.found[u/64]&(1<<(u%64)) == 0 {
			m.v.problem("user %s was told %q in %s but is not a member",
				m.pop.UserID(u), m.pop.Groups.Name(first), m.pop.Experiments[m.pop.ExperimentOf(u)])
		}
	}
}

func (v *Verification) writeText(b *strings.Builder) {
	verdict := "OK"
	if !v.OK {
		verdict = fmt.Sprintf("FAILED (%d violations)", v.Violations)
	}
	var counted, max int64
	over := 0
	for _, c := range v.Experiments {
		counted += c.Counter
		max += c.Max
		if c.Counter > c.Max {
			over++
		}
	}
	fmt.Fprintf(b, "verify      %s: %s; %d experiments (%d over cap), %d members stored, %d counted, %d users of the run checked\n",
		v.Store, verdict, len(v.Experiments), over, v.Members, counted, v.UsersChecked)
	if len(v.Experiments) <= 5 {
		for _, c := range v.Experiments {
			groups := make([]string, 0, len(c.GroupMembers))
			for g, n := range c.GroupMembers {
				groups = append(groups, fmt.Sprintf("%s=%d", g, n))
			}
			sort.Strings(groups)
			fmt.Fprintf(b, "            %s: %d/%d members (%s)\n", c.ID, c.Members, c.Max, strings.Join(groups, " "))
		}
	}
	for _, p := range v.Problems {
		fmt.Fprintf(b, "  ! %s\n", p)
	}
}
