package redisstore

import (
	"context"
	"encoding/hex"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

// RestoreBatch is how many members one call of the restore script writes:
// large enough to make a million members a few thousand round trips, small
// enough that one call holds Redis for about a millisecond.
const RestoreBatch = 500

// Restore puts an experiment and its members back into Redis after a loss
// (a flush, a failover to an empty replica), from what the warehouse kept:
// RestoreExperiment then RestoreMembers. Users keep their answers because the
// salt, the groups and the counters come back as they were. It returns how
// many members were written; the others were already present. Safe to rerun.
func (s *Store) Restore(ctx context.Context, e *assign.Experiment, members []assign.Member) (restored int, err error) {
	if _, err := s.RestoreExperiment(ctx, e); err != nil {
		return 0, err
	}
	return s.RestoreMembers(ctx, e.ID, members)
}

// RestoreExperiment recreates an experiment's configuration exactly as given
// (salt, status, probabilities, cap, winner, version, times, who) when Redis
// has none, with no member and zero counters; an existing configuration is
// left alone and created is false. The epoch t0 is CreatedAt's second, as
// creation sets it, so member times read back unchanged. The bucket count is
// BucketCount(MaxSampleSize), one generation sized for the cap (members may
// have to be written back up to it): a process that cached the
// layout from before the loss reads the new one at its next enrollment (the
// script checks the layout).
//
// Experiments in a layer are refused (EINVALID): their layer index and the
// layer's traffic split are not in the warehouse, so they cannot be rebuilt
// faithfully. Returns EINVALID, or ECONFLICT when the id exists in another
// layer.
func (s *Store) RestoreExperiment(ctx context.Context, e *assign.Experiment) (created bool, err error) {
	if err := validateRestore(e); err != nil {
		return false, err
	}
	// A definition cached before the loss must not outlive it.
	s.defs.Delete(e.ID)
	defer s.defs.Delete(e.ID)

	// The same reservation as CreateExperiment: an id is never under two prefixes.
	ok, err := s.client.HSetNX(ctx, s.keys.Layers(), e.ID, e.Layer).Result()
	if err != nil {
		return false, storeError(err)
	} else if !ok {
		layer, err := s.client.HGet(ctx, s.keys.Layers(), e.ID).Result()
		if err != nil {
			return false, storeError(err)
		} else if layer != e.Layer {
			return false, assign.Errorf(assign.ECONFLICT, "experiment %q exists in layer %q", e.ID, layer)
		}
	}
	prefix := s.keys.Prefix(e.ID, e.Layer)
	events := EventsKey(prefix)
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAddNX(ctx, s.keys.Experiments(), redis.Z{Member: e.ID})
		p.SAdd(ctx, s.keys.Streams(), events)
		return nil
	}); err != nil {
		return false, storeError(err)
	}
	c := *e
	c.Stats = nil
	event, err := experimentJSON(&c)
	if err != nil {
		return false, err
	}
	// The creation script: it also opens the stream with the exporter's
	// consumer group, without which new enrollments would never be exported.
	// Its config event repeats a version the warehouse has: a no-op there.
	// The same definition and t0 give the same fingerprint: a process that
	// cached the experiment from before the loss is refused only for its
	// layout, if that changed.
	fields, fp := configFields(&c, BucketCount(c.MaxSampleSize), c.CreatedAt.Unix())
	call := createCall{prefix: prefix, by: c.UpdatedBy, event: event, id: c.ID, channel: s.keys.ChangeChannel(),
		ownerBuckets: LayerOwnerBuckets(c.MaxSampleSize), fp: fp, fields: fields, overrides: overrideArgs(&c)}
	code, err := scripts.Create.Run(ctx, s.client, call.keys(), call.args()...).Int64()
	if err != nil {
		return false, storeError(err)
	}
	outcome, err := decodeCreate(code)
	if outcome == createCreated {
		s.changed(c.ID)
	}
	return outcome == createCreated, err
}

// validateRestore checks what a faithful restore needs beyond Validate.
func validateRestore(e *assign.Experiment) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if _, err := hex.DecodeString(e.Salt); err != nil || e.Salt == "" {
		return assign.Invalidf("salt", "experiment %q: a restore needs the experiment's salt (hex); the warehouse has none for it (exported before salts were recorded?)", e.ID)
	}
	if !e.Status.Valid() {
		return assign.Invalidf("status", "experiment %q: status must be running, paused or stopped", e.ID)
	}
	if e.Version < 1 {
		return assign.Invalidf("version", "experiment %q: version must be at least 1", e.ID)
	}
	if e.CreatedAt.IsZero() {
		return assign.Invalidf("created_at", "experiment %q: created_at is required", e.ID)
	}
	if e.Layer != "" {
		return assign.Invalidf("layer", "experiment %q is in layer %q: restoring layered experiments is not supported (their layer index and traffic split are not in the warehouse)", e.ID, e.Layer)
	}
	return nil
}

// RestoreMembers writes members of an existing experiment that Redis does not
// have, RestoreBatch per call of the restore script (scripts/restore.lua),
// each batch atomic: a member already present (in any bucket generation)
// keeps its group and is not counted again; a missing one goes to the newest
// generation; n and the group counters grow by the members written. No
// enrollment event is written (the warehouse has them). Members of another
// experiment are refused. Returns how many were written; ENOTFOUND, EINVALID
// for an unknown group.
func (s *Store) RestoreMembers(ctx context.Context, experimentID string, members []assign.Member) (restored int, err error) {
	d, err := s.freshDefinition(ctx, experimentID) // t0 and the layout as Redis has them now
	if err != nil {
		return 0, err
	}
	for len(members) > 0 {
		batch := members[:min(RestoreBatch, len(members))]
		// A refused batch wrote nothing: withDefinition resends it, computed
		// from the definition read again.
		var n int64
		d, n, err = s.withDefinition(ctx, d, func(d *definition) (int64, error) { return s.restoreBatch(ctx, d, batch) })
		if err != nil {
			return restored, err
		} else if n == scripts.ReplyNotFound {
			return restored, notFound(experimentID)
		} else if n < 0 {
			return restored, assign.Errorf(assign.EINTERNAL, "experiment %q: unknown restore script reply %d", experimentID, n)
		}
		restored += int(n)
		members = members[len(batch):]
	}
	if restored > 0 {
		// Members came back: a refusal some process kept for one of them
		// while they were lost (sample_full, not_sampled) is void. Best
		// effort: the members are written, and a lost message costs what the
		// cache's bounds say.
		_ = s.client.Publish(ctx, s.keys.ChangeChannel(), experimentID).Err()
		s.changed(experimentID)
	}
	return restored, nil
}

// restoreBatch runs the restore script once for definition d and returns
// its reply: members written, or a negative code.
func (s *Store) restoreBatch(ctx context.Context, d *definition, batch []assign.Member) (int64, error) {
	groups := make(map[string]int, len(d.Groups))
	for i, g := range d.Groups {
		groups[g] = i
	}
	call := newRestoreCall(d, len(batch))
	for _, m := range batch {
		if m.ExperimentID != "" && m.ExperimentID != d.ID {
			return 0, assign.Invalidf("experiment_id", "member %q is of experiment %q, not %q", m.UserID, m.ExperimentID, d.ID)
		} else if m.UserID == "" || len(m.UserID) > assign.MaxUserIDLen {
			return 0, assign.Invalidf("user_id", "experiment %q: bad user id %q", d.ID, m.UserID)
		}
		g, ok := groups[m.Group]
		if !ok {
			return 0, assign.Invalidf("group_name", "experiment %q has no group %q (member %q)", d.ID, m.Group, m.UserID)
		}
		call.add(m.UserID, max(0, m.EnrolledAt.Unix()-d.epoch), g)
	}
	n, err := scripts.Restore.Run(ctx, s.client, call.keys(), call.args()...).Int64()
	if err != nil {
		return 0, storeError(err)
	}
	return n, nil
}
