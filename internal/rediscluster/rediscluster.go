// Package rediscluster starts and controls a real local Redis Cluster made of
// redis-server processes, for tests and for development (cmd/assign-devcluster).
//
// Start picks free ports, starts Masters*(1+ReplicasPerMaster) servers, forms
// the cluster by hand (CLUSTER SET-CONFIG-EPOCH, ADDSLOTSRANGE, MEET,
// REPLICATE; redis-cli is not needed) and waits until it is healthy. Kill and
// Restart crash and revive single nodes to exercise failover; WaitHealthy
// waits for the cluster to settle afterwards. Stop kills everything.
//
// Nodes keep no data on disk (--save "" --appendonly no): a restarted node
// comes back empty and resynchronises from its master.
package rediscluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// NumSlots is the number of hash slots of a Redis Cluster.
const NumSlots = 16384

// Options configures Start. Zero values take the defaults.
type Options struct {
	Masters           int           // default 3
	ReplicasPerMaster int           // default 1; negative means 0
	NodeTimeout       time.Duration // cluster-node-timeout, default 1s (bounds how long a dead master takes to be failed over)
	Dir               string        // working dir for nodes.conf/logs; default a fresh temp dir removed by Stop (a given Dir is kept)
	Logf              func(format string, args ...any)
}

// Cluster is a running local cluster. Its methods are safe for concurrent use.
type Cluster struct {
	opts    Options
	dir     string
	ownDir  bool
	server  string // path of redis-server
	masters int    // masters at start: nodes[:masters]

	mu      sync.Mutex
	nodes   []*node // start order
	stopped bool
	stopErr error
}

type node struct {
	port   int
	addr   string
	log    string
	args   []string
	client *redis.Client // guarded by Cluster.mu

	// guarded by Cluster.mu
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been reaped
}

func (n *node) running() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Start starts the servers, forms the cluster and waits until every node
// reports cluster_state:ok and every replica's master link is up. If ctx has
// no deadline, Start gives up after 2 minutes. On failure it stops whatever it
// started and returns an error that includes the tail of the relevant node's
// log.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Masters <= 0 {
		o.Masters = 3
	}
	if o.ReplicasPerMaster == 0 {
		o.ReplicasPerMaster = 1
	} else if o.ReplicasPerMaster < 0 {
		o.ReplicasPerMaster = 0
	}
	if o.NodeTimeout <= 0 {
		o.NodeTimeout = time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	server, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("rediscluster: redis-server not found on PATH (Debian/Ubuntu: apt-get install redis-server): %w", err)
	}
	ctx, cancel := withDefaultTimeout(ctx, 2*time.Minute)
	defer cancel()

	c := &Cluster{opts: o, server: server, masters: o.Masters}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "rediscluster-")
		if err != nil {
			return nil, fmt.Errorf("rediscluster: %w", err)
		}
		c.dir, c.ownDir = d, true
	} else {
		d, err := filepath.Abs(o.Dir)
		if err != nil {
			return nil, fmt.Errorf("rediscluster: %w", err)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("rediscluster: %w", err)
		}
		c.dir = d
	}

	began := time.Now()
	if err := c.start(ctx); err != nil {
		_ = c.Stop()
		return nil, err
	}
	o.Logf("rediscluster: %d masters + %d replicas ready in %v (dir %s)", o.Masters, o.Masters*o.ReplicasPerMaster, time.Since(began).Round(time.Millisecond), c.dir)
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	o := c.opts
	total := o.Masters * (1 + o.ReplicasPerMaster)
	used := map[int]bool{}
	for i := 0; i < total; i++ {
		n, err := c.startFreshNode(ctx, used)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.nodes = append(c.nodes, n)
		c.mu.Unlock()
	}
	nodes := c.nodeList()
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		cl := c.client(n)
		id, err := cl.ClusterMyID(ctx).Result()
		if err != nil {
			return c.nodeErr(n, "CLUSTER MYID", err)
		}
		ids[i] = id
		// Distinct epochs up front, as redis-cli does, so that no epoch
		// collision has to be resolved; only allowed before MEET.
		if err := cl.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return c.nodeErr(n, "CLUSTER SET-CONFIG-EPOCH", err)
		}
	}
	for i, r := range slotRanges(o.Masters) {
		if err := c.client(nodes[i]).ClusterAddSlotsRange(ctx, r[0], r[1]).Err(); err != nil {
			return c.nodeErr(nodes[i], "CLUSTER ADDSLOTSRANGE", err)
		}
	}
	// Every node meets every other one: waiting for gossip to spread a
	// single node's MEETs takes seconds longer.
	for i, n := range nodes {
		for _, m := range nodes[i+1:] {
			if err := c.client(n).ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(m.port)).Err(); err != nil {
				return c.nodeErr(n, "CLUSTER MEET", err)
			}
		}
	}
	// Every node must know every other one before a replica can be told
	// whom to replicate.
	if err := c.poll(ctx, "nodes to meet", func(ctx context.Context) (*node, error) {
		for _, n := range nodes {
			v, err := c.view(ctx, n)
			if err != nil {
				return n, err
			}
			if len(v) != total {
				return n, fmt.Errorf("%s knows %d of %d nodes", n.addr, len(v), total)
			}
			for _, e := range v {
				if e.has("handshake") || e.has("noaddr") {
					return n, fmt.Errorf("%s sees %s in state %s", n.addr, e.Addr, strings.Join(e.Flags, ","))
				}
			}
		}
		return nil, nil
	}); err != nil {
		return err
	}
	for i := o.Masters; i < total; i++ {
		m := (i - o.Masters) % o.Masters
		if err := c.client(nodes[i]).ClusterReplicate(ctx, ids[m]).Err(); err != nil {
			return c.nodeErr(nodes[i], "CLUSTER REPLICATE", err)
		}
	}
	return c.poll(ctx, "the new cluster to become healthy", func(ctx context.Context) (*node, error) {
		for i, n := range nodes {
			v, err := c.view(ctx, n)
			if err != nil {
				return n, err
			}
			var me *NodeInfo
			for j := range v {
				if v[j].has("myself") {
					me = &v[j]
				}
			}
			if me == nil {
				return n, fmt.Errorf("%s: CLUSTER NODES has no myself line", n.addr)
			}
			if i >= o.Masters && me.MasterID != ids[(i-o.Masters)%o.Masters] {
				return n, fmt.Errorf("%s is not yet a replica of %s", n.addr, nodes[(i-o.Masters)%o.Masters].addr)
			}
			for _, e := range v {
				if e.has("fail") || e.has("fail?") {
					return n, fmt.Errorf("%s sees %s as %s", n.addr, e.Addr, strings.Join(e.Flags, ","))
				}
			}
			// Cluster clients route by CLUSTER SLOTS, which lists a replica
			// only once the node has heard (by cluster-bus ping, at least
			// every NodeTimeout/2) that the replica's offset is non-zero.
			slots, err := c.client(n).ClusterSlots(ctx).Result()
			if err != nil {
				return n, fmt.Errorf("%s: CLUSTER SLOTS: %w", n.addr, err)
			}
			for _, sl := range slots {
				if len(sl.Nodes) != 1+o.ReplicasPerMaster {
					return n, fmt.Errorf("%s: CLUSTER SLOTS lists %d nodes for slots %d-%d, want %d", n.addr, len(sl.Nodes), sl.Start, sl.End, 1+o.ReplicasPerMaster)
				}
			}
		}
		return c.unhealthy(ctx)
	})
}

// slotRanges splits the slots among masters the way redis-cli --cluster
// create does (3 masters: 0-5460, 5461-10922, 10923-16383).
func slotRanges(masters int) [][2]int {
	per := float64(NumSlots) / float64(masters)
	var out [][2]int
	first, cursor := 0, 0.0
	for i := 0; i < masters; i++ {
		last := int(cursor + per - 1 + 0.5)
		if last > NumSlots-1 || i == masters-1 {
			last = NumSlots - 1
		}
		if last < first {
			last = first
		}
		out = append(out, [2]int{first, last})
		first = last + 1
		cursor += per
	}
	return out
}

// startFreshNode picks a free port (and bus port), removes any stale
// nodes.conf for it, and starts a server there; it retries on another port
// when the server cannot bind.
func (c *Cluster) startFreshNode(ctx context.Context, used map[int]bool) (*node, error) {
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		port, err := freePort(used)
		if err != nil {
			return nil, err
		}
		used[port] = true
		n := c.newNode(port)
		_ = os.Remove(filepath.Join(c.dir, fmt.Sprintf("nodes-%d.conf", port)))
		_ = os.Remove(n.log)
		err = c.launch(ctx, n)
		if err == nil {
			return n, nil
		}
		lastErr = err
		if n.client != nil {
			n.client.Close()
		}
		var be *bindError
		if !errors.As(err, &be) {
			return nil, err
		}
		c.opts.Logf("rediscluster: port %d taken, trying another", port)
	}
	return nil, fmt.Errorf("rediscluster: could not find free ports after 20 attempts: %w", lastErr)
}

func (c *Cluster) newNode(port int) *node {
	dir := c.dir
	n := &node{
		port: port,
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		log:  filepath.Join(dir, fmt.Sprintf("%d.log", port)),
	}
	n.args = []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--cluster-enabled", "yes",
		"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port)),
		"--cluster-node-timeout", strconv.FormatInt(c.opts.NodeTimeout.Milliseconds(), 10),
		// The healthy shards keep serving while one fails over; with the
		// default (yes) every node refuses every command (CLUSTERDOWN) as
		// soon as one slot is unserved.
		"--cluster-require-full-coverage", "no",
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", n.log,
		"--dir", dir,
		// The default 5s delay before a diskless full sync would make every
		// start and every rejoin 5s slower.
		"--repl-diskless-sync-delay", "0",
		// A replica is listed in CLUSTER SLOTS only once its replication
		// offset is non-zero; on an idle master that takes until the first
		// replication PING (default every 10s).
		"--repl-ping-replica-period", "1",
		// Replicas load a full sync straight from the socket instead of
		// writing it to <dir>/dump.rdb, and every node has its own RDB
		// name: all nodes share one dir, and a restarted node must not load
		// another shard's data at start.
		"--repl-diskless-load", "swapdb",
		"--dbfilename", fmt.Sprintf("dump-%d.rdb", port),
	}
	return n
}

// freePort returns a random port p such that p and p+10000 (the cluster bus)
// can both be bound on 127.0.0.1. Ports in the kernel's ephemeral range are
// avoided where possible, so that outgoing connections do not take them.
func freePort(used map[int]bool) (int, error) {
	lo, hi := 10000, 55535
	elo, ehi := ephemeralRange()
	inEph := func(p int) bool { return p >= elo && p <= ehi }
	// Is there a candidate at all outside the ephemeral range?
	avoid := false
	for p := lo; p <= hi; p += 97 {
		if !inEph(p) && !inEph(p+10000) {
			avoid = true
			break
		}
	}
	for tries := 0; tries < 1000; tries++ {
		p := lo + rand.IntN(hi-lo+1)
		if used[p] || used[p+10000] || used[p-10000] {
			continue
		}
		if avoid && (inEph(p) || inEph(p+10000)) {
			continue
		}
		if canBind(p) && canBind(p+10000) {
			return p, nil
		}
	}
	return 0, errors.New("rediscluster: no free port pair (p, p+10000) found")
}

func canBind(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func ephemeralRange() (int, int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			lo, err1 := strconv.Atoi(f[0])
			hi, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil {
				return lo, hi
			}
		}
	}
	return -1, -1
}

// bindError means a server exited because its port was taken.
type bindError struct{ err error }

func (e *bindError) Error() string { return e.err.Error() }
func (e *bindError) Unwrap() error { return e.err }

// spawn runs f on one OS thread that never exits. Pdeathsig fires when the
// *thread* that forked the child dies; Go may end a thread when a goroutine
// locked to it returns, which would kill servers started from it.
var (
	spawnOnce sync.Once
	spawnCh   chan func()
)

func spawn(f func()) {
	spawnOnce.Do(func() {
		spawnCh = make(chan func())
		go func() {
			runtime.LockOSThread()
			for f := range spawnCh {
				f()
			}
		}()
	})
	done := make(chan struct{})
	spawnCh <- func() { defer close(done); f() }
	<-done
}

// launch starts n's process and waits until it answers PING.
func (c *Cluster) launch(ctx context.Context, n *node) error {
	_ = os.Remove(filepath.Join(c.dir, fmt.Sprintf("dump-%d.rdb", n.port))) // come back empty
	logf, err := os.OpenFile(n.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("rediscluster: %w", err)
	}
	cmd := exec.Command(c.server, n.args...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logf, logf // early errors, before redis opens --logfile
	cmd.SysProcAttr = sysProcAttr()
	spawn(func() { err = cmd.Start() })
	logf.Close()
	if err != nil {
		return fmt.Errorf("rediscluster: starting %s: %w", c.server, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		_ = killProcess(cmd.Process)
		<-done
		return errors.New("rediscluster: cluster stopped")
	}
	n.cmd, n.done = cmd, done
	if n.client != nil {
		n.client.Close() // its pooled connections are to the dead process
	}
	n.client = newClient(n.addr)
	cl := n.client
	c.mu.Unlock()
	c.opts.Logf("rediscluster: started redis-server on %s (pid %d)", n.addr, cmd.Process.Pid)

	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		select {
		case <-done:
			tail := logTail(n.log)
			err := fmt.Errorf("rediscluster: redis-server on %s exited at start (%v); log %s ends:\n%s", n.addr, cmd.ProcessState, n.log, tail)
			if strings.Contains(tail, "already in use") {
				return &bindError{err}
			}
			return err
		case <-ctx.Done():
			c.kill(n)
			return fmt.Errorf("rediscluster: %s did not answer PING (%v): %w; log ends:\n%s", n.addr, lastErr, ctx.Err(), logTail(n.log))
		case <-deadline.C:
			c.kill(n)
			return fmt.Errorf("rediscluster: %s did not answer PING within 15s (%v); log ends:\n%s", n.addr, lastErr, logTail(n.log))
		case <-tick.C:
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			lastErr = cl.Ping(pctx).Err()
			cancel()
			if lastErr == nil {
				return nil
			}
		}
	}
}

func newClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:            addr,
		DialTimeout:     time.Second,
		ReadTimeout:     3 * time.Second,
		WriteTimeout:    3 * time.Second,
		MaxRetries:      1,
		PoolSize:        4,
		DisableIdentity: true, // CLIENT SETINFO is Redis 7.2+
	})
}

// kill SIGKILLs n's process group and waits until it has been reaped.
func (c *Cluster) kill(n *node) error {
	c.mu.Lock()
	cmd, done := n.cmd, n.done
	c.mu.Unlock()
	if cmd == nil || done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := killProcess(cmd.Process); err != nil {
		select {
		case <-done:
			return nil
		default:
		}
		return fmt.Errorf("rediscluster: killing %s (pid %d): %w", n.addr, cmd.Process.Pid, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("rediscluster: %s (pid %d) still not reaped 30s after SIGKILL", n.addr, cmd.Process.Pid)
	}
}

// Stop kills every process the cluster started (including restarted ones),
// waits for them, and removes the working directory if Start created it.
// It is idempotent: later calls return the first call's result.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		err := c.stopErr
		c.mu.Unlock()
		return err
	}
	c.stopped = true
	nodes := slices.Clone(c.nodes)
	c.mu.Unlock()

	var errs []error
	for _, n := range nodes {
		if err := c.kill(n); err != nil {
			errs = append(errs, err)
		}
	}
	c.mu.Lock()
	for _, n := range nodes {
		if n.client != nil {
			n.client.Close()
		}
	}
	c.mu.Unlock()
	if c.ownDir {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, err)
		}
	}
	err := errors.Join(errs...)
	c.mu.Lock()
	c.stopErr = err
	c.mu.Unlock()
	return err
}

// Addrs returns "127.0.0.1:port" of every node, in start order (masters
// first, then replicas: replica i replicates master i%Masters at start).
func (c *Cluster) Addrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr
	}
	return out
}

// URL returns "redis://<master1>?addr=<master2>&addr=<master3>", the form
// redis.ParseClusterURL reads, with the masters as they were at start.
func (c *Cluster) URL() string {
	addrs := c.Addrs()[:c.masters]
	u := "redis://" + addrs[0]
	for i, a := range addrs[1:] {
		if i == 0 {
			u += "?"
		} else {
			u += "&"
		}
		u += "addr=" + a
	}
	return u
}

// SeedURL returns "redis://<first node>": a single seed, from which a cluster
// client discovers the rest.
func (c *Cluster) SeedURL() string {
	return "redis://" + c.Addrs()[0]
}

// Dir returns the working directory holding nodes-<port>.conf and <port>.log.
func (c *Cluster) Dir() string { return c.dir }

// PID returns the process id of the node at addr, or 0 if it is not running.
func (c *Cluster) PID(addr string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.addr == addr && n.running() {
			return n.cmd.Process.Pid
		}
	}
	return 0
}

// Running reports whether the node at addr has a live process.
func (c *Cluster) Running(addr string) bool { return c.PID(addr) != 0 }

// Masters returns the addresses of the current masters that are not flagged
// fail (or fail?), as seen in CLUSTER NODES of the first live node that
// answers, in start order. A node that is not running but not yet flagged by
// the cluster is still listed.
func (c *Cluster) Masters(ctx context.Context) ([]string, error) {
	v, err := c.anyView(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range v {
		if e.IsMaster() && !e.Failed() && !e.has("noaddr") && !e.has("handshake") {
			out = append(out, e.Addr)
		}
	}
	c.sortByStartOrder(out)
	return out, nil
}

// MasterOf returns the address of the master currently serving key's slot
// (hash tags respected: the slot comes from CLUSTER KEYSLOT). It fails if the
// slot's owner is flagged fail, e.g. during a failover; call WaitHealthy first.
func (c *Cluster) MasterOf(ctx context.Context, key string) (string, error) {
	for _, n := range c.liveNodes() {
		cl := c.client(n)
		slot, err := cl.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			continue
		}
		v, err := c.view(ctx, n)
		if err != nil {
			continue
		}
		e := v.Owner(int(slot))
		if e == nil {
			return "", fmt.Errorf("rediscluster: no node serves slot %d of key %q (in the view of %s)", slot, key, n.addr)
		}
		if e.Failed() {
			return "", fmt.Errorf("rediscluster: slot %d of key %q is owned by %s, flagged %s (in the view of %s)", slot, key, e.Addr, strings.Join(e.Flags, ","), n.addr)
		}
		return e.Addr, nil
	}
	return "", errors.New("rediscluster: no live node answered")
}

// Kill SIGKILLs the node's process (kill -9) and reaps it.
func (c *Cluster) Kill(addr string) error {
	n, err := c.lookup(addr)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running := n.running()
	c.mu.Unlock()
	if !running {
		return fmt.Errorf("rediscluster: %s is not running", addr)
	}
	if err := c.kill(n); err != nil {
		return err
	}
	c.opts.Logf("rediscluster: killed %s", addr)
	return nil
}

// Restart starts a killed node again on the same port with the same
// nodes.conf, and waits until it answers PING. It comes back empty and
// rejoins (typically as a replica of whoever took over its slots); use
// WaitHealthy to wait for that.
func (c *Cluster) Restart(addr string) error {
	n, err := c.lookup(addr)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running, stopped := n.running(), c.stopped
	c.mu.Unlock()
	if stopped {
		return errors.New("rediscluster: cluster stopped")
	}
	if running {
		return fmt.Errorf("rediscluster: %s is still running; Kill it first", addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.launch(ctx, n); err != nil {
		return err
	}
	c.opts.Logf("rediscluster: restarted %s", addr)
	return nil
}

// WaitHealthy waits until, on every live node, cluster_state is ok, every
// slot is served by a running master not flagged fail, all live nodes agree
// on who serves each slot, and every live replica's master_link_status is
// up. If ctx has no deadline it gives up after 2 minutes. The error says what
// was still wrong.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx, 2*time.Minute)
	defer cancel()
	return c.poll(ctx, "the cluster to become healthy", func(ctx context.Context) (*node, error) {
		return c.unhealthy(ctx)
	})
}

// unhealthy returns nil, nil when the cluster is healthy, or the node and the
// reason it is not.
func (c *Cluster) unhealthy(ctx context.Context) (*node, error) {
	live := c.liveNodes()
	if len(live) == 0 {
		return nil, errors.New("no node is running")
	}
	liveAddr := map[string]bool{}
	for _, n := range live {
		liveAddr[n.addr] = true
	}
	var ref []string // slot -> owner addr, from the first view
	var refNode *node
	for _, n := range live {
		cl := c.client(n)
		info, err := cl.ClusterInfo(ctx).Result()
		if err != nil {
			return n, fmt.Errorf("%s: CLUSTER INFO: %w", n.addr, err)
		}
		if st := infoField(info, "cluster_state"); st != "ok" {
			return n, fmt.Errorf("%s: cluster_state:%s", n.addr, st)
		}
		v, err := c.view(ctx, n)
		if err != nil {
			return n, err
		}
		owners := make([]string, NumSlots)
		for _, e := range v {
			if !e.IsMaster() || len(e.Slots) == 0 {
				continue
			}
			for _, r := range e.Slots {
				if e.Failed() {
					return n, fmt.Errorf("%s sees slots %d-%d served by %s flagged %s", n.addr, r[0], r[1], e.Addr, strings.Join(e.Flags, ","))
				}
				if !liveAddr[e.Addr] {
					return n, fmt.Errorf("%s sees slots %d-%d served by %s, which is not running", n.addr, r[0], r[1], e.Addr)
				}
				for s := r[0]; s <= r[1] && s < NumSlots; s++ {
					owners[s] = e.Addr
				}
			}
		}
		for s, o := range owners {
			if o == "" {
				return n, fmt.Errorf("%s sees slot %d unserved", n.addr, s)
			}
		}
		if ref == nil {
			ref, refNode = owners, n
		} else {
			for s := range owners {
				if owners[s] != ref[s] {
					return n, fmt.Errorf("%s sees slot %d served by %s, %s by %s", n.addr, s, owners[s], refNode.addr, ref[s])
				}
			}
		}
		if me := v.Myself(); me != nil && me.has("slave") {
			repl, err := cl.Info(ctx, "replication").Result()
			if err != nil {
				return n, fmt.Errorf("%s: INFO replication: %w", n.addr, err)
			}
			if st := infoField(repl, "master_link_status"); st != "up" {
				return n, fmt.Errorf("replica %s: master_link_status:%s", n.addr, st)
			}
		}
	}
	return nil, nil
}

// poll calls check every 100ms until it returns a nil error or ctx ends; the
// error then says what was still wrong, with the tail of that node's log.
func (c *Cluster) poll(ctx context.Context, what string, check func(context.Context) (*node, error)) error {
	began := time.Now()
	var lastNode *node
	var lastErr error
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := check(cctx)
		cancel()
		if err == nil {
			return nil
		}
		lastNode, lastErr = n, err
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("rediscluster: gave up waiting for %s after %v (%v): last problem: %v", what, time.Since(began).Round(time.Millisecond), ctx.Err(), lastErr)
			if lastNode != nil {
				msg += fmt.Sprintf("\n%s ends:\n%s", lastNode.log, logTail(lastNode.log))
			}
			return errors.New(msg)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) nodeErr(n *node, what string, err error) error {
	return fmt.Errorf("rediscluster: %s on %s: %w; log %s ends:\n%s", what, n.addr, err, n.log, logTail(n.log))
}

func (c *Cluster) nodeList() []*node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.nodes)
}

func (c *Cluster) liveNodes() []*node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*node
	for _, n := range c.nodes {
		if n.running() {
			out = append(out, n)
		}
	}
	return out
}

func (c *Cluster) client(n *node) *redis.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return n.client
}

func (c *Cluster) lookup(addr string) (*node, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.addr == addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("rediscluster: %s is not a node of this cluster", addr)
}

func (c *Cluster) sortByStartOrder(addrs []string) {
	idx := map[string]int{}
	for i, a := range c.Addrs() {
		idx[a] = i
	}
	slices.SortStableFunc(addrs, func(a, b string) int {
		ia, oka := idx[a]
		ib, okb := idx[b]
		if !oka {
			ia = 1 << 30
		}
		if !okb {
			ib = 1 << 30
		}
		return ia - ib
	})
}

func (c *Cluster) view(ctx context.Context, n *node) (View, error) {
	s, err := c.client(n).ClusterNodes(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("%s: CLUSTER NODES: %w", n.addr, err)
	}
	v, err := ParseNodes(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.addr, err)
	}
	return v, nil
}

// anyView returns CLUSTER NODES of the first live node that answers.
func (c *Cluster) anyView(ctx context.Context) (View, error) {
	var errs []error
	for _, n := range c.liveNodes() {
		v, err := c.view(ctx, n)
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, errors.New("rediscluster: no node is running")
	}
	return nil, fmt.Errorf("rediscluster: no live node answered CLUSTER NODES: %w", errors.Join(errs...))
}

// NodeInfo is one line of CLUSTER NODES.
type NodeInfo struct {
	ID       string
	Addr     string // "ip:port", without the bus port and hostname
	Flags    []string
	MasterID string // "" for a master
	Link     string // "connected" or "disconnected"
	Slots    [][2]int
}

func (e *NodeInfo) has(flag string) bool { return slices.Contains(e.Flags, flag) }

// IsMaster reports whether the node is flagged master.
func (e *NodeInfo) IsMaster() bool { return e.has("master") }

// Failed reports whether the node is flagged fail or fail? (PFAIL).
func (e *NodeInfo) Failed() bool { return e.has("fail") || e.has("fail?") }

// View is a node's CLUSTER NODES, parsed.
type View []NodeInfo

// Myself returns the entry of the node that produced the view.
func (v View) Myself() *NodeInfo {
	for i := range v {
		if v[i].has("myself") {
			return &v[i]
		}
	}
	return nil
}

// Owner returns the master entry that claims slot, or nil.
func (v View) Owner(slot int) *NodeInfo {
	for i := range v {
		if !v[i].IsMaster() {
			continue
		}
		for _, r := range v[i].Slots {
			if slot >= r[0] && slot <= r[1] {
				return &v[i]
			}
		}
	}
	return nil
}

// ParseNodes parses the output of CLUSTER NODES. Slots being imported or
// migrated ("[slot->-id]") are ignored.
func ParseNodes(s string) (View, error) {
	var v View
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("rediscluster: bad CLUSTER NODES line %q", line)
		}
		addr := f[1]
		if i := strings.IndexAny(addr, "@,"); i >= 0 {
			addr = addr[:i]
		}
		e := NodeInfo{ID: f[0], Addr: addr, Flags: strings.Split(f[2], ","), Link: f[7]}
		if f[3] != "-" {
			e.MasterID = f[3]
		}
		for _, sl := range f[8:] {
			if strings.HasPrefix(sl, "[") {
				continue
			}
			lo, hi, ok := strings.Cut(sl, "-")
			a, err := strconv.Atoi(lo)
			if err != nil {
				return nil, fmt.Errorf("rediscluster: bad slot %q in CLUSTER NODES line %q", sl, line)
			}
			b := a
			if ok {
				if b, err = strconv.Atoi(hi); err != nil {
					return nil, fmt.Errorf("rediscluster: bad slot %q in CLUSTER NODES line %q", sl, line)
				}
			}
			e.Slots = append(e.Slots, [2]int{a, b})
		}
		v = append(v, e)
	}
	return v, nil
}

func infoField(info, key string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return ""
}

// logTail returns the last lines of a log file.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if len(b) > 8192 {
		b = b[len(b)-8192:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
