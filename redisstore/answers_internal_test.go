package redisstore

import (
	"testing"
	"time"

	"github.com/assign-dev/assign/answercache"
	"github.com/assign-dev/assign/scripts"
)

// Which replies the answer cache keeps, and for whom they are answered
// again (answers.go).
func TestKeptAnswer(t *testing.T) {
	plain, layered := &definition{}, &definition{layer: "{layer:l}"}
	cases := []struct {
		name     string
		d        *definition
		code     int64
		eligible bool
		kept     bool
		want     int64 // the reply answered again
		anyone   bool  // answered whatever the eligibility
	}{
		{"NewMemberAnsweredAsExisting", plain, scripts.ReplyNew + 1, true, true, scripts.ReplyExisting + 1, true},
		{"ExistingMember", plain, scripts.ReplyExisting + 0, false, true, scripts.ReplyExisting, true},
		{"Override", plain, scripts.ReplyOverride + 2, false, true, scripts.ReplyOverride + 2, true},
		{"RolledOut", plain, scripts.ReplyRolledOut + 1, true, true, scripts.ReplyRolledOut + 1, false},
		{"RolledOutToAMemberNoLongerEligible", plain, scripts.ReplyRolledOut + 1, false, false, 0, false},
		{"NotSampled", plain, scripts.ReplyNotSampled, true, true, scripts.ReplyNotSampled, false},
		{"SampleFull", plain, scripts.ReplySampleFull, true, true, scripts.ReplySampleFull, false},
		{"NotEligible", plain, scripts.ReplyNotEligible, false, false, 0, false},
		{"NotRunning", plain, scripts.ReplyNotRunning, true, false, 0, false},
		{"NotFound", plain, scripts.ReplyNotFound, true, false, 0, false},
		{"Stale", plain, scripts.ReplyStale, true, false, 0, false},
		{"LayerMember", layered, scripts.ReplyNew, true, true, scripts.ReplyExisting, true},
		{"LayerOverride", layered, scripts.ReplyOverride + 1, true, true, scripts.ReplyOverride + 1, true},
		{"LayerRolledOut", layered, scripts.ReplyRolledOut, true, false, 0, false},
		{"LayerNotEligible", layered, scripts.ReplyNotEligible, false, false, 0, false},
		{"LayerSampleFull", layered, scripts.ReplySampleFull, true, false, 0, false},
		{"LayerNotSampled", layered, scripts.ReplyNotSampled, true, false, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, ok := c.d.keptAnswer(c.code, c.eligible)
			if ok != c.kept {
				t.Fatalf("kept %v, want %v", ok, c.kept)
			}
			if !ok {
				return
			}
			if got, ok := keptCode(v, c.eligible); !ok || got != c.want {
				t.Fatalf("answered again %d, %v; want %d", got, ok, c.want)
			}
			got, ok := keptCode(v, !c.eligible)
			if ok != c.anyone || (ok && got != c.want) {
				t.Fatalf("for the other eligibility: %d, %v; want it answered: %v", got, ok, c.anyone)
			}
		})
	}
}

// A skipped heartbeat number means a message through that master may have
// been lost, and another run id behind a master's address another server
// (restarted empty, or put there by a failover): either empties the cache.
// A heartbeat's time is when it was sent.
func TestListener_HeartbeatGapOrNewServerEmptiesTheCache(t *testing.T) {
	c := answercache.New(64, time.Minute)
	c.ServeUntil(time.Now().Add(time.Hour))
	l := &listener{start: time.Now().Add(-time.Hour), cache: c, heard: map[string]heardBeat{}, sent: map[string]uint64{}}
	e := c.Experiment("x")
	kept := func() bool {
		t.Helper()
		c.Put(e, "u", c.Stamp(e), 1)
		_, ok := c.Get(e, "u")
		return ok
	}
	if !kept() {
		t.Fatal("nothing kept to begin with")
	}
	for _, beat := range []string{"m:1 r1 1 5", "m:1 r1 2 6", "m:1 r1 2 6", "m:2 r2 7 6", " r0 1 6", "bad", "m:1 r1 x 7"} {
		l.heardBeat(beat)
	}
	if _, ok := c.Get(e, "u"); !ok || c.Stats().Flushes != 0 {
		t.Fatal("emptied without a gap (a repeated number or another master's first beat is none)")
	}
	if h := l.heard["m:1"]; h.seq != 2 || !h.at.Equal(l.start.Add(6)) {
		t.Fatalf("heard %+v: want number 2, sent at start+6ns", h)
	}
	if h, ok := l.heard[""]; !ok || h.runID != "r0" {
		t.Fatalf("the single node's beat (empty address): %+v, %v", h, ok)
	}
	l.heardBeat("m:1 r1 4 8")
	if _, ok := c.Get(e, "u"); ok || c.Stats().Flushes != 1 {
		t.Fatalf("a gap (2 then 4) did not empty the cache: %+v", c.Stats())
	}
	if !kept() {
		t.Fatal("nothing kept after the flush")
	}
	l.heardBeat("m:1 r9 5 9")
	if _, ok := c.Get(e, "u"); ok || c.Stats().Flushes != 2 {
		t.Fatalf("another run id behind m:1 did not empty the cache: %+v", c.Stats())
	}
}

// The cache answers only while the subscription holds and every master of
// the topology was heard within HeartbeatWindow; it is emptied whenever it
// starts answering again.
func TestListener_Update(t *testing.T) {
	c := answercache.New(64, time.Minute)
	l := &listener{cache: c, heard: map[string]heardBeat{}, sent: map[string]uint64{}}
	now := time.Now()
	l.update([]string{"a", "b"})
	if c.Serving() {
		t.Fatal("serving before the subscription")
	}
	l.subscribed = 2
	l.heard["a"] = heardBeat{seq: 1, at: now}
	l.update([]string{"a", "b"})
	if c.Serving() {
		t.Fatal("serving with master b never heard")
	}
	l.heard["b"] = heardBeat{seq: 1, at: now.Add(-HeartbeatWindow - time.Millisecond)}
	l.update([]string{"a", "b"})
	if c.Serving() {
		t.Fatal("serving with master b heard longer than HeartbeatWindow ago")
	}
	l.heard["b"] = heardBeat{seq: 2, at: now}
	l.heard["gone"] = heardBeat{seq: 9, at: now}
	l.update([]string{"a", "b"})
	if !c.Serving() || c.Stats().Flushes != 1 {
		t.Fatalf("every master heard: serving %v, flushes %d; want serving after one flush", c.Serving(), c.Stats().Flushes)
	}
	if _, ok := l.heard["gone"]; ok {
		t.Fatal("a master that left the topology is still awaited")
	}
	l.update([]string{"a", "b"})
	if c.Stats().Flushes != 1 {
		t.Fatal("emptied again while it kept answering")
	}
	l.lost(t.Context(), nil)
	if c.Serving() || len(l.heard) != 0 {
		t.Fatal("still serving after the subscription was lost")
	}
}
