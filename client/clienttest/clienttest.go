// Package clienttest runs a real assignd API for tests of the client and of
// assignctl: package http's server over redisstore on an in-process
// miniredis, listening on 127.0.0.1:0, stopped when the test ends.
package clienttest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/client"
	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// Credentials of the servers this package starts.
const (
	AdminToken = "clienttest-admin-token-0123456789"
	AdminName  = "alice"
	JWTSecret  = "clienttest-jwt-secret-0123456789abcdef"
)

// Server is a running API with what tests need to reach around it.
type Server struct {
	*assignhttp.Server
	Store  *redisstore.Store
	Redis  *redis.Client
	Keys   redisstore.Keys
	Mini   *miniredis.Miniredis
	Client *client.Client // admin client of this server
}

// MustOpen starts a server and stops it when tb ends.
func MustOpen(tb testing.TB) *Server {
	tb.Helper()
	mr := miniredis.RunT(tb)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	tb.Cleanup(func() { rc.Close() })
	keys := redisstore.Keys{Namespace: testenv.Namespace()}
	store := redisstore.New(rc, keys)
	if err := store.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{HS256Secret: []byte(JWTSecret)})
	if err != nil {
		tb.Fatal(err)
	}
	s := assignhttp.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Experiments, s.Enrollments, s.Layers, s.Verifier = store, store, store, v
	s.Admins = map[string]string{AdminToken: AdminName}
	s.Ready = store.Ping
	// miniredis runs in this process on a shared 2-core machine: a loose
	// deadline keeps a slow moment from turning into a 503.
	s.EnrollTimeout = 5 * time.Second
	s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := s.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	c := client.New(s.URL(), AdminToken)
	c.EnrollTimeout = 2 * s.EnrollTimeout // the server answers its 503 first
	return &Server{Server: s, Store: store, Redis: rc, Keys: keys, Mini: mr, Client: c}
}

// UserToken returns an HS256 token for subject that this server accepts,
// with the extra claims (eligibility) added.
func UserToken(tb testing.TB, subject string, claims map[string]any) string {
	tb.Helper()
	tok, err := auth.SignHS256([]byte(JWTSecret), subject, time.Hour, claims)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}
