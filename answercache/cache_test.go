package answercache

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"
)

func serving(c *Cache) *Cache {
	c.ServeUntil(time.Now().Add(time.Hour))
	return c
}

func TestCache_AnswersWhatWasPut(t *testing.T) {
	c := serving(New(1000, time.Minute))
	e := c.Experiment("checkout")
	if _, ok := c.Get(e, "alice"); ok {
		t.Fatal("hit in an empty cache")
	}
	c.Put(e, "alice", c.Stamp(e), 101)
	c.Put(e, "bob", c.Stamp(e), 100)
	if v, ok := c.Get(e, "alice"); !ok || v != 101 {
		t.Fatalf("alice: %d, %v; want 101, true", v, ok)
	}
	if v, ok := c.Get(e, "bob"); !ok || v != 100 {
		t.Fatalf("bob: %d, %v; want 100, true", v, ok)
	}
	// Another experiment's handle never sees them.
	other := c.Experiment("pricing")
	if _, ok := c.Get(other, "alice"); ok {
		t.Fatal("alice's answer of checkout answered for pricing")
	}
	// A second Put of the same key replaces the value.
	c.Put(e, "alice", c.Stamp(e), 7)
	if v, _ := c.Get(e, "alice"); v != 7 {
		t.Fatalf("alice after a second put: %d, want 7", v)
	}
	st := c.Stats()
	if st.Hits != 3 || st.Misses != 2 || st.Puts != 3 {
		t.Fatalf("stats %+v: want 3 hits, 2 misses, 3 puts", st)
	}
	c.Get(e, "alice")
	c.Refuse() // the value did not apply: a miss
	if st := c.Stats(); st.Hits != 3 || st.Misses != 3 {
		t.Fatalf("stats after a refused value %+v: want 3 hits, 3 misses", st)
	}
}

func TestCache_ServesOnlyWhileAllowed(t *testing.T) {
	c := New(1000, time.Minute)
	e := c.Experiment("x")
	c.Put(e, "u", c.Stamp(e), 1)
	if _, ok := c.Get(e, "u"); ok || c.Serving() {
		t.Fatal("a new cache answered before ServeUntil")
	}
	c.ServeUntil(time.Now().Add(time.Hour))
	if _, ok := c.Get(e, "u"); !ok || !c.Serving() {
		t.Fatal("no answer while serving")
	}
	c.ServeUntil(time.Time{})
	if _, ok := c.Get(e, "u"); ok || c.Serving() {
		t.Fatal("answered after ServeUntil(zero)")
	}
	c.ServeUntil(time.Now().Add(-time.Millisecond))
	if _, ok := c.Get(e, "u"); ok {
		t.Fatal("answered past the serving deadline")
	}
}

func TestCache_Invalidate(t *testing.T) {
	c := serving(New(1000, time.Minute))
	a, b := c.Experiment("a"), c.Experiment("b")
	c.Put(a, "u", c.Stamp(a), 1)
	c.Put(b, "u", c.Stamp(b), 2)
	c.Invalidate("a")
	if _, ok := c.Get(a, "u"); ok {
		t.Fatal("a's answer survived Invalidate(a)")
	}
	if v, ok := c.Get(b, "u"); !ok || v != 2 {
		t.Fatal("Invalidate(a) dropped b's answer")
	}
	c.Invalidate("unknown") // nothing to do, no panic
	c.InvalidateAll()
	if _, ok := c.Get(b, "u"); ok {
		t.Fatal("b's answer survived InvalidateAll")
	}
	// After invalidation, new answers are kept again.
	c.Put(a, "u", c.Stamp(a), 3)
	if v, ok := c.Get(a, "u"); !ok || v != 3 {
		t.Fatal("no answer stored after the invalidation")
	}
	if st := c.Stats(); st.Invalidations != 2 || st.Flushes != 1 {
		t.Fatalf("stats %+v: want 2 invalidations, 1 flush", st)
	}
}

// An answer computed before an invalidation arrived is not stored: it may
// predate the change.
func TestCache_PutUnderAnOldStampIsDropped(t *testing.T) {
	c := serving(New(1000, time.Minute))
	e := c.Experiment("a")
	st := c.Stamp(e)
	c.Invalidate("a")
	c.Put(e, "u", st, 1)
	if _, ok := c.Get(e, "u"); ok {
		t.Fatal("an answer from before Invalidate was stored")
	}
	st = c.Stamp(e)
	c.InvalidateAll()
	c.Put(e, "u", st, 1)
	if _, ok := c.Get(e, "u"); ok {
		t.Fatal("an answer from before InvalidateAll was stored")
	}
}

// The handle of an id is one for the life of the cache, so an
// invalidation by id reaches whoever holds it.
func TestCache_OneHandlePerID(t *testing.T) {
	c := serving(New(1000, time.Minute))
	a := c.Experiment("a")
	if c.Experiment("a") != a {
		t.Fatal("two handles for one id")
	}
	c.Put(a, "u", c.Stamp(a), 1)
	c.Invalidate("a")
	if _, ok := c.Get(c.Experiment("a"), "u"); ok {
		t.Fatal("Invalidate did not reach the handle")
	}
}

func TestCache_MaxAge(t *testing.T) {
	c := serving(New(1000, time.Millisecond))
	e := c.Experiment("a")
	c.Put(e, "u", c.Stamp(e), 1)
	time.Sleep(5 * time.Millisecond)
	if _, ok := c.Get(e, "u"); ok {
		t.Fatal("an entry older than the maximum age was answered")
	}
}

// One set of Ways entries: CLOCK keeps the entries answered since the hand
// passed and evicts the others first.
func TestCache_EvictionKeepsAnsweredEntries(t *testing.T) {
	c := serving(New(Ways, time.Minute))
	if c.Size() != Ways {
		t.Fatalf("size %d, want %d", c.Size(), Ways)
	}
	e := c.Experiment("a")
	for i := range Ways {
		c.Put(e, fmt.Sprint(i), c.Stamp(e), uint32(i))
	}
	for i := range Ways / 2 {
		if _, ok := c.Get(e, fmt.Sprint(i)); !ok {
			t.Fatalf("user %d missing before any eviction", i)
		}
	}
	for i := Ways; i < Ways+Ways/2; i++ {
		c.Put(e, fmt.Sprint(i), c.Stamp(e), uint32(i))
	}
	for i := range Ways + Ways/2 {
		_, ok := c.Get(e, fmt.Sprint(i))
		if want := i < Ways/2 || i >= Ways; ok != want {
			t.Errorf("user %d: cached %v, want %v", i, ok, want)
		}
	}
	if ev := c.Stats().Evictions; ev != Ways/2 {
		t.Errorf("evictions %d, want %d", ev, Ways/2)
	}
}

// The table never holds more than its size, however many keys pass.
func TestCache_Bounded(t *testing.T) {
	c := serving(New(1024, time.Minute))
	e := c.Experiment("a")
	const n = 20000
	for i := range n {
		c.Put(e, fmt.Sprint(i), c.Stamp(e), 1)
	}
	held := 0
	for i := range n {
		if _, ok := c.Get(e, fmt.Sprint(i)); ok {
			held++
		}
	}
	if held > c.Size() || held < c.Size()/2 {
		t.Fatalf("%d of %d keys held by a cache of %d", held, n, c.Size())
	}
}

func TestCache_EntrySize(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n != EntryBytes {
		t.Fatalf("an entry is %d bytes; EntryBytes (the size flag's documentation) says %d", n, EntryBytes)
	}
}

func TestCache_NoAllocations(t *testing.T) {
	c := serving(New(1<<12, time.Minute))
	e := c.Experiment("a")
	user := "c0a80101-0000-4000-8000-00000000beef"
	c.Put(e, user, c.Stamp(e), 1)
	if n := testing.AllocsPerRun(1000, func() { c.Get(e, user) }); n != 0 {
		t.Errorf("Get allocates %.1f times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { c.Put(e, user, c.Stamp(e), 1) }); n != 0 {
		t.Errorf("Put allocates %.1f times", n)
	}
}

func TestCache_Concurrent(t *testing.T) {
	c := serving(New(1<<10, time.Minute))
	exps := []*Experiment{c.Experiment("a"), c.Experiment("b")}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5000 {
				e := exps[i%2]
				u := fmt.Sprint(w, ":", i%300)
				if v, ok := c.Get(e, u); ok && v != uint32(i%300) {
					t.Errorf("%s answered %d, want %d", u, v, i%300)
					return
				}
				c.Put(e, u, c.Stamp(e), uint32(i%300))
				if i%1000 == 0 {
					c.Invalidate("a")
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkCache measures a hit and a store, and reports the table's memory
// per entry (bytes/entry), for BENCHMARKS.md.
func BenchmarkCache(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := serving(New(DefaultSize, time.Minute))
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / float64(c.Size())
	e := c.Experiment("checkout")
	users := make([]string, 1<<16)
	for i := range users {
		users[i] = fmt.Sprintf("c0a80101-0000-4000-8000-%012x", i)
		c.Put(e, users[i], c.Stamp(e), 100)
	}
	b.Run("Hit", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, ok := c.Get(e, users[i&(len(users)-1)]); !ok {
				b.Fatal("miss")
			}
		}
		b.ReportMetric(perEntry, "bytes/entry")
	})
	b.Run("Put", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c.Put(e, users[i&(len(users)-1)], c.Stamp(e), 100)
		}
	})
	b.Run("HitParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				c.Get(e, users[i&(len(users)-1)])
				i++
			}
		})
	})
	runtime.KeepAlive(c)
}
