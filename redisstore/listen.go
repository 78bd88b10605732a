package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/answercache"
)

// The answer cache (Store.Answers) may answer only while this process is
// sure to hear of every configuration change. The creation and update
// scripts publish the experiment's id on Keys.ChangeChannel in the same
// atomic step as the change; Listen subscribes to it and invalidates the
// experiment's answers. Pub/sub delivers at most once, so Listen also proves,
// continuously, that nothing can have been missed: every HeartbeatInterval
// it publishes a numbered heartbeat through every master (a cluster's
// masters broadcast it to the node Listen is subscribed to over the same
// links as the changes, in order), and the cache answers only until
// HeartbeatWindow after the oldest of the masters' latest heartbeats came
// back. A change is thus answered from the cache for at most about
// HeartbeatWindow after it was applied, even when its message is lost:
//
//   - a dropped subscription (a Redis restart, a failover of the node
//     subscribed to, a network fault) stops the cache at once, and a gap in
//     a master's heartbeat numbers empties it;
//   - a master that stops answering (killed, partitioned, failing over)
//     stops the cache within HeartbeatWindow, for the whole process, until
//     every master of the new topology is heard again;
//   - whenever the cache starts answering again it is emptied first, so
//     nothing computed before an interruption (such as a member a failover
//     lost) outlives it.
//
// What remains, a message lost on a link that recovered between two
// heartbeats, is bounded by the cache's maximum age.

// HeartbeatInterval is how often Listen publishes its heartbeat through every
// master.
const HeartbeatInterval = 250 * time.Millisecond

// HeartbeatWindow is how long after the latest proof that no change can have
// been missed the cache still answers: the staleness bound of a change
// (README, Operations: the answer cache).
const HeartbeatWindow = time.Second

// Listen keeps the answer cache honest (see above) until ctx is done: it
// lets it answer only while its subscription holds and its heartbeats come
// back. It returns nil at once when the store has no cache.
func (s *Store) Listen(ctx context.Context) error {
	c := s.Answers
	if c == nil {
		return nil
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	l := &listener{
		store:     s,
		cache:     c,
		changes:   s.keys.ChangeChannel(),
		heartbeat: s.keys.HeartbeatChannel(hex.EncodeToString(id[:])),
		heard:     map[string]heardBeat{},
		sent:      map[string]uint64{},
	}
	defer c.ServeUntil(time.Time{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.beat(ctx)
	}()
	defer wg.Wait()
	for ctx.Err() == nil {
		l.receive(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond): // then subscribe again
		}
	}
	return nil
}

type listener struct {
	store              *Store
	cache              *answercache.Cache
	changes, heartbeat string

	mu         sync.Mutex
	subscribed int                  // channels of the current subscription confirmed (2: both)
	heard      map[string]heardBeat // master address -> its latest heartbeat heard
	sent       map[string]uint64    // master address -> number of the last heartbeat published through it
	serving    bool
	down       bool // the subscription was lost and not heard since (said once per outage)
}

type heardBeat struct {
	seq uint64
	at  time.Time
}

// receive subscribes and handles messages until the subscription fails.
func (l *listener) receive(ctx context.Context) {
	ps := l.store.client.Subscribe(ctx, l.changes, l.heartbeat)
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	defer ps.Close()
	for {
		// A timeout is a fault too: heartbeats come every HeartbeatInterval.
		msg, err := ps.ReceiveTimeout(ctx, 4*HeartbeatWindow)
		if err != nil {
			l.lost(ctx, err)
			return
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				l.mu.Lock()
				l.subscribed = m.Count
				l.mu.Unlock()
			}
		case *redis.Message:
			if m.Channel == l.changes {
				l.cache.Invalidate(m.Payload)
			} else if m.Channel == l.heartbeat {
				l.heardBeat(m.Payload)
			}
		}
	}
}

// lost handles a failed subscription: nothing is answered until a new one
// is confirmed and every master heard through it.
func (l *listener) lost(ctx context.Context, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.subscribed = 0
	clear(l.heard) // every master must be heard again through the next subscription
	l.stopServing()
	if ctx.Err() == nil && !l.down {
		slog.Warn("answer cache: change subscription lost; answering from Redis until it is back", "err", err)
	}
	l.down = true
}

// heardBeat records a heartbeat "<master address> <number>" that came back.
// A number skipped means a message through that master may have been lost.
func (l *listener) heardBeat(payload string) {
	addr, n, ok := strings.Cut(payload, " ")
	seq, err := strconv.ParseUint(n, 10, 64)
	if !ok || err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	prev, known := l.heard[addr]
	if known && seq <= prev.seq {
		return // a heartbeat published twice (a retried call)
	}
	if known && seq != prev.seq+1 {
		l.cache.InvalidateAll()
	}
	l.heard[addr] = heardBeat{seq: seq, at: time.Now()}
}

func (l *listener) stopServing() {
	l.cache.ServeUntil(time.Time{})
	l.serving = false
}

// beat publishes the heartbeats and moves the cache's deadline, every
// HeartbeatInterval, until ctx is done.
func (l *listener) beat(ctx context.Context) {
	t := time.NewTicker(HeartbeatInterval)
	defer t.Stop()
	for {
		masters := l.publish(ctx)
		l.update(masters)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// publish sends one heartbeat through every master and returns the
// addresses of the masters of the current topology.
func (l *listener) publish(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, HeartbeatInterval)
	defer cancel()
	send := func(ctx context.Context, addr string, c redis.Cmdable) {
		l.mu.Lock()
		seq := l.sent[addr] + 1
		l.mu.Unlock()
		if c.Publish(ctx, l.heartbeat, addr+" "+strconv.FormatUint(seq, 10)).Err() == nil {
			l.mu.Lock()
			l.sent[addr] = seq
			l.mu.Unlock()
		}
	}
	cc, ok := l.store.client.(*redis.ClusterClient)
	if !ok {
		send(ctx, "", l.store.client)
		return []string{""}
	}
	var mu sync.Mutex
	var masters []string
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		addr := c.Options().Addr
		mu.Lock()
		masters = append(masters, addr)
		mu.Unlock()
		send(ctx, addr, c)
		return nil
	})
	if err != nil || len(masters) == 0 {
		cc.ReloadState(ctx) // a master may have failed over: read the topology again
		return nil
	}
	return masters
}

// update lets the cache answer until HeartbeatWindow after the oldest of
// the masters' latest heartbeats, when the subscription holds; else it stops
// it. Whenever it starts again, it is emptied first.
func (l *listener) update(masters []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.subscribed < 2 || len(masters) == 0 {
		l.stopServing()
		return
	}
	var oldest time.Time
	for i, addr := range masters {
		h, ok := l.heard[addr]
		if !ok {
			l.stopServing()
			return
		}
		if i == 0 || h.at.Before(oldest) {
			oldest = h.at
		}
	}
	until := oldest.Add(HeartbeatWindow)
	if !until.After(time.Now()) {
		l.stopServing()
		return
	}
	if !l.serving {
		l.cache.InvalidateAll()
		l.serving = true
		if l.down {
			slog.Info("answer cache: change subscription back; answering from memory again, emptied first")
			l.down = false
		}
	}
	l.cache.ServeUntil(until)
	// Forget masters that left the topology.
	for addr := range l.heard {
		if !slices.Contains(masters, addr) {
			delete(l.heard, addr)
			delete(l.sent, addr)
		}
	}
}
