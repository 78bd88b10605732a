package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// An evicting Redis destroys data silently: under maxmemory-policy
// allkeys-lru it drops the index, whole experiment configurations and
// member buckets (members then answered 404, counters out of step with the
// members stored, users counted twice). Only noeviction is safe: at its
// maxmemory Redis refuses writes instead ("OOM command not allowed"), which
// assignd reports (new enrollments fail, members already enrolled are still
// answered: their script only reads).

// SafeEvictionPolicy is the only maxmemory-policy that never evicts keys.
const SafeEvictionPolicy = "noeviction"

// NodePolicy is what one Redis master says about eviction and memory.
type NodePolicy struct {
	Addr string

	// Policy is its maxmemory-policy; empty when Refused.
	Policy string

	// Refused is set when Redis refused CONFIG GET (managed services often
	// disable or rename CONFIG): the policy is unknown.
	Refused error

	// OutOfMemory is set when the node refuses writes for its maxmemory
	// (a write-flagged no-op script was answered OOM).
	OutOfMemory bool
}

// Evicting reports whether the node's policy may evict keys.
func (n NodePolicy) Evicting() bool { return n.Policy != "" && n.Policy != SafeEvictionPolicy }

// PolicyReport is the eviction policy and memory state of every master.
type PolicyReport struct {
	Nodes []NodePolicy // by address
}

// Evicting returns the masters whose policy may evict keys.
func (r PolicyReport) Evicting() []NodePolicy { return r.filter(NodePolicy.Evicting) }

// Refused returns the masters that refused to tell their policy.
func (r PolicyReport) Refused() []NodePolicy {
	return r.filter(func(n NodePolicy) bool { return n.Refused != nil })
}

// OutOfMemory returns the masters refusing writes for lack of memory.
func (r PolicyReport) OutOfMemory() []NodePolicy {
	return r.filter(func(n NodePolicy) bool { return n.OutOfMemory })
}

func (r PolicyReport) filter(keep func(NodePolicy) bool) []NodePolicy {
	var out []NodePolicy
	for _, n := range r.Nodes {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}

// describe lists nodes as "addr (policy)".
func describe(nodes []NodePolicy) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = n.Addr
		if n.Policy != "" {
			parts[i] += " (maxmemory-policy " + n.Policy + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// oomProbe is a script that writes nothing but is flagged as one that may
// (a shebang without no-writes): Redis 7 refuses to run it with OOM exactly
// when it would refuse an enrollment's first write. Older servers do not
// know the shebang and fail to compile it, which tells nothing.
var oomProbe = redis.NewScript("#!lua\nreturn 1")

// CheckEvictionPolicy asks every master for its maxmemory-policy (CONFIG
// GET) and whether it refuses writes for memory: each master of a
// *redis.ClusterClient (ForEachMaster), each shard of a *redis.Ring, else
// the one server. A refused CONFIG is reported in the node's Refused, not as
// an error; the error is for a Redis that does not answer.
func CheckEvictionPolicy(ctx context.Context, c redis.UniversalClient) (PolicyReport, error) {
	var (
		mu  sync.Mutex
		rep PolicyReport
	)
	check := func(ctx context.Context, node *redis.Client) error {
		n, err := checkNode(ctx, node)
		if err != nil {
			return err
		}
		mu.Lock()
		rep.Nodes = append(rep.Nodes, n)
		mu.Unlock()
		return nil
	}
	var err error
	switch cc := c.(type) {
	case *redis.ClusterClient:
		err = cc.ForEachMaster(ctx, check)
	case *redis.Ring:
		err = cc.ForEachShard(ctx, check)
	case *redis.Client:
		err = check(ctx, cc)
	default:
		return rep, fmt.Errorf("redis: cannot check the eviction policy through a %T", c)
	}
	sort.Slice(rep.Nodes, func(i, j int) bool { return rep.Nodes[i].Addr < rep.Nodes[j].Addr })
	return rep, err
}

func checkNode(ctx context.Context, node *redis.Client) (NodePolicy, error) {
	n := NodePolicy{Addr: node.Options().Addr}
	res, err := node.ConfigGet(ctx, "maxmemory-policy").Result()
	switch {
	case err == nil && res["maxmemory-policy"] != "":
		n.Policy = res["maxmemory-policy"]
	case err == nil:
		n.Refused = errors.New("CONFIG GET maxmemory-policy answered nothing")
	case isRedisReply(err):
		n.Refused = err // unknown or renamed command, NOPERM...
	default:
		return n, fmt.Errorf("redis at %s: %w", n.Addr, err)
	}
	if err := oomProbe.Run(ctx, node, nil).Err(); redis.IsOOMError(err) {
		n.OutOfMemory = true
	} else if err != nil && !isRedisReply(err) {
		return n, fmt.Errorf("redis at %s: %w", n.Addr, err)
	}
	return n, nil
}

// isRedisReply reports an error that Redis answered (as opposed to a
// connection that failed).
func isRedisReply(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !errors.Is(err, redis.ErrClosed)
}

// PolicyMonitor checks the eviction policy at start and every Interval
// after: with an evicting policy (unless AllowEvicting) Ready fails, with an
// error log at each change; a master out of memory makes Degraded report it.
type PolicyMonitor struct {
	Client redis.UniversalClient

	// AllowEvicting keeps assignd running and ready on an evicting Redis
	// (assignd -allow-evicting-redis), with a loud warning instead.
	AllowEvicting bool

	// Interval between checks. Default 5s.
	Interval time.Duration

	// Timeout of one check. Default 2s.
	Timeout time.Duration

	// Logger receives the changes. Default slog.Default().
	Logger *slog.Logger

	mu      sync.Mutex
	report  PolicyReport
	checked bool  // a check succeeded once
	err     error // of the last check (Redis did not answer)
	stop    chan struct{}
	done    chan struct{}
}

// ErrEvictingPolicy is returned (wrapped) by Start and Ready when a master
// may evict keys and AllowEvicting is not set.
var ErrEvictingPolicy = errors.New("redis: an evicting maxmemory-policy")

// Start checks once, failing on an evicting policy unless AllowEvicting (a
// Redis that does not answer or refuses CONFIG only gets a warning), then
// keeps checking in the background until Close.
func (m *PolicyMonitor) Start(ctx context.Context) error {
	if m.Interval <= 0 {
		m.Interval = 5 * time.Second
	}
	if m.Timeout <= 0 {
		m.Timeout = 2 * time.Second
	}
	if m.Logger == nil {
		m.Logger = slog.Default()
	}
	rep, err := m.Check(ctx)
	if err == nil && !m.AllowEvicting {
		if ev := rep.Evicting(); len(ev) > 0 {
			return fmt.Errorf("%w on %s: Redis would silently delete experiments and members under memory pressure. "+
				"Set maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf), "+
				"or start with -allow-evicting-redis (ASSIGN_ALLOW_EVICTING_REDIS=true) to run anyway and risk the data",
				ErrEvictingPolicy, describe(ev))
		}
	}
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	go m.run()
	return nil
}

// Close stops the background checks.
func (m *PolicyMonitor) Close() {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
	}
}

func (m *PolicyMonitor) run() {
	defer close(m.done)
	t := time.NewTicker(m.Interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			_, _ = m.Check(context.Background())
		}
	}
}

// Check asks Redis once, records the answer and logs what changed.
func (m *PolicyMonitor) Check(ctx context.Context) (PolicyReport, error) {
	if m.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.Timeout)
		defer cancel()
	}
	rep, err := CheckEvictionPolicy(ctx, m.Client)
	m.mu.Lock()
	prev, first := m.report, !m.checked
	m.err = err
	if err == nil {
		m.report, m.checked = rep, true
	}
	m.mu.Unlock()
	if err != nil {
		// Redis down is /readyz's and assign_redis_up's to report.
		m.logger().Debug("redis eviction policy check failed", "err", err)
		return rep, err
	}
	m.logChanges(first, prev, rep)
	return rep, nil
}

func (m *PolicyMonitor) logChanges(first bool, prev, rep PolicyReport) {
	l := m.logger()
	ev, wasEv := describe(rep.Evicting()), describe(prev.Evicting())
	switch {
	case ev != "" && (first || ev != wasEv) && m.AllowEvicting:
		l.Warn("!!! REDIS MAY EVICT KEYS: running anyway because of -allow-evicting-redis. Under memory pressure Redis will "+
			"silently delete experiments and members (404s to members, wrong counts, users counted twice). "+
			"Set maxmemory-policy noeviction.", "nodes", ev)
	case ev != "" && first:
		// Start refuses with the explanation in its error.
	case ev != "" && ev != wasEv:
		l.Error("redis eviction policy changed to an evicting one: not ready until it is noeviction again "+
			"(Redis may silently delete experiments and members)", "nodes", ev)
	case ev == "" && wasEv != "":
		l.Info("redis eviction policy is noeviction again", "nodes", describe(rep.Nodes))
	}
	if ref := rep.Refused(); len(ref) > 0 && (first || len(prev.Refused()) == 0) {
		l.Warn("redis refused CONFIG GET maxmemory-policy: the eviction policy cannot be checked; make sure it is noeviction",
			"nodes", describe(ref), "err", ref[0].Refused)
	}
	oom, wasOOM := describe(rep.OutOfMemory()), describe(prev.OutOfMemory())
	switch {
	case oom != "" && oom != wasOOM:
		l.Error("redis is out of memory (maxmemory reached under noeviction): new enrollments fail, "+
			"members already enrolled are still answered", "nodes", oom)
	case oom == "" && wasOOM != "":
		l.Info("redis accepts writes again", "nodes", describe(rep.Nodes))
	}
}

func (m *PolicyMonitor) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.Default()
	}
	return m.Logger
}

// Report returns the last successful check's report.
func (m *PolicyMonitor) Report() PolicyReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.report
}

// Ready fails, wrapping ErrEvictingPolicy, while a master's policy may evict
// keys, unless AllowEvicting. It answers from the last check: no Redis call.
func (m *PolicyMonitor) Ready(context.Context) error {
	if m.AllowEvicting {
		return nil
	}
	if ev := m.Report().Evicting(); len(ev) > 0 {
		return evictingError{describe(ev)}
	}
	return nil
}

// evictingError is Ready's error: it unwraps to ErrEvictingPolicy and tells
// /readyz what to show.
type evictingError struct{ nodes string }

func (e evictingError) Error() string { return ErrEvictingPolicy.Error() + " on " + e.nodes }
func (e evictingError) Unwrap() error { return ErrEvictingPolicy }
func (e evictingError) ReadinessMessage() string {
	return "Redis may evict keys (maxmemory-policy must be noeviction): " + e.nodes + "."
}

// Degraded returns a description of what fails while some master is out of
// memory, "" otherwise. It answers from the last check.
func (m *PolicyMonitor) Degraded() string {
	if oom := m.Report().OutOfMemory(); len(oom) > 0 {
		return "Redis is out of memory (maxmemory reached under noeviction) on " + describe(oom) +
			": new enrollments fail; members already enrolled are still answered."
	}
	return ""
}
