package loadtest

import (
	"math/rand/v2"
	"sync/atomic"
)

// Ledger remembers the first answer each user got, so that every later
// answer can be compared with it (stickiness), online and against the store
// after the run. Safe for concurrent use, without locks.
type Ledger struct {
	first []atomic.Int32 // Outcome by user; OutcomeNone until answered

	// answered lists the users with a first answer, in the order they got it:
	// the pool returning users are drawn from. A slot is reserved by bumping
	// reserved and then filled with user+1, so a reader that finds a zero
	// slot knows the writer is mid-way and looks elsewhere.
	answered []atomic.Int32
	reserved atomic.Int64
}

// NewLedger returns an empty ledger for users users.
func NewLedger(users int) *Ledger {
	return &Ledger{first: make([]atomic.Int32, users), answered: make([]atomic.Int32, users)}
}

// First returns the first answer of user u, or OutcomeNone.
func (l *Ledger) First(u int) Outcome { return Outcome(l.first[u].Load()) }

// Record stores o as the answer of user u if u has none yet. It returns the
// user's first answer and whether o was it.
func (l *Ledger) Record(u int, o Outcome) (first Outcome, isFirst bool) {
	if l.first[u].CompareAndSwap(int32(OutcomeNone), int32(o)) {
		i := l.reserved.Add(1) - 1
		l.answered[i].Store(int32(u) + 1)
		return o, true
	}
	return Outcome(l.first[u].Load()), false
}

// Answered returns how many users have a first answer.
func (l *Ledger) Answered() int64 { return l.reserved.Load() }

// randomAnswered returns a uniformly drawn user that has a first answer.
func (l *Ledger) randomAnswered(r *rand.Rand) (int, bool) {
	n := l.reserved.Load()
	for try := 0; try < 4 && n > 0; try++ {
		if u := l.answered[r.Int64N(n)].Load(); u != 0 {
			return int(u - 1), true
		}
	}
	return 0, false
}

// Mix decides, for each request, whether it comes from a new user or from a
// returning one (a user who already has an answer, drawn uniformly).
type Mix struct {
	returning float64
	users     int
	ledger    *Ledger
	next      atomic.Int64 // next new user
}

// NewMix returns a mix where a fraction returning (0 to 1) of the requests
// come from returning users. New users are handed out in order 0, 1, ...;
// once all have been used, every request is from a returning user.
func NewMix(returning float64, users int, ledger *Ledger) *Mix {
	return &Mix{returning: returning, users: users, ledger: ledger}
}

// Pick returns the user of the next request and whether it is returning.
// Until some user has an answer, requests come from new users whatever the
// ratio.
func (m *Mix) Pick(r *rand.Rand) (user int, returning bool) {
	if m.returning > 0 && r.Float64() < m.returning {
		if u, ok := m.ledger.randomAnswered(r); ok {
			return u, true
		}
	}
	if n := m.next.Add(1) - 1; n < int64(m.users) {
		return int(n), false
	}
	if u, ok := m.ledger.randomAnswered(r); ok {
		return u, true
	}
	// Every user was handed out and none has an answer yet (they failed or
	// are in flight): ask again for any of them.
	return r.IntN(m.users), false
}

// NewUsers returns how many new users were handed out.
func (m *Mix) NewUsers() int64 { return min(m.next.Load(), int64(m.users)) }
