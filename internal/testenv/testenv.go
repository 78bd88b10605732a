// Package testenv finds the real services tests talk to, and decides what a
// test does when one is missing: skip loudly on a developer's machine, fail
// under CI (CI=true) so that CI can never pass by skipping.
package testenv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// RedisAddr returns the address of the real Redis (ASSIGN_TEST_REDIS_ADDR,
// default 127.0.0.1:6379) after checking it answers PING.
func RedisAddr(tb testing.TB) string {
	tb.Helper()
	addr := getenv("ASSIGN_TEST_REDIS_ADDR", "127.0.0.1:6379")
	if err := pingRedis(addr); err != nil {
		Missing(tb, "Redis", addr, err)
	}
	return addr
}

// PostgresURL returns the URL of the real PostgreSQL (ASSIGN_TEST_POSTGRES_URL,
// default postgres://postgres@127.0.0.1:5432/test) after checking its port
// accepts connections.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	url := getenv("ASSIGN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	addr := getenv("ASSIGN_TEST_POSTGRES_ADDR", "127.0.0.1:5432")
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		Missing(tb, "PostgreSQL", addr, err)
	}
	c.Close()
	return url
}

// Missing skips the test with a loud message, or fails it under CI.
func Missing(tb testing.TB, service, addr string, err error) {
	tb.Helper()
	msg := fmt.Sprintf("!!! %s is not reachable at %s (%v): this test needs the real server", service, addr, err)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg + "; failing because CI=true")
	}
	fmt.Fprintln(os.Stderr, msg+"; SKIPPING")
	tb.Skip(msg)
}

// Namespace returns a fresh random key namespace such as "t-1a2b3c4d:", so
// tests sharing one Redis never see each other's keys.
func Namespace() string {
	return fmt.Sprintf("t-%08x:", rand.Uint32())
}

// Context returns a context cancelled when the test ends.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	return ctx
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// pingRedis speaks just enough RESP to check a server answers, so this
// package needs no client library.
func pingRedis(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "+PONG\r\n" {
		return fmt.Errorf("unexpected answer %q", buf[:n])
	}
	return nil
}
