package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// privateRedis starts a redis-server of the test's own on a free port, so
// that the test may change its configuration (never the shared Redis's),
// with extra arguments, and returns a client of it.
func privateRedis(t *testing.T, args ...string) *redis.Client {
	t.Helper()
	p := startRedisProc(t, args...)
	c := redis.NewClient(&redis.Options{Addr: p.addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// logBuffer collects a test logger's lines.
type logBuffer struct{ testenv.Buffer }

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// waitUntil polls ok; the bound is generous: the check interval is 50ms.
func waitUntil(t *testing.T, what string, ok func() bool) { within(t, 30*time.Second, what, ok) }

// TestPolicy_RefusesEvictingRedis: at start an evicting policy is an error
// naming it, unless allowed (then a loud warning); noeviction is fine.
func TestPolicy_RefusesEvictingRedis(t *testing.T) {
	c := privateRedis(t)
	ctx := testenv.Context(t)
	rep, err := redisstore.CheckEvictionPolicy(ctx, c)
	if err != nil {
		t.Fatal(err)
	} else if len(rep.Nodes) != 1 || rep.Nodes[0].Policy != "noeviction" || len(rep.Evicting()) != 0 {
		t.Fatalf("report %+v, want one noeviction node", rep)
	}
	for _, policy := range []string{"allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"} {
		t.Run(policy, func(t *testing.T) {
			if err := c.ConfigSet(ctx, "maxmemory-policy", policy).Err(); err != nil {
				t.Fatal(err)
			}
			var logs logBuffer
			m := &redisstore.PolicyMonitor{Client: c, Logger: logs.logger()}
			err := m.Start(ctx)
			if !errors.Is(err, redisstore.ErrEvictingPolicy) || !strings.Contains(err.Error(), policy) ||
				!strings.Contains(err.Error(), "noeviction") || !strings.Contains(err.Error(), "-allow-evicting-redis") {
				m.Close()
				t.Fatalf("Start: %v, want a refusal naming %s, the fix and the override", err, policy)
			}

			allowed := &redisstore.PolicyMonitor{Client: c, AllowEvicting: true, Logger: logs.logger()}
			if err := allowed.Start(ctx); err != nil {
				t.Fatalf("Start with AllowEvicting: %v", err)
			}
			defer allowed.Close()
			if err := allowed.Ready(ctx); err != nil {
				t.Fatalf("Ready with AllowEvicting: %v", err)
			}
			if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "REDIS MAY EVICT KEYS") {
				t.Fatalf("no loud warning when allowed:\n%s", logs.String())
			}
		})
	}
}

// TestPolicy_ChangeWhileRunning: a policy turned evicting while assignd runs
// makes it unready, with an error log, and ready again once it is
// noeviction.
func TestPolicy_ChangeWhileRunning(t *testing.T) {
	c := privateRedis(t)
	ctx := testenv.Context(t)
	var logs logBuffer
	m := &redisstore.PolicyMonitor{Client: c, Logger: logs.logger(), Interval: 50 * time.Millisecond}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "unready on allkeys-lru", func() bool { return errors.Is(m.Ready(ctx), redisstore.ErrEvictingPolicy) })
	if out := logs.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "allkeys-lru") {
		t.Fatalf("no error log naming the policy:\n%s", out)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "ready again on noeviction", func() bool { return m.Ready(ctx) == nil })
}

// TestPolicy_ConfigRefused: a Redis that refuses CONFIG (managed services
// disable or rename it) does not prevent the start: a warning, and the
// policy is reported unknown.
func TestPolicy_ConfigRefused(t *testing.T) {
	c := privateRedis(t, "--rename-command", "CONFIG", "")
	ctx := testenv.Context(t)
	var logs logBuffer
	m := &redisstore.PolicyMonitor{Client: c, Logger: logs.logger()}
	if err := m.Start(ctx); err != nil {
		t.Fatalf("Start with CONFIG refused: %v, want a warning only", err)
	}
	defer m.Close()
	if err := m.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if got := m.Report().Refused(); len(got) != 1 {
		t.Fatalf("refused nodes %+v, want the one", m.Report())
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "CONFIG") {
		t.Fatalf("no warning:\n%s", out)
	}
}

// TestPolicy_OutOfMemory: Redis at its maxmemory under noeviction. The
// monitor reports it; a new enrollment fails as unavailable wrapping
// ErrOutOfMemory (its own metrics kind), while a member already enrolled is
// still answered.
func TestPolicy_OutOfMemory(t *testing.T) {
	c := privateRedis(t)
	ctx := testenv.Context(t)
	s := newStore(t, c)
	mustCreate(t, s, newExperiment("oom", 1000, 1))
	member := mustEnroll(t, s, "oom", "member")

	m := &redisstore.PolicyMonitor{Client: c, Logger: slog.New(slog.DiscardHandler), Interval: 50 * time.Millisecond}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Degraded(); got != "" {
		t.Fatalf("Degraded=%q before any memory pressure", got)
	}
	// Fill Redis a little, then lower maxmemory under what it holds.
	if err := c.Eval(ctx, "for i=1,20000 do redis.call('SET', KEYS[1]..i, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') end return 1", []string{"filler:"}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "1mb").Err(); err != nil {
		t.Fatal(err)
	}
	defer c.ConfigSet(context.Background(), "maxmemory", "0")

	_, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "oom", UserID: "newcomer"})
	if !errors.Is(err, redisstore.ErrOutOfMemory) || assign.ErrorCode(err) != assign.EUNAVAILABLE {
		t.Fatalf("new enrollment under OOM: %v, want unavailable wrapping ErrOutOfMemory", err)
	}
	var k interface{ RedisErrorKind() string }
	if !errors.As(err, &k) || k.RedisErrorKind() != "oom" {
		t.Fatalf("the error names no kind oom: %v", err)
	}
	again := mustEnroll(t, s, "oom", "member")
	if again.Group != member.Group || !again.Enrolled {
		t.Fatalf("the member under OOM: %+v, want %+v", again, member)
	}
	waitUntil(t, "the monitor sees the OOM", func() bool { return m.Degraded() != "" })
	if !strings.Contains(m.Degraded(), "new enrollments fail") {
		t.Fatalf("Degraded=%q", m.Degraded())
	}
	if err := m.Ready(ctx); err != nil {
		t.Fatalf("Ready under OOM: %v, want ready (degraded)", err)
	}

	if err := c.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the OOM is over", func() bool { return m.Degraded() == "" })
	mustEnroll(t, s, "oom", "newcomer")
}
