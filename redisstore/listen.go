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
// links as the changes, in order), naming the master's run id, and the
// cache answers only until HeartbeatWindow after the oldest of the masters'
// latest heartbeats was sent (not received: a heartbeat proves only what
// was published before it). A change is thus answered from the cache for at
// most HeartbeatWindow after it was applied, even when its message is lost:
//
//   - a dropped subscription (a Redis restart, a failover of the node
//     subscribed to, a network fault) stops the cache at once; a gap in a
//     master's heartbeat numbers, or another run id behind its address (it
//     restarted, or a Sentinel failover put another server there, whatever
//     the subscription saw), empties it;
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
		start:     time.Now(),
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
	start              time.Time // heartbeats carry their send time as an offset from it (monotonic)
	store              *Store
	cache              *answercache.Cache
	changes, heartbeat string

	mu         sync.Mutex
	subscribed int                  // channels of the current subscription confirmed (2: both)
	heard      map[string]heardBeat // master address -> its latest heartbeat heard
	sent       map[string]uint64    // master address -> number of the last heartbeat published through it
	serving    bool
	stopped    bool // stopped after having answered (said once per interruption)
}

type heardBeat struct {
	seq   uint64
	runID string    // of the server that took the heartbeat
	at    time.Time // when it was sent
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
	if ctx.Err() == nil {
		l.stop("change subscription lost", "err", err)
	} else {
		l.stop("")
	}
}

// heardBeat records a heartbeat "<master address> <run id> <number> <send
// time>" that came back. A number skipped means a message through that
// master may have been lost; another run id, that another server answers at
// its address (whatever it held, it did not hold what this one did).
func (l *listener) heardBeat(payload string) {
	f := strings.Fields(payload)
	if len(f) == 3 { // the single node's address is empty
		f = append([]string{""}, f...)
	}
	if len(f) != 4 {
		return
	}
	seq, err1 := strconv.ParseUint(f[2], 10, 64)
	sent, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	addr, runID := f[0], f[1]
	l.mu.Lock()
	defer l.mu.Unlock()
	prev, known := l.heard[addr]
	switch {
	case known && prev.runID != runID:
		l.cache.InvalidateAll()
	case known && seq <= prev.seq:
		return // a heartbeat published twice (a retried call)
	case known && seq != prev.seq+1:
		l.cache.InvalidateAll()
	}
	l.heard[addr] = heardBeat{seq: seq, runID: runID, at: l.start.Add(time.Duration(sent))}
}

// stop makes the cache answer nothing from now on; when it was answering,
// says why (once per interruption, with the log attributes args).
func (l *listener) stop(why string, args ...any) {
	l.cache.ServeUntil(time.Time{})
	if l.serving && why != "" {
		slog.Warn("answer cache: "+why+"; answering from Redis until it is back", args...)
		l.stopped = true
	}
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
		// A server that does not tell its run id (the embedded miniredis)
		// is known by its address alone.
		runID := "-"
		if info, err := c.Info(ctx, "server").Result(); err == nil {
			for _, line := range strings.Split(info, "\n") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok && v != "" {
					runID = v
				}
			}
		} else if ctx.Err() != nil {
			return
		}
		l.mu.Lock()
		seq := l.sent[addr] + 1
		l.mu.Unlock()
		payload := addr + " " + runID + " " + strconv.FormatUint(seq, 10) + " " + strconv.FormatInt(int64(time.Since(l.start)), 10)
		if c.Publish(ctx, l.heartbeat, payload).Err() == nil {
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
// the masters' latest heartbeats was sent, when the subscription holds; else
// it stops it. Whenever it starts again, it is emptied first.
func (l *listener) update(masters []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.subscribed < 2 {
		l.stop("") // lost() said why
		return
	}
	if len(masters) == 0 {
		l.stop("the masters could not be listed")
		return
	}
	var oldest time.Time
	for i, addr := range masters {
		h, ok := l.heard[addr]
		if !ok {
			l.stop("no heartbeat heard through master "+addr, "master", addr)
			return
		}
		if i == 0 || h.at.Before(oldest) {
			oldest = h.at
		}
	}
	until := oldest.Add(HeartbeatWindow)
	if !until.After(time.Now()) {
		l.stop("a master's heartbeats stopped coming back", "heard_at", oldest)
		return
	}
	if !l.serving {
		l.cache.InvalidateAll()
		l.serving = true
		if l.stopped {
			slog.Info("answer cache: every master heard again; answering from memory, emptied first")
			l.stopped = false
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
