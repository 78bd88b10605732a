package redisstore

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

// Compile-time checks that Store implements the domain services.
var (
	_ assign.ExperimentService = (*Store)(nil)
	_ assign.EnrollmentService = (*Store)(nil)
)

// Store implements assign.ExperimentService and assign.EnrollmentService on
// Redis.
//
// The client must be created with Options.ContextTimeoutEnabled = true
// (NewClient does it): without it go-redis ignores context deadlines and an
// enrollment waits for the socket's ReadTimeout instead of its own deadline.
type Store struct {
	client redis.UniversalClient
	keys   Keys

	// Now returns the current time for creation and update timestamps.
	// Defaults to time.Now; can be mocked for tests.
	Now func() time.Time

	// Scripter runs the enrollment script when Pipeline is nil. Defaults to
	// the client. Tests replace it to replay calls.
	Scripter redis.Scripter

	// Pipeline, when set, carries enrollment script calls instead: the
	// asynchronous face of go-redis's automatic pipeliner
	// (client.AsyncAutoPipeline()), which batches concurrent enrollments into
	// one round trip. Each caller still gets its own deadline (the wait is
	// abandoned at ctx's deadline; the call may run later, which is harmless:
	// the script is idempotent per user, and so are retried batches).
	Pipeline *redis.AutoPipeliner

	// defs caches the immutable part of experiments by id (*definition).
	// Entries never go stale: what they hold never changes after creation.
	// Misses are not cached, so an experiment is found as soon as it exists.
	defs sync.Map
}

// New returns a Store using client, with keys under the namespace of keys.
func New(client redis.UniversalClient, keys Keys) *Store {
	return &Store{
		client:   client,
		keys:     keys,
		Now:      time.Now,
		Scripter: client,
	}
}

// Load loads every script into Redis (SCRIPT LOAD), as a readiness check.
// Calls still fall back to EVAL when Redis has lost its script cache.
func (s *Store) Load(ctx context.Context) error {
	for _, sc := range scripts.All {
		if err := sc.Load(ctx, s.client).Err(); err != nil {
			return storeError(err)
		}
	}
	return nil
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return storeError(s.client.Ping(ctx).Err())
}

// NewClient returns a Redis client for a redis:// or rediss:// URL with the
// options this store needs: ContextTimeoutEnabled (so per-request deadlines
// work), and, unless the URL sets them, a pool of max(64, 10 per CPU)
// connections, a 2 s dial timeout, 1 s read and write timeouts (for calls
// without a deadline) and a 1 s pool wait.
func NewClient(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, assign.Errorf(assign.EINVALID, "redis url: %v", err)
	}
	opt.ContextTimeoutEnabled = true
	if opt.PoolSize == 0 {
		opt.PoolSize = max(64, 10*runtime.GOMAXPROCS(0))
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = 2 * time.Second
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = time.Second
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = time.Second
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = time.Second
	}
	return redis.NewClient(opt), nil
}

// Keys returns the key names the store uses.
func (s *Store) Keys() Keys { return s.keys }
