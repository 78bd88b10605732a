package loadtest

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxUsers bounds the population, so a typo cannot eat the machine's memory
// (tokens cost about 200 bytes a user).
const MaxUsers = 10_000_000

// Population is the set of experiments and users a run draws from. User u
// always asks about experiment u mod len(Experiments).
//
// User ids are lowercase UUIDs (stored compactly by the Redis store) made of a
// random per-run prefix and the user's index, so an id read back from the
// store maps to its index without a lookup table, and two runs never share a
// user.
type Population struct {
	Experiments []string
	Users       int
	Groups      *GroupNames // names of the groups seen in answers

	prefix [10]byte // random bytes 0..9 of every user's UUID

	// tokens holds "Bearer <jwt>" of every user back to back; tokenEnd[u] is
	// where user u's ends. One allocation and no pointers, so a million
	// tokens cost the garbage collector nothing.
	tokens   []byte
	tokenEnd []uint32
}

// NewPopulation returns a population of users users over the given
// experiments, with a user id prefix drawn from seed.
func NewPopulation(experiments []string, users int, seed uint64) (*Population, error) {
	if len(experiments) == 0 {
		return nil, fmt.Errorf("loadtest: no experiments")
	} else if users <= 0 || users > MaxUsers {
		return nil, fmt.Errorf("loadtest: users must be between 1 and %d", MaxUsers)
	}
	p := &Population{Experiments: experiments, Users: users, Groups: NewGroupNames()}
	r := rand.New(rand.NewPCG(seed, 0x6c6f6164))
	binary.BigEndian.PutUint64(p.prefix[0:8], r.Uint64())
	binary.BigEndian.PutUint16(p.prefix[8:10], uint16(r.Uint32()))
	p.prefix[6] = p.prefix[6]&0x0f | 0x40 // version 4
	p.prefix[8] = p.prefix[8]&0x3f | 0x80 // RFC 4122 variant
	return p, nil
}

// ExperimentOf returns the index of the experiment user u asks about.
func (p *Population) ExperimentOf(u int) int { return u % len(p.Experiments) }

// UserID returns the id of user u: a lowercase UUID whose last 6 bytes are u.
func (p *Population) UserID(u int) string {
	var b [16]byte
	copy(b[:10], p.prefix[:])
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], uint64(u))
	copy(b[10:], idx[2:])
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

// UserIndex returns the index of a user id of this population, or false for
// any other id.
func (p *Population) UserIndex(id string) (int, bool) {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return 0, false
	}
	var h [32]byte
	n := copy(h[:], id[0:8])
	n += copy(h[n:], id[9:13])
	n += copy(h[n:], id[14:18])
	n += copy(h[n:], id[19:23])
	copy(h[n:], id[24:36])
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return 0, false // UserID writes lowercase only
		}
	}
	var b [16]byte
	if _, err := hex.Decode(b[:], h[:]); err != nil || [10]byte(b[:10]) != p.prefix {
		return 0, false
	}
	var idx [8]byte
	copy(idx[2:], b[10:])
	u := binary.BigEndian.Uint64(idx[:])
	if u >= uint64(p.Users) {
		return 0, false
	}
	return int(u), true
}

// SignTokens signs an HS256 token for every user (sub = the user id,
// exp = expires), in parallel, before the run starts so that signing costs
// the run nothing.
func (p *Population) SignTokens(secret []byte, expires time.Time) error {
	n := p.Users
	workers := runtime.GOMAXPROCS(0)
	parts := make([][]byte, workers)
	ends := make([][]uint32, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			buf := make([]byte, 0, (hi-lo)*200)
			end := make([]uint32, 0, hi-lo)
			for u := lo; u < hi; u++ {
				tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
					"sub": p.UserID(u),
					"exp": expires.Unix(),
				})
				s, err := tok.SignedString(secret)
				if err != nil {
					errs[w] = err
					return
				}
				buf = append(buf, "Bearer "...)
				buf = append(buf, s...)
				end = append(end, uint32(len(buf)))
			}
			parts[w], ends[w] = buf, end
		}(w, lo, hi)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("loadtest: sign token: %w", err)
		}
	}
	size := 0
	for _, b := range parts {
		size += len(b)
	}
	if size > 1<<32-1 {
		return fmt.Errorf("loadtest: tokens take more than 4 GiB")
	}
	p.tokens = make([]byte, 0, size)
	p.tokenEnd = make([]uint32, 0, n)
	for w := range parts {
		base := uint32(len(p.tokens))
		p.tokens = append(p.tokens, parts[w]...)
		for _, e := range ends[w] {
			p.tokenEnd = append(p.tokenEnd, base+e)
		}
	}
	return nil
}

// Authorization returns the "Bearer <jwt>" header value of user u, or nil
// before SignTokens. The slice must not be modified.
func (p *Population) Authorization(u int) []byte {
	if u >= len(p.tokenEnd) {
		return nil
	}
	start := uint32(0)
	if u > 0 {
		start = p.tokenEnd[u-1]
	}
	return p.tokens[start:p.tokenEnd[u]:p.tokenEnd[u]]
}
