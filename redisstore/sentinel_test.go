package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// proc is a redis-server (or sentinel) process a test started.
type proc struct {
	addr string
	cmd  *exec.Cmd
}

func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// startRedisProc starts redis-server with args (a config file first, if
// any) on a free port of its own and waits for it to answer; it is killed
// when the test ends.
func startRedisProc(t *testing.T, args ...string) *proc {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, "redis-server binary", "PATH", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p := &proc{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	full := append(args, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	p.cmd = exec.Command(bin, full...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1})
	defer c.Close()
	want := fmt.Sprintf("process_id:%d", p.cmd.Process.Pid)
	for range 200 {
		// Ours, not another run's server on the same port; INFO may be
		// renamed away too, then any PING answer will do.
		if info, err := c.Info(context.Background(), "server").Result(); err == nil && strings.Contains(info, want) {
			return p
		} else if err != nil && strings.Contains(err.Error(), "unknown command") && c.Ping(context.Background()).Err() == nil {
			return p
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("redis-server %v did not start on %s", args, p.addr)
	return nil
}

// TestNewClient_Sentinel: a URL with master_name names sentinels; the
// client follows the primary they report, and keeps enrolling after the
// primary dies and the sentinel promotes its replica (members written with
// WAIT 1 before the kill keep their group).
func TestNewClient_Sentinel(t *testing.T) {
	ctx := testenv.Context(t)
	primary := startRedisProc(t)
	host, port, _ := net.SplitHostPort(primary.addr)
	replica := startRedisProc(t, "--replicaof", host, port)
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(
		"sentinel monitor assign %s %s 1\nsentinel down-after-milliseconds assign 1000\nsentinel failover-timeout assign 5000\n", host, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	sentinel := startRedisProc(t, conf, "--sentinel")

	url := "redis://" + sentinel.addr + "?master_name=assign"
	c, err := redisstore.NewClient(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := redisstore.Kind(c); got != "sentinel" {
		t.Fatalf("Kind=%q, want sentinel", got)
	}
	s := newStore(t, c)
	cache := withAnswerCache(t, s) // the listener through the Sentinel client: it must follow the failover
	mustCreate(t, s, newExperiment("sentinel", 1000, 1))
	s.MinReplicas = 1 // on the replica before the primary dies
	told := map[string]string{}
	waitFor(t, "the replica to sync", func() bool {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		res, err := s.Enroll(cctx, assign.EnrollRequest{ExperimentID: "sentinel", UserID: "first"})
		if err == nil {
			told["first"] = res.Group
		}
		return err == nil
	})
	for i := range 50 {
		u := fmt.Sprint("u-", i)
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		res, err := s.Enroll(cctx, assign.EnrollRequest{ExperimentID: "sentinel", UserID: u})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		told[u] = res.Group
	}
	s.MinReplicas = 0
	within(t, time.Second, "the members' answers to be kept", func() bool {
		before := cache.Stats().Hits
		mustEnroll(t, s, "sentinel", "u-0")
		return cache.Stats().Hits > before
	})
	flushes := cache.Stats().Flushes

	primary.kill()
	// The cache stops with the primary, and answers again only emptied,
	// through the promoted replica.
	within(t, redisstore.HeartbeatWindow+2*redisstore.HeartbeatInterval, "the cache to stop", func() bool { return !cache.Serving() })
	waitFor(t, "the sentinel to promote the replica", func() bool {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := s.Enroll(cctx, assign.EnrollRequest{ExperimentID: "sentinel", UserID: "after"})
		return err == nil
	})
	if role, _ := redis.NewClient(&redis.Options{Addr: replica.addr}).Do(ctx, "ROLE").Slice(); len(role) == 0 || role[0] != "master" {
		t.Fatalf("replica role %v, want master", role)
	}
	waitFor(t, "the cache to answer again after the failover", func() bool { return cache.Serving() && cache.Stats().Flushes > flushes })
	if _, ok := cache.Get(cache.Experiment("sentinel"), "u-0"); ok {
		t.Fatal("an answer kept before the failover is answered after it")
	}
	for u, g := range told {
		if res := mustEnroll(t, s, "sentinel", u); res.Group != g || res.New {
			t.Fatalf("%s: %+v after the failover, told %q before", u, res, g)
		}
	}
}

// waitFor polls cond for up to a minute (a guard against a hung test, not a
// timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) { within(t, time.Minute, what, cond) }
