package http

import (
	"sync"
	"sync/atomic"
)

// maxInternedIDs bounds the experiment ids an idTable keeps: a service runs
// tens or hundreds of experiments at once; past the bound an id costs its
// string, as it did before the table.
const maxInternedIDs = 1024

// idTable interns the ids of the experiments that answered a decision, so
// that an enrollment body naming one of them costs no string: the id is
// looked up by the body's bytes. Only ids the store decided on are added
// (an unknown experiment is an error, not a decision), the first
// maxInternedIDs of them. The map is copied on each addition and never
// modified once published, so a lookup takes no lock.
type idTable struct {
	m  atomic.Pointer[map[string]string]
	mu sync.Mutex // serializes add
}

// lookup returns the interned id equal to b, without allocating.
func (t *idTable) lookup(b []byte) (string, bool) {
	m := t.m.Load()
	if m == nil {
		return "", false
	}
	id, ok := (*m)[string(b)]
	return id, ok
}

// add interns id, unless the table is full or holds it already.
func (t *idTable) add(id string) {
	if old := t.m.Load(); old != nil {
		if _, ok := (*old)[id]; ok || len(*old) >= maxInternedIDs {
			return
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var old map[string]string
	if p := t.m.Load(); p != nil {
		old = *p
	}
	if _, ok := old[id]; ok || len(old) >= maxInternedIDs {
		return
	}
	m := make(map[string]string, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[id] = id
	t.m.Store(&m)
}

// len returns the number of interned ids, for tests.
func (t *idTable) len() int {
	if m := t.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}
