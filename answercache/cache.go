// Package answercache keeps recent enrollment answers in process memory, so
// that a returning user is answered without a Redis round trip.
//
// It knows nothing of Redis or of what an answer means: it maps (experiment,
// user) to a small value, and forgets it when told to. An entry is answered
// only while three things hold: the experiment's handle has not been
// invalidated since the value was computed (Stamp, read before the question
// was asked), the entry is younger than the maximum age, and the cache is
// serving (ServeUntil: its owner has proof, recent enough, that no
// invalidation can have been missed). Whoever fills it decides which answers
// are safe to keep.
//
// The table is set-associative: a fixed array of sets of Ways entries, with
// a CLOCK reference bit per entry for eviction within a set. It never grows,
// never rehashes and allocates nothing per call; an entry is 40 bytes. Keys
// are kept as two independent 64-bit hashes of (experiment id, user id), so
// a user's answer could only be mistaken for another's if both hashes
// collided (about 2^-128 per pair).
package answercache

import (
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// Ways is the number of entries per set: a lookup compares at most this many.
const Ways = 8

// DefaultSize is the default capacity in entries (about 40 MiB).
const DefaultSize = 1 << 20

// DefaultMaxAge is the default longest time an entry is answered: the bound on
// what an invalidation lost without any sign costs (see package redisstore's
// Listen for the signs that are watched).
const DefaultMaxAge = 30 * time.Second

// EntryBytes is the memory of one entry of the table.
const EntryBytes = 40

// Cache is a bounded map from (experiment, user) to a uint32 value. Its
// methods are safe for concurrent use. The zero value is not usable: call
// New.
type Cache struct {
	shards []shard
	// shardShift turns a hash into a shard index (its top bits); each
	// shard's sets are indexed by the low bits.
	shardShift uint
	setMask    uint64
	seeds      [2]maphash.Seed
	maxAge     int64 // nanoseconds
	start      time.Time

	global       atomic.Uint32 // bumped by InvalidateAll
	nextEpoch    atomic.Uint64 // source of experiment epochs: never reused
	servingUntil atomic.Int64  // nanoseconds since start

	handles sync.Map // experiment id -> *Experiment

	invalidations, flushes atomic.Uint64
	refused                atomic.Uint64 // values returned by Get that did not apply (Refuse)
}

type shard struct {
	mu   sync.Mutex
	hand uint32 // CLOCK hand, shared by the shard's sets
	sets [][Ways]entry
	// Counters, under mu: per shard, so that cores do not fight over one
	// cache line on every call.
	hits, misses, puts, evictions uint64
	_                             [32]byte // keep shards' locks on separate cache lines
}

// entry is one cached answer. h2 is never 0 in a used entry.
type entry struct {
	h1, h2 uint64
	epoch  uint64 // the experiment handle's epoch it was computed under
	at     int64  // when it was stored, nanoseconds since Cache.start
	value  uint32
	global uint16 // Cache.global it was computed under (wraps after 65,536 flushes, long after any entry expired)
	ref    uint8  // CLOCK reference bit: answered since the hand last passed
}

// Experiment is the handle of one experiment's answers. Invalidating it (a
// new epoch) makes every answer stored under the old epoch a miss.
type Experiment struct {
	epoch atomic.Uint64
	ids   [2]uint64 // the id's hash under each seed
}

// Stamp is what an answer is valid under: read it before asking the
// question, store the answer with it.
type Stamp struct {
	epoch  uint64
	global uint16
}

// New returns a cache of about size entries (rounded up to a power of two
// sets of Ways) answering entries for at most maxAge. It serves nothing
// until ServeUntil says so.
func New(size int, maxAge time.Duration) *Cache {
	if size < Ways {
		size = Ways
	}
	sets := 1 << bits.Len(uint((size+Ways-1)/Ways-1)) // power of two, >= size/Ways
	nShards := 64
	for nShards > 1 && sets/nShards < 1 {
		nShards /= 2
	}
	c := &Cache{
		shards:     make([]shard, nShards),
		shardShift: uint(64 - bits.TrailingZeros(uint(nShards))),
		setMask:    uint64(sets/nShards - 1),
		seeds:      [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		maxAge:     int64(maxAge),
		start:      time.Now(),
	}
	if nShards == 1 {
		c.shardShift = 64
	}
	for i := range c.shards {
		c.shards[i].sets = make([][Ways]entry, sets/nShards)
	}
	return c
}

// Size returns the capacity in entries.
func (c *Cache) Size() int { return len(c.shards) * len(c.shards[0].sets) * Ways }

// Experiment returns the handle of experiment id, the same for the life of
// the cache. Whoever holds answers computed under one definition of the
// experiment and learns of another (the experiment was lost and created
// again) calls Invalidate.
func (c *Cache) Experiment(id string) *Experiment {
	if v, ok := c.handles.Load(id); ok {
		return v.(*Experiment)
	}
	e := &Experiment{}
	e.epoch.Store(c.nextEpoch.Add(1))
	e.ids = [2]uint64{maphash.String(c.seeds[0], id), maphash.String(c.seeds[1], id)}
	v, _ := c.handles.LoadOrStore(id, e)
	return v.(*Experiment)
}

// Invalidate forgets every answer of experiment id.
func (c *Cache) Invalidate(id string) {
	c.invalidations.Add(1)
	if v, ok := c.handles.Load(id); ok {
		v.(*Experiment).epoch.Store(c.nextEpoch.Add(1))
	}
}

// InvalidateAll forgets every answer.
func (c *Cache) InvalidateAll() {
	c.flushes.Add(1)
	c.global.Add(1)
}

// ServeUntil lets the cache answer until t (and not after); a zero time
// stops it now. Its owner moves the deadline forward while it has proof
// that no invalidation was missed.
func (c *Cache) ServeUntil(t time.Time) {
	if t.IsZero() {
		c.servingUntil.Store(0)
		return
	}
	c.servingUntil.Store(int64(t.Sub(c.start)))
}

// Serving reports whether the cache answers now.
func (c *Cache) Serving() bool { return c.now() < c.servingUntil.Load() }

// Stamp returns what an answer computed from now on is valid under.
func (c *Cache) Stamp(e *Experiment) Stamp {
	return Stamp{epoch: e.epoch.Load(), global: uint16(c.global.Load())}
}

func (c *Cache) now() int64 { return int64(time.Since(c.start)) }

// key returns the two hashes of (experiment, user); h2 is never 0. Each is
// the user's hash under its seed mixed with the id's: for two pairs to
// collide, both would have to, independently.
func (c *Cache) key(e *Experiment, user string) (h1, h2 uint64) {
	return mix(maphash.String(c.seeds[0], user) ^ e.ids[0]), mix(maphash.String(c.seeds[1], user)^e.ids[1]) | 1
}

// mix is the finalizer of SplitMix64: every bit of x reaches every bit of
// the result, so the xor of two hashes spreads over sets and shards.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (c *Cache) locate(h1 uint64) (*shard, *[Ways]entry) {
	sh := &c.shards[h1>>c.shardShift&uint64(len(c.shards)-1)]
	return sh, &sh.sets[h1&c.setMask]
}

// Get returns the value stored for user in experiment e, if it is still
// valid and the cache is serving.
func (c *Cache) Get(e *Experiment, user string) (uint32, bool) {
	now := c.now()
	st := c.Stamp(e)
	h1, h2 := c.key(e, user)
	sh, set := c.locate(h1)
	sh.mu.Lock()
	if now >= c.servingUntil.Load() {
		sh.misses++
		sh.mu.Unlock()
		return 0, false
	}
	for i := range set {
		en := &set[i]
		if en.h1 == h1 && en.h2 == h2 {
			if en.epoch == st.epoch && en.global == st.global && now-en.at < c.maxAge {
				v := en.value
				en.ref = 1
				sh.hits++
				sh.mu.Unlock()
				return v, true
			}
			break
		}
	}
	sh.misses++
	sh.mu.Unlock()
	return 0, false
}

// Put stores value for user in experiment e, computed under st. Nothing is
// stored when e was invalidated since st was read: the value may predate
// the change.
func (c *Cache) Put(e *Experiment, user string, st Stamp, value uint32) {
	if c.Stamp(e) != st {
		return
	}
	now := c.now()
	h1, h2 := c.key(e, user)
	sh, set := c.locate(h1)
	sh.mu.Lock()
	victim := -1
	for i := range set {
		en := &set[i]
		if en.h1 == h1 && en.h2 == h2 {
			victim = i // the same key: replace it in place
			break
		}
		if victim < 0 && (en.h2 == 0 || now-en.at >= c.maxAge) {
			victim = i // free or expired
		}
	}
	if victim < 0 {
		// The set is full of live entries: CLOCK, from the shard's hand,
		// gives each entry answered since the hand last passed a second
		// chance; after a full turn every bit is clear.
		for i := 0; victim < 0; i++ {
			en := &set[(sh.hand+uint32(i))%Ways]
			if en.ref == 0 {
				victim = int((sh.hand + uint32(i)) % Ways)
			}
			en.ref = 0
		}
		sh.hand = uint32(victim + 1)
		sh.evictions++
	}
	set[victim] = entry{h1: h1, h2: h2, epoch: st.epoch, global: st.global, at: now, value: value}
	sh.puts++
	sh.mu.Unlock()
}

// Refuse tells the cache that the value Get just returned does not answer
// the caller's question (the caller keeps variants of an answer apart in
// the value itself): it counts as a miss, not a hit.
func (c *Cache) Refuse() { c.refused.Add(1) }

// Stats are the cache's counters since New.
type Stats struct {
	Hits, Misses, Puts, Evictions uint64
	// Invalidations counts Invalidate calls (one experiment), Flushes
	// InvalidateAll calls.
	Invalidations, Flushes uint64
	Serving                bool
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	// Refusals first: each follows a hit already counted in its shard, so
	// the hits never appear to go down between two reads.
	r := c.refused.Load()
	st := Stats{Invalidations: c.invalidations.Load(), Flushes: c.flushes.Load(), Serving: c.Serving()}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		st.Hits, st.Misses, st.Puts, st.Evictions = st.Hits+sh.hits, st.Misses+sh.misses, st.Puts+sh.puts, st.Evictions+sh.evictions
		sh.mu.Unlock()
	}
	st.Hits, st.Misses = st.Hits-min(r, st.Hits), st.Misses+r
	return st
}
