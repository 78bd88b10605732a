package rediscluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// needServer skips when redis-server is missing, or fails under CI=true, as
// testenv.Missing does (testenv imports this package, so it cannot be used
// here).
func needServer(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := fmt.Sprintf("!!! Redis Cluster is not reachable at redis-server on PATH (%v): this test needs the real server", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; failing because CI=true")
		}
		fmt.Fprintln(os.Stderr, msg+"; SKIPPING")
		t.Skip(msg)
	}
}

func TestParseNodes(t *testing.T) {
	const out = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host-a slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail - 0 1426238318243 3 connected 10923-16383 [93->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 slave,fail? 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected
`
	v, err := ParseNodes(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 5 {
		t.Fatalf("got %d entries, want 5", len(v))
	}
	if v[0].Addr != "127.0.0.1:30004" || v[0].MasterID != "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca" || v[0].IsMaster() {
		t.Errorf("replica line parsed as %+v", v[0])
	}
	if me := v.Myself(); me == nil || me.Addr != "127.0.0.1:30001" {
		t.Errorf("Myself = %+v", me)
	}
	if o := v.Owner(0); o == nil || o.Addr != "127.0.0.1:30001" {
		t.Errorf("Owner(0) = %+v", o)
	}
	if o := v.Owner(10922); o == nil || o.Addr != "127.0.0.1:30002" {
		t.Errorf("Owner(10922) = %+v", o)
	}
	if o := v.Owner(16383); o == nil || !o.Failed() || len(o.Slots) != 1 {
		t.Errorf("Owner(16383) = %+v, want the failed master with one range", o)
	}
	if !v[4].Failed() {
		t.Errorf("fail? not seen as failed: %+v", v[4])
	}
}

func TestSlotRanges(t *testing.T) {
	got := fmt.Sprint(slotRanges(3))
	if want := "[[0 5460] [5461 10922] [10923 16383]]"; got != want {
		t.Errorf("slotRanges(3) = %s, want %s", got, want)
	}
	for m := 1; m <= 10; m++ {
		next := 0
		for _, r := range slotRanges(m) {
			if r[0] != next || r[1] < r[0] {
				t.Fatalf("slotRanges(%d) = %v: not contiguous", m, slotRanges(m))
			}
			next = r[1] + 1
		}
		if next != NumSlots {
			t.Fatalf("slotRanges(%d) = %v: does not cover all slots", m, slotRanges(m))
		}
	}
}

// eventually retries f every 200ms until it returns nil or d has passed.
func eventually(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestClusterFailover(t *testing.T) {
	needServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	began := time.Now()
	c, err := Start(ctx, Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster start took %v", time.Since(began).Round(time.Millisecond))
	defer c.Stop()

	addrs := c.Addrs()
	if len(addrs) != 6 {
		t.Fatalf("Addrs() = %v, want 6 nodes", addrs)
	}
	masters, err := c.Masters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(masters) != fmt.Sprint(addrs[:3]) {
		t.Fatalf("Masters() = %v, want the first three nodes %v", masters, addrs[:3])
	}

	opt, err := redis.ParseClusterURL(c.URL())
	if err != nil {
		t.Fatalf("ParseClusterURL(%q): %v", c.URL(), err)
	}
	if len(opt.Addrs) != 3 {
		t.Fatalf("ParseClusterURL(%q).Addrs = %v, want 3", c.URL(), opt.Addrs)
	}
	// go-redis does not reload the slot map when a node refuses
	// connections, only on MOVED/READONLY errors and every
	// ClusterStateReloadInterval (default 60s, not settable in the URL):
	// with the default, reads of a dead master's slots fail for up to a
	// minute after the failover.
	opt.ClusterStateReloadInterval = time.Second
	rc := redis.NewClusterClient(opt)
	defer rc.Close()

	// Three masters serve all 16384 slots, each range with one replica.
	slots, err := rc.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	covered, owners := 0, map[string]bool{}
	for _, s := range slots {
		covered += s.End - s.Start + 1
		owners[s.Nodes[0].Addr] = true
		if len(s.Nodes) != 2 {
			t.Errorf("slots %d-%d have %d nodes, want master + 1 replica", s.Start, s.End, len(s.Nodes))
		}
	}
	if covered != NumSlots || len(owners) != 3 {
		t.Fatalf("CLUSTER SLOTS: %d slots covered by %d masters, want %d by 3: %+v", covered, len(owners), NumSlots, slots)
	}

	const key = "{user:42}:profile"
	if err := rc.Set(ctx, key, "v1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := rc.Get(ctx, key).Result(); err != nil || got != "v1" {
		t.Fatalf("GET %s = %q, %v; want v1", key, got, err)
	}
	seedOpt, err := redis.ParseClusterURL(c.SeedURL())
	if err != nil {
		t.Fatal(err)
	}
	seed := redis.NewClusterClient(seedOpt)
	defer seed.Close()
	if got, err := seed.Get(ctx, key).Result(); err != nil || got != "v1" {
		t.Fatalf("GET %s through the single seed %s = %q, %v; want v1", key, c.SeedURL(), got, err)
	}

	master, err := c.MasterOf(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if m2, err := c.MasterOf(ctx, "{user:42}:other"); err != nil || m2 != master {
		t.Fatalf("MasterOf ignores hash tags: %s vs %s (%v)", m2, master, err)
	}
	var replica string
	for i, a := range addrs[:3] {
		if a == master {
			replica = addrs[3+i]
		}
	}
	if replica == "" {
		t.Fatalf("MasterOf(%q) = %s, not one of the masters %v", key, master, addrs[:3])
	}

	// Write through the master itself, on one connection, and WAIT until
	// the replica has it, so that the failover cannot lose it.
	mc := redis.NewClient(&redis.Options{Addr: master, DisableIdentity: true})
	conn := mc.Conn()
	if err := conn.Set(ctx, key, "v2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := conn.Wait(ctx, 1, 30*time.Second).Result(); err != nil || n < 1 {
		t.Fatalf("WAIT 1 on %s = %d, %v; want >= 1", master, n, err)
	}
	conn.Close()
	mc.Close()

	if err := c.Kill(master); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := c.Kill(master); err == nil {
		t.Error("second Kill of the same node did not fail")
	}
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	err = c.WaitHealthy(wctx)
	wcancel()
	if err != nil {
		t.Fatalf("no failover after killing %s: %v", master, err)
	}
	t.Logf("failover of %s took %v (NodeTimeout 1s)", master, time.Since(killed).Round(time.Millisecond))

	newMaster, err := c.MasterOf(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if newMaster != replica {
		t.Fatalf("after killing %s, %q is served by %s, want its replica %s", master, key, newMaster, replica)
	}
	masters, err = c.Masters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(masters) != 3 || slices.Contains(masters, master) {
		t.Fatalf("Masters() after failover = %v, want 3 without %s", masters, master)
	}
	// The cluster client has to notice the dead node and reload the slots.
	healthy := time.Now()
	var readErrs []string
	eventually(t, time.Minute, "reading "+key+" after the failover", func() error {
		got, err := rc.Get(ctx, key).Result()
		if err != nil {
			readErrs = append(readErrs, fmt.Sprintf("%v: %v", time.Since(healthy).Round(time.Millisecond), err))
			return err
		}
		if got != "v2" {
			return fmt.Errorf("GET %s = %q, want v2", key, got)
		}
		return nil
	})
	if len(readErrs) > 3 {
		readErrs = append(readErrs[:3], "...")
	}
	t.Logf("the ClusterClient (ClusterStateReloadInterval 1s) read %s again %v after WaitHealthy (failed GETs: %v)", key, time.Since(healthy).Round(time.Millisecond), readErrs)

	// The killed node comes back as a replica of the node that took over.
	if err := c.Restart(master); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(master); err == nil {
		t.Error("Restart of a running node did not fail")
	}
	wctx, wcancel = context.WithTimeout(ctx, 2*time.Minute)
	err = c.WaitHealthy(wctx)
	wcancel()
	if err != nil {
		t.Fatalf("cluster not healthy after restarting %s: %v", master, err)
	}
	back := redis.NewClient(&redis.Options{Addr: master, DisableIdentity: true})
	defer back.Close()
	eventually(t, time.Minute, master+" rejoining as a replica of "+replica, func() error {
		info, err := back.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		role, host, port, link := infoField(info, "role"), infoField(info, "master_host"), infoField(info, "master_port"), infoField(info, "master_link_status")
		if role != "slave" || net.JoinHostPort(host, port) != replica || link != "up" {
			return fmt.Errorf("role:%s master %s:%s link:%s", role, host, port, link)
		}
		return nil
	})
	if got, err := back.Do(ctx, "READONLY").Result(); err != nil {
		t.Fatalf("READONLY on %s: %v %v", master, got, err)
	}
	eventually(t, 30*time.Second, "reading "+key+" from the rejoined replica", func() error {
		got, err := back.Get(ctx, key).Result()
		if err != nil || got != "v2" {
			return fmt.Errorf("GET = %q, %v", got, err)
		}
		return nil
	})

	// Stop kills everything, removes the temp dir, and can be called again.
	dir := c.Dir()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	for _, a := range addrs {
		if cn, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			cn.Close()
			t.Errorf("%s still accepts connections after Stop", a)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s still there after Stop (%v)", dir, err)
	}
}

func TestStartKeepsGivenDir(t *testing.T) {
	needServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	c, err := Start(ctx, Options{Masters: 3, ReplicasPerMaster: -1, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if n := len(c.Addrs()); n != 3 {
		t.Fatalf("%d nodes, want 3 masters without replicas", n)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fmt.Sprintf("%s/%s.log", dir, strings.TrimPrefix(c.Addrs()[0], "127.0.0.1:"))); err != nil {
		t.Errorf("log of a given Dir removed by Stop: %v", err)
	}
}

// A server that dies at start makes Start fail with the tail of its log, and
// leaves nothing behind.
func TestStartReportsServerLog(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a shell script standing in for redis-server")
	}
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'FATAL CONFIG FILE ERROR (fake redis-server for a test)' >&2\nexit 1\n"
	if err := os.WriteFile(bin+"/redis-server", []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Dir: dir})
	if err == nil {
		c.Stop()
		t.Fatal("Start succeeded with a redis-server that exits at once")
	}
	if !strings.Contains(err.Error(), "FATAL CONFIG FILE ERROR (fake") {
		t.Fatalf("error does not show the server's log: %v", err)
	}
	t.Log(err)
}
