package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

// DefaultReplicaWait bounds WAIT when the caller's context has no deadline.
const DefaultReplicaWait = time.Second

// runEnrollReplicated calls the enrollment script and then WAIT for
// s.MinReplicas replicas on the same connection of the node owning the
// keys, in one round trip: the answer leaves only once that many replicas
// hold the member (WAIT acknowledges what the connection wrote; an
// existing member writes nothing, so its WAIT returns at once). Fewer
// replicas by the deadline is EUNAVAILABLE: the member stays recorded, and
// the user's next call finds it (the draws are deterministic, so a member
// lost in a failover re-enrolls into the same group anyway).
func (s *Store) runEnrollReplicated(ctx context.Context, keys []string, args ...any) (int64, error) {
	node, err := s.nodeFor(ctx, keys[0])
	if err != nil {
		return 0, err
	}
	// WAIT must answer before the client stops reading, or its "fewer
	// replicas" reply is never seen: it gets half of what is left of the
	// caller's deadline and of the connection's read timeout (a replica on
	// the same network acknowledges in well under a millisecond), the rest
	// is the script's and the round trip's.
	wait := min(DefaultReplicaWait, node.Options().ReadTimeout)
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	wait = max(wait/2, time.Millisecond)
	var script *redis.Cmd
	var acked *redis.IntCmd
	run := func(eval bool) error {
		_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			if eval {
				script = scripts.Enroll.Eval(ctx, p, keys, args...)
			} else {
				script = scripts.Enroll.EvalSha(ctx, p, keys, args...)
			}
			// Pipeliner lacks the Wait method; the command is the same.
			acked = redis.NewIntCmd(ctx, "wait", s.MinReplicas, wait.Milliseconds())
			_ = p.Process(ctx, acked)
			return nil
		})
		return err
	}
	err = run(false)
	if err != nil && redis.HasErrorPrefix(script.Err(), "NOSCRIPT") {
		err = run(true)
	}
	if err != nil {
		if cc, ok := s.client.(*redis.ClusterClient); ok && (redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")) {
			cc.ReloadState(ctx) // the slot moved: the next call finds its node
			return 0, assign.Errorf(assign.EUNAVAILABLE, "the experiment's slot is moving; try again")
		}
		return 0, err
	}
	code, err := script.Int64()
	if err != nil {
		return 0, err
	}
	if n := acked.Val(); n < int64(s.MinReplicas) {
		return 0, assign.Errorf(assign.EUNAVAILABLE, "the enrollment reached %d of the %d replicas required in time", n, s.MinReplicas)
	}
	return code, nil
}

// nodeFor returns the client of the node that owns key: the master of its
// slot on a cluster, the one node otherwise.
func (s *Store) nodeFor(ctx context.Context, key string) (*redis.Client, error) {
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		n, err := c.MasterForKey(ctx, key)
		if err != nil {
			return nil, err
		}
		return n, nil
	case *redis.Client:
		return c, nil
	}
	return nil, assign.Errorf(assign.EINTERNAL, "replicated enrollments need a single-node, sentinel or cluster client, not %T", s.client)
}
