package redisstore

import (
	"context"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/answercache"
	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

// MaxUserIDLen is the longest user id accepted, in bytes: the domain's
// (assign.ValidateUserID holds the rule).
const MaxUserIDLen = assign.MaxUserIDLen

// Enroll returns the user's existing group, or decides and records a new
// enrollment, in one call of the enrollment script (scripts/enroll.lua).
// The immutable definition comes from the in-process cache; eligibility is
// checked here and passed to the script, which still answers an existing
// member with their group when today's claims no longer qualify (stickiness).
// The platform recorded is the token's platform claim, else the request's
// (assign.EnrollRequest.EffectivePlatform).
// Returns EINVALID for a user id assign.ValidateUserID refuses (field
// "sub"), a claim the rules read that is not text (field: the claim's
// name) or a platform that is none of the platforms (field "platform"),
// before anything is written; ENOTFOUND, EUNAVAILABLE when Redis does
// not answer in time.
func (s *Store) Enroll(ctx context.Context, req assign.EnrollRequest) (*assign.Enrollment, error) {
	if err := assign.ValidateUserID(req.UserID); err != nil {
		return nil, err
	} else if err := assign.ValidatePlatform(req.Platform); err != nil {
		return nil, err
	}
	d, err := s.definition(ctx, req.ExperimentID)
	if err != nil {
		return nil, err
	}
	eligible, err := d.eligible(req)
	if err != nil {
		return nil, err
	}
	// A returning user's kept answer (answers.go), for the same claims.
	var st answercache.Stamp
	cached := d.answers
	if cached != nil {
		if code, ok := s.cachedAnswer(d, req, eligible); ok {
			return d.decodeEnroll(code)
		}
		st = s.Answers.Stamp(cached) // before the question: a change after it voids the answer
	}
	first := d
	run := func(d *definition) (int64, error) {
		e := eligible
		if d != first { // read again: its rules may read other claims
			if e, err = d.eligible(req); err != nil {
				return 0, err
			}
		}
		call := s.newEnrollCall(d, req, e)
		return s.runEnroll(ctx, &call)
	}
	d, code, err := s.withDefinition(ctx, d, run)
	if err != nil {
		return nil, err
	}
	if cached != nil {
		// Under another definition (created again), st is void: not kept.
		s.keepAnswer(d, req, st, eligible, code)
	}
	if code == scripts.ReplyNotFound {
		s.defs.Delete(d.ID) // the configuration is gone: forget it
		// Or it was created again under another prefix (in another layer)
		// than the definition used: read afresh once.
		if fresh, err := s.freshDefinition(ctx, d.ID); err == nil && fresh.prefix != d.prefix {
			if d, code, err = s.withDefinition(ctx, fresh, run); err != nil {
				return nil, err
			}
		}
	}
	return d.decodeEnroll(code)
}

// runEnroll calls the enrollment script by SHA, through the pipeline when
// there is one, falling back to EVAL (which loads the script) on NOSCRIPT.
func (s *Store) runEnroll(ctx context.Context, call *enrollCall) (int64, error) {
	if s.MinReplicas > 0 {
		keys, args := call.keysAndArgs()
		return s.runEnrollReplicated(ctx, keys, args...)
	}
	if s.Pipeline == nil {
		keys, args := call.keysAndArgs()
		return scripts.Enroll.Run(ctx, s.Scripter, keys, args...).Int64()
	}
	if err := ctx.Err(); err != nil {
		return 0, err // past the deadline already: do not queue a call nobody waits for
	}
	cmd := redis.NewCmd(ctx, call.evalsha()...)
	if err := s.Pipeline.Submit(ctx, cmd).WaitContext(ctx); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err() // abandoned at the deadline; see Pipeline
		} else if redis.HasErrorPrefix(err, "NOSCRIPT") {
			keys, args := call.keysAndArgs()
			return scripts.Enroll.Run(ctx, s.client, keys, args...).Int64()
		}
		return 0, err
	}
	return cmd.Int64()
}

// MemberGroup returns the group recorded for a user, read-only: not the
// rolled-out winner, and nothing is decided. ok is false for a non-member.
// For tests and verification tools: it reads the bucket layout afresh (a
// cached one could miss members of a newer generation). Returns ENOTFOUND.
func (s *Store) MemberGroup(ctx context.Context, experimentID, userID string) (group string, ok bool, err error) {
	d, err := s.freshDefinition(ctx, experimentID)
	if err != nil {
		return "", false, err
	}
	draw := assign.NewDraw(d.Salt, d.ID, userID)
	keys := d.olderBucketKeys([]string{d.bucketKey(draw.Bucket)}, draw.Bucket)
	cmds := make([]*redis.StringCmd, len(keys))
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HGet(ctx, k, EncodeUserID(userID))
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return "", false, storeError(err)
	}
	v := ""
	for _, c := range cmds {
		if err := c.Err(); err == nil {
			v = c.Val()
			break
		} else if !errors.Is(err, redis.Nil) {
			return "", false, storeError(err)
		}
	}
	if v == "" {
		return "", false, nil
	}
	_, g, err := d.parseMember(v)
	if err != nil {
		return "", false, err
	}
	return g, true, nil
}

// parseMember decodes a member value (memberValue): the enrollment time in
// unix seconds and the group.
func (d *definition) parseMember(v string) (enrolledSec int64, group string, err error) {
	n, err := strconv.ParseInt(v, 10, 64)
	rel, g, ok := splitMemberValue(n)
	if ok && err == nil {
		group = d.group(g)
	}
	if err != nil || !ok || group == "" {
		return 0, "", assign.Errorf(assign.EINTERNAL, "experiment %q: bad member value %q", d.ID, v)
	}
	return d.epoch + rel, group, nil
}
