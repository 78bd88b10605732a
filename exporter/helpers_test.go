package exporter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/exporter"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
)

// backend is a Redis to run a test against, under its own namespace.
type backend struct {
	Name   string
	Client redis.UniversalClient
	Keys   redisstore.Keys
	Mini   *miniredis.Miniredis // nil for the real server
}

// forEachRedis runs fn against miniredis and against the real Redis.
func forEachRedis(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { c.Close() })
		fn(t, backend{Name: "miniredis", Client: c, Keys: redisstore.Keys{Namespace: testenv.Namespace()}, Mini: m})
	})
	t.Run("redis", func(t *testing.T) {
		fn(t, realRedis(t))
	})
	t.Run("cluster", func(t *testing.T) {
		fn(t, clusterRedis(t))
	})
}

// clusterRedis returns a backend on the package's shared local Redis
// Cluster (3 masters, 3 replicas), under a fresh namespace deleted at the end.
func clusterRedis(t testing.TB) backend {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: testenv.SharedCluster(t).Addrs()})
	ns := testenv.Namespace()
	t.Cleanup(func() {
		ctx := context.Background()
		_ = c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			iter := n.Scan(ctx, 0, ns+"*", 1000).Iterator()
			for iter.Next(ctx) {
				n.Del(ctx, iter.Val())
			}
			return nil
		})
		c.Close()
	})
	return backend{Name: "cluster", Client: c, Keys: redisstore.Keys{Namespace: ns}}
}

func realRedis(t testing.TB) backend {
	addr := testenv.RedisAddr(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	ns := testenv.Namespace()
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, ns+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return backend{Name: "redis", Client: c, Keys: redisstore.Keys{Namespace: ns}}
}

// T0 is the enrollment time of the first test event; events are spaced 1 ms.
var T0 = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// createExperiment does what experiment creation does to the streams: the
// stream with its consumer group from ID 0, its entry in the stream set, and
// a config event.
func createExperiment(tb testing.TB, b backend, id, layer string, version int64) string {
	tb.Helper()
	ctx := context.Background()
	key := redisstore.EventsKey(b.Keys.Prefix(id, layer))
	if err := b.Client.XGroupCreateMkStream(ctx, key, redisstore.ConsumerGroup, "0").Err(); err != nil {
		tb.Fatal(err)
	}
	if err := b.Client.SAdd(ctx, b.Keys.Streams(), key).Err(); err != nil {
		tb.Fatal(err)
	}
	configEvent(tb, b, key, id, layer, version)
	return key
}

// configEvent appends a configuration event of version v.
func configEvent(tb testing.TB, b backend, key, id, layer string, v int64) {
	tb.Helper()
	x := assign.Experiment{
		ID: id, MaxSampleSize: 1000 * v, SamplingProbability: 1, Layer: layer,
		Groups:    []assign.Group{{Name: "control", Probability: 0.5}, {Name: "treatment", Probability: 0.5}},
		Status:    assign.StatusRunning,
		Salt:      "5a17",
		Version:   v,
		CreatedAt: T0, UpdatedAt: T0.Add(time.Duration(v) * time.Second),
	}
	js, _ := json.Marshal(x)
	err := b.Client.XAdd(context.Background(), &redis.XAddArgs{Stream: key, Values: []any{
		redisstore.EventType, redisstore.EventConfig,
		redisstore.EventExperiment, string(js),
		redisstore.EventBy, fmt.Sprintf("admin-%d", v),
		redisstore.EventTime, strconv.FormatInt(x.UpdatedAt.UnixMilli(), 10),
	}}).Err()
	if err != nil {
		tb.Fatal(err)
	}
}

// enroll appends n enrollment events to the stream of experiment id, as the
// enrollment script does, and returns the rows they must become. Users are
// named <prefix><i>; groups alternate; times start at T0 + offset ms.
func enroll(tb testing.TB, b backend, key, id, prefix string, n, offset int) []warehouse.EnrollmentRow {
	tb.Helper()
	ctx := context.Background()
	rows := make([]warehouse.EnrollmentRow, n)
	const chunk = 1000
	for lo := 0; lo < n; lo += chunk {
		p := b.Client.Pipeline()
		for i := lo; i < min(lo+chunk, n); i++ {
			r := warehouse.EnrollmentRow{
				ExperimentID: id,
				UserID:       prefix + strconv.Itoa(i),
				Group:        []string{"control", "treatment"}[i%2],
				EnrolledAt:   T0.Add(time.Duration(offset+i) * time.Millisecond),
			}
			rows[i] = r
			p.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{
				redisstore.EventType, redisstore.EventEnroll,
				redisstore.EventUser, r.UserID,
				redisstore.EventGroup, r.Group,
				redisstore.EventTime, strconv.FormatInt(r.EnrolledAt.UnixMilli(), 10),
			}})
		}
		if _, err := p.Exec(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	return rows
}

// running is an exporter running in a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func start(e *exporter.Exporter) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- e.Run(ctx) }()
	return r
}

// stop cancels the exporter and returns what Run returned.
// Stopping twice returns the first answer again.
func (r *running) stop(tb testing.TB) error {
	tb.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(60 * time.Second):
			tb.Fatal("exporter did not stop")
		}
	})
	return r.err
}

// newExporter returns an exporter with small batches and short intervals.
func newExporter(b backend, sink warehouse.Sink, consumer string) *exporter.Exporter {
	return &exporter.Exporter{
		Client:          b.Client,
		Keys:            b.Keys,
		Sink:            sink,
		Consumer:        consumer,
		BatchSize:       200,
		FlushInterval:   20 * time.Millisecond,
		RefreshInterval: 50 * time.Millisecond,
		RetryMin:        10 * time.Millisecond,
		RetryMax:        200 * time.Millisecond,
		ShutdownTimeout: 10 * time.Second,
		Logger:          testLogger(),
	}
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// waitFor polls cond until it holds; the deadline only guards against a
// hung test, it is not a timing assertion.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// drained reports whether every stream is exported, acknowledged and trimmed.
func drained(tb testing.TB, e *exporter.Exporter) bool {
	bl, err := e.Backlog(context.Background())
	if err != nil {
		tb.Logf("backlog: %v", err)
		return false
	}
	return bl.Length == 0 && bl.Pending == 0
}

// memSink is an in-memory warehouse that can be told to fail.
type memSink struct {
	mu          sync.Mutex
	fail        bool
	failures    int
	writes      int
	enrollments map[[2]string]warehouse.EnrollmentRow
	received    int // rows received, duplicates included
	experiments map[string]warehouse.ExperimentRow
}

func newMemSink() *memSink {
	return &memSink{enrollments: map[[2]string]warehouse.EnrollmentRow{}, experiments: map[string]warehouse.ExperimentRow{}}
}

func (s *memSink) Migrate(context.Context) error { return nil }
func (s *memSink) Close() error                  { return nil }

func (s *memSink) WriteBatch(_ context.Context, enr []warehouse.EnrollmentRow, exps []warehouse.ExperimentRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		s.failures++
		return errors.New("memsink: down")
	}
	s.writes++
	s.received += len(enr)
	for _, r := range enr {
		k := [2]string{r.ExperimentID, r.UserID}
		if _, ok := s.enrollments[k]; !ok {
			s.enrollments[k] = r
		}
	}
	for _, r := range exps {
		if old, ok := s.experiments[r.ExperimentID]; !ok || old.Version < r.Version {
			s.experiments[r.ExperimentID] = r
		}
	}
	return nil
}

func (s *memSink) setFail(v bool) { s.mu.Lock(); s.fail = v; s.mu.Unlock() }

func (s *memSink) rows() []warehouse.EnrollmentRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]warehouse.EnrollmentRow, 0, len(s.enrollments))
	for _, r := range s.enrollments {
		out = append(out, r)
	}
	return out
}

type warehouseRow = warehouse.EnrollmentRow

// version returns the latest configuration version written of experiment id.
func (s *memSink) version(id string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.experiments[id].Version
}

func (s *memSink) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.enrollments) }

// proxy forwards TCP connections to a target and can be stopped (refusing
// connections and cutting those open) and started again on the same port.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

// newProxy reserves a free loopback port, not yet listening.
func newProxy(tb testing.TB, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{}}
	ln.Close()
	tb.Cleanup(p.stop)
	return p
}

func (p *proxy) start(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		tb.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}
