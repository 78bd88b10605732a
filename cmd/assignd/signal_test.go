package main

import (
	"bufio"
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

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/warehouse/sinks"
)

// TestMain lets a test run this very binary as assignd (ASSIGND_AS_MAIN=1),
// to check what only a real process shows: signals and the exit code.
func TestMain(m *testing.M) {
	if os.Getenv("ASSIGND_AS_MAIN") == "1" {
		os.Args = append([]string{"assignd"}, strings.Fields(os.Getenv("ASSIGND_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMain_SIGTERM runs assignd as a process, enrolls users, and sends
// SIGTERM before the exporter's next flush: the process must exit 0 after
// writing every enrollment to the warehouse.
func TestMain_SIGTERM(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "assign.duckdb")
	secret := "sigterm-secret-0123456789abcdef0123"
	admin := "sigterm-admin-0123456789"

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ASSIGND_AS_MAIN=1",
		"ASSIGND_ARGS=-addr "+addr+" -warehouse-url "+db+" -export-flush-interval 1h -export-batch-size 100000 -log-format json",
		"ASSIGN_JWT_SECRET="+secret, "ASSIGN_ADMIN_TOKEN="+admin)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()

	url := "http://" + addr
	waitFor(t, func() bool { _, err := httpGet(url + "/healthz"); return err == nil })
	if code, b := post(t, url+"/api/experiment-create", admin, `{"experiment_id":"sig","maximum_sample_size":100,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	const users = 40
	for i := 0; i < users; i++ {
		token, _ := auth.SignHS256([]byte(secret), fmt.Sprint("user-", i), time.Hour, nil)
		if code, b := post(t, url+"/api/experiment-enrollments", token, `{"experiment_id":"sig"}`); code != 200 || !strings.Contains(b, `"enrolled":true`) {
			t.Fatalf("enroll: %d %s", code, b)
		}
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			var all []string
			for l := range logs {
				all = append(all, l)
			}
			t.Fatalf("exit after SIGTERM: %v, want 0; logs:\n%s", err, strings.Join(all, "\n"))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("assignd did not exit within 30s of SIGTERM")
	}
	t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))

	// Logs are JSON lines and never hold a token.
	for l := range logs {
		if !strings.HasPrefix(l, "{") {
			t.Errorf("log line is not JSON: %s", l)
		} else if strings.Contains(l, secret) || strings.Contains(l, admin) {
			t.Errorf("log line leaks a credential: %s", l)
		}
	}

	wh, err := sinks.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	n, err := wh.CountEnrollments(context.Background(), start.Add(-time.Hour), start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	} else if n != users {
		t.Fatalf("%d enrollments in the warehouse after SIGTERM, want %d (flushed on shutdown)", n, users)
	}
}
