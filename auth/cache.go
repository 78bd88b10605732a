package auth

import (
	"crypto/subtle"
	"hash/maphash"
	"sync"
	"time"
)

// cache remembers successfully verified tokens until their expiry, so a
// client that sends the same token on every request pays for parsing and the
// signature once. It is safe because the Verifier's rules and static keys
// never change, a token verified by a JWKS key is dropped once that key is
// removed from its set, an entry matches only the exact same token bytes,
// and every hit re-checks exp against the clock (nbf, once passed, stays
// passed).
//
// It is bounded: each shard holds at most its share of the capacity and, when
// full, drops an arbitrary entry (Go's map iteration starts at a random
// place), which costs O(1) whatever the churn of new tokens.
type cache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

const cacheShards = 16

type cacheShard struct {
	mu sync.Mutex
	m  map[uint64]*cacheEntry
}

type cacheEntry struct {
	token  string
	claims Claims
	exp    time.Time
	key    *jwksKey // the JWKS key that verified it; nil for a static key
}

func newCache(size int) *cache {
	c := &cache{seed: maphash.MakeSeed(), perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*cacheEntry)
	}
	return c
}

// get returns the claims of token if it was verified before and has not
// expired at now (with the same leeway as the parser: valid while
// now < exp+leeway).
func (c *cache) get(token []byte, now time.Time, leeway time.Duration) (Claims, bool) {
	h := maphash.Bytes(c.seed, token)
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	e := s.m[h]
	if e != nil && (!now.Before(e.exp.Add(leeway)) || (e.key != nil && e.key.removed.Load())) {
		delete(s.m, h)
		e = nil
	}
	s.mu.Unlock()
	// Compare in constant time: the cached token is a valid credential. The
	// conversion copies nothing (the compiler sees it unmodified, unkept:
	// TestVerifier_CachedNoAlloc).
	if e == nil || subtle.ConstantTimeCompare([]byte(e.token), token) != 1 {
		return Claims{}, false
	}
	return e.claims, true
}

// put remembers a verified token (by key, when a JWKS key verified it).
func (c *cache) put(token string, claims Claims, exp time.Time, key *jwksKey) {
	h := maphash.String(c.seed, token)
	e := &cacheEntry{token: token, claims: claims, exp: exp, key: key}
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	if _, ok := s.m[h]; !ok && len(s.m) >= c.perShard {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[h] = e
	s.mu.Unlock()
}

// len returns the number of entries, for tests.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
