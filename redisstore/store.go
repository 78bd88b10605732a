package redisstore

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/answercache"
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

	// MinReplicas, when above 0, makes each enrollment wait (WAIT) until that
	// many replicas acknowledged it before answering, within the caller's
	// deadline; fewer is EUNAVAILABLE. It bypasses Pipeline (WAIT must
	// follow the write on its connection). Default 0: replication stays
	// asynchronous, and a member lost with a dead master re-enrolls into the
	// same group (the draws are deterministic).
	MinReplicas int

	// Answers, when set, keeps the answers of the enrollment script that
	// cannot change until the experiment's configuration does (answers.go),
	// so that a returning user is answered without Redis. It answers only
	// while Listen runs and proves that no change can have been missed.
	Answers *answercache.Cache

	// defs caches the immutable part of experiments by id (*definition).
	// Entries never go stale: what they hold never changes after creation.
	// Misses are not cached, so an experiment is found as soon as it exists.
	defs sync.Map

	// healed holds, by id, when this process last wrote the experiment's
	// index entries (unix ns, see healSoon).
	healed sync.Map
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

// Load loads every script into Redis (SCRIPT LOAD), on every master of a
// cluster, and checks that a cluster serves all its slots: the readiness
// check. Calls still fall back to EVAL when Redis has lost its script cache
// (a restarted node, a promoted replica).
func (s *Store) Load(ctx context.Context) error {
	return s.eachMaster(ctx, func(ctx context.Context, c redis.Scripter) error {
		for _, sc := range scripts.All {
			if err := sc.Load(ctx, c).Err(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Ping checks that Redis answers: on a cluster, that every master answers
// and the cluster serves all its slots (cluster_state:ok).
func (s *Store) Ping(ctx context.Context) error {
	return s.eachMaster(ctx, func(ctx context.Context, c redis.Scripter) error { return nil })
}

// eachMaster calls fn with the single node, or with every master of a
// cluster after checking that it says cluster_state:ok (a cluster missing
// a master, or with slots unserved, is not ready: some experiments could
// not enroll anyone). Errors are store errors.
func (s *Store) eachMaster(ctx context.Context, fn func(ctx context.Context, c redis.Scripter) error) error {
	cc, ok := s.client.(*redis.ClusterClient)
	if !ok {
		if err := s.client.Ping(ctx).Err(); err != nil {
			return storeError(err)
		}
		return storeError(fn(ctx, s.client))
	}
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		info, err := c.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return assign.Errorf(assign.EUNAVAILABLE, "redis cluster node %s: cluster_state is not ok", c.Options().Addr)
		}
		// With cluster-require-full-coverage no the state stays ok while
		// slots are unassigned or their master failed: every slot may hold
		// an experiment, so each must be served.
		if !strings.Contains(info, "cluster_slots_ok:"+strconv.Itoa(ClusterSlots)+"\r") && !strings.Contains(info, "cluster_slots_ok:"+strconv.Itoa(ClusterSlots)+"\n") {
			return assign.Errorf(assign.EUNAVAILABLE, "redis cluster node %s: not every slot is served", c.Options().Addr)
		}
		return fn(ctx, c)
	})
	if err != nil {
		// The slot map may be stale (a master died, a replica took over):
		// read it again for the next call.
		cc.ReloadState(ctx)
	}
	return storeError(err)
}

// Client returns the Redis client the store uses.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Keys returns the key names the store uses.
func (s *Store) Keys() Keys { return s.keys }
