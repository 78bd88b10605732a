package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/internal/testenv"
)

// redisServer is a real redis-server the test starts on its own port.
type redisServer struct {
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, "redis-server binary", "PATH", err)
	}
	r := &redisServer{port: port}
	r.cmd = exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	// Ready when the server on the port is ours (not another test run's).
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	want := fmt.Sprintf("process_id:%d", r.cmd.Process.Pid)
	for i := 0; i < 100; i++ {
		if info, err := c.Info(context.Background(), "server").Result(); err == nil && strings.Contains(info, want) {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("redis-server (pid %d) did not start on %s", r.cmd.Process.Pid, r.addr())
	return nil
}

// freePort returns a TCP port of 127.0.0.1 that nothing listened on a moment
// ago, so that test runs side by side do not share a redis-server.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (r *redisServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

func (r *redisServer) stop() {
	if r.cmd.Process != nil && r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(syscall.SIGCONT)
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// TestMain_RedisOutage runs assignd against a real redis-server of its own,
// then makes Redis hang (SIGSTOP) and die, and checks that every enrollment
// meanwhile answers 503 with a fallback within the deadline, and that the
// service recovers by itself when Redis is back.
func TestMain_RedisOutage(t *testing.T) {
	port := freePort(t)
	rs := startRedis(t, port)

	secret := "outage-test-secret-0123456789abcdef"
	admin := "outage-admin-0123456789"
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.RedisURL = "redis://" + rs.addr()
	m.Config.JWTSecret = secret
	m.Config.AdminTokens = "ops:" + admin
	m.Config.Exporter = false
	m.Config.EnrollTimeout = 50 * time.Millisecond
	// Every call reaches Redis here; the answer cache's own outage
	// behaviour (it stops answering within its bound) is
	// TestAnswerCache_TwoProcesses's.
	m.Config.AnswerCache = false
	m.Logger = discardLogger()
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	url := m.Server.URL()
	client := &http.Client{Timeout: 3 * time.Second}

	create := func() {
		t.Helper()
		body := `{"experiment_id":"outage","maximum_sample_size":1000,"groups":[{"group_name":"a","probability_of_falling_in":0.5},{"group_name":"b","probability_of_falling_in":0.5}]}`
		if code, b := postWith(t, client, url+"/api/experiment-create", admin, body); code != 201 {
			t.Fatalf("create: %d %s", code, b)
		}
	}
	token, _ := auth.SignHS256([]byte(secret), "user-1", time.Hour, nil)
	enroll := func() (int, string) {
		return postWith(t, client, url+"/api/experiment-enrollments", token, `{"experiment_id":"outage"}`)
	}
	ready := func() int {
		resp, err := client.Get(url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	create()
	code, first := enroll()
	if code != 200 || !strings.Contains(first, `"enrolled":true`) {
		t.Fatalf("enroll: %d %s", code, first)
	}

	t.Run("RedisHangs", func(t *testing.T) {
		if err := rs.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			code, body := enroll()
			if code != 503 || !strings.Contains(body, `"fallback":"default_experience"`) {
				t.Fatalf("enroll while Redis hangs: %d %s, want 503 with a fallback", code, body)
			}
		}
		if err := rs.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		// Recovered without a restart, and the user still has the same group.
		waitFor(t, func() bool { code, body := enroll(); return code == 200 && body == first })
	})

	t.Run("RedisDiesAndReturns", func(t *testing.T) {
		rs.stop()
		code, body := enroll()
		if code != 503 || !strings.Contains(body, `"unavailable"`) {
			t.Fatalf("enroll with Redis down: %d %s, want 503", code, body)
		}
		if got := ready(); got != 503 {
			t.Fatalf("/readyz with Redis down = %d, want 503", got)
		}
		resp, err := client.Get(url + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("/healthz with Redis down: %v %v, want 200 (alive)", resp, err)
		}
		resp.Body.Close()

		// A new, empty Redis on the same port: assignd reconnects and reloads
		// its scripts by itself.
		rs = startRedis(t, port)
		waitFor(t, func() bool { return ready() == 200 })
		create()
		waitFor(t, func() bool { code, _ := enroll(); return code == 200 })
	})

	// The outage is visible to the SRE.
	resp, err := client.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	exposition := readAll(resp)
	if !strings.Contains(exposition, `assign_http_requests_total{code="503",route="experiment_enrollments"}`) {
		t.Fatal("metrics lack the 503 enrollments")
	} else if !strings.Contains(exposition, `assign_redis_errors_total{kind="timeout"}`) {
		t.Fatal("metrics lack Redis timeouts")
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if ok() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("condition not met within 10s")
}

func postWith(t *testing.T, c *http.Client, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v (the server must answer within its deadline)", url, err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(resp)
}

func readAll(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
