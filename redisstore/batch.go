package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/answercache"
	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

var _ assign.BatchEnrollmentService = (*Store)(nil)

// EnrollMany implements assign.BatchEnrollmentService: one pipeline of
// EVALSHA calls of the enrollment script, which a cluster client splits per
// node (one round trip per shard, redirects followed). What the batch
// cannot settle in that one pass (a stale cached definition, a script not
// loaded, an experiment created again elsewhere) goes through Enroll for
// that experiment alone, as does every call under MinReplicas (each WAITs on
// its own connection).
func (s *Store) EnrollMany(ctx context.Context, reqs []assign.EnrollRequest) []assign.EnrollResult {
	out := make([]assign.EnrollResult, len(reqs))
	if s.MinReplicas > 0 || len(reqs) < 2 {
		for i, req := range reqs {
			out[i].Enrollment, out[i].Err = s.Enroll(ctx, req)
		}
		return out
	}
	type pending struct {
		i    int
		d    *definition
		argv []any // the EVALSHA command (enrollCall.evalsha)
		cmd  *redis.Cmd
		// For the answer cache (answers.go).
		st       answercache.Stamp
		eligible bool
	}
	var ps []pending
	for i, req := range reqs {
		if err := assign.ValidateUserID(req.UserID); err != nil {
			out[i].Err = err
			continue
		} else if err := assign.ValidatePlatform(req.Platform); err != nil {
			out[i].Err = err
			continue
		}
		d, err := s.definition(ctx, req.ExperimentID)
		var eligible bool
		if err == nil {
			eligible, err = d.eligible(req)
		}
		if err != nil {
			out[i].Err = err
			continue
		}
		p := pending{i: i, d: d, eligible: eligible}
		if d.answers != nil {
			if code, ok := s.cachedAnswer(d, req, eligible); ok {
				out[i].Enrollment, out[i].Err = d.decodeEnroll(code)
				continue
			}
			p.st = s.Answers.Stamp(d.answers)
		}
		call := s.newEnrollCall(d, req, eligible)
		p.argv = call.evalsha()
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return out
	}
	// Errors are per command: read below.
	_, _ = s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for j := range ps {
			ps[j].cmd = pipe.Do(ctx, ps[j].argv...)
		}
		return nil
	})
	for _, p := range ps {
		code, err := p.cmd.Int64()
		switch {
		case err == nil && code != scripts.ReplyStale && code != scripts.ReplyNotFound:
			out[p.i].Enrollment, out[p.i].Err = p.d.decodeEnroll(code)
			if p.d.answers != nil {
				s.keepAnswer(p.d, reqs[p.i], p.st, p.eligible, code)
			}
		case err == nil, redis.HasErrorPrefix(err, "NOSCRIPT"):
			// Stale, gone or not loaded: the single path settles it.
			out[p.i].Enrollment, out[p.i].Err = s.Enroll(ctx, reqs[p.i])
		default:
			out[p.i].Err = storeError(err)
		}
	}
	return out
}
