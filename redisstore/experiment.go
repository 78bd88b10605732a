package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

// CreateExperiment stores a new experiment. It fills ID (a UUID when empty),
// Salt, Status (running when empty), Version, CreatedAt and UpdatedAt; a
// non-empty UpdatedBy is recorded as the creator. Returns EINVALID, or
// ECONFLICT when the id is taken.
func (s *Store) CreateExperiment(ctx context.Context, e *assign.Experiment) error {
	salt, err := assign.NewSalt()
	if err != nil {
		return err
	}
	// Millisecond precision: what the configuration hash keeps, so that
	// reading an experiment back gives the same times.
	now := s.Now().UTC().Truncate(time.Millisecond)
	if err := e.PrepareCreate(now, salt); err != nil {
		return err
	}

	// Reserve the id for this layer first: HSETNX is atomic, so one id can
	// never be created under two prefixes. Repeating a failed creation with
	// the same layer goes on; with another layer it is a conflict.
	ok, err := s.client.HSetNX(ctx, s.keys.Layers(), e.ID, e.Layer).Result()
	if err != nil {
		return storeError(err)
	} else if !ok {
		layer, err := s.client.HGet(ctx, s.keys.Layers(), e.ID).Result()
		if err != nil {
			return storeError(err)
		} else if layer != e.Layer {
			return conflict(e.ID)
		}
	}
	prefix := s.keys.Prefix(e.ID, e.Layer)
	events := EventsKey(prefix)
	// Both idempotent and harmless if the script below fails or finds a
	// conflict: the experiment listed is the one already there.
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAddNX(ctx, s.keys.Experiments(), redis.Z{Member: e.ID})
		p.SAdd(ctx, s.keys.Streams(), events)
		return nil
	}); err != nil {
		return storeError(err)
	}

	event, err := experimentJSON(e)
	if err != nil {
		return err
	}
	fields, fp := configFields(e, InitialBucketCount(e.MaxSampleSize), now.Unix())
	call := createCall{prefix: prefix, by: e.UpdatedBy, event: event, id: e.ID, channel: s.keys.ChangeChannel(),
		ownerBuckets: LayerOwnerBuckets(e.MaxSampleSize), fp: fp, fields: fields, overrides: overrideArgs(e)}
	if e.Layer != "" {
		call.layer = s.keys.Layer(e.Layer)
	}
	code, err := scripts.Create.Run(ctx, s.client, call.keys(), call.args()...).Int64()
	if err != nil {
		return storeError(err)
	}
	// The salt is new for each creation, so a configuration with this
	// fingerprint is this very creation, replayed: created.
	if outcome, err := decodeCreate(code); err != nil {
		return err
	} else if outcome == createExists {
		return conflict(e.ID)
	}
	s.changed(e.ID)
	return nil
}

// configFields returns the field/value pairs of a new configuration hash,
// its fingerprint included, and the fingerprint.
func configFields(e *assign.Experiment, buckets uint32, epoch int64) ([]any, string) {
	def, _ := json.Marshal(definitionJSON{
		ID:          e.ID,
		Groups:      e.GroupNames(),
		Eligibility: e.Eligibility,
		Layer:       e.Layer,
		Salt:        e.Salt,
		CreatedAt:   e.CreatedAt,
	})
	fp := fingerprint(string(def), epoch)
	f := []any{
		FieldDefinition, string(def),
		FieldFingerprint, fp,
		FieldBuckets, strconv.FormatUint(uint64(buckets), 10),
		FieldEpoch, strconv.FormatInt(epoch, 10),
		FieldEnrolled, "0",
	}
	f = append(f, mutableFields(e)...)
	for i, g := range e.Groups {
		n := strconv.Itoa(i)
		f = append(f, FieldGroupName+n, g.Name, FieldGroupCount+n, "0")
	}
	return f, fp
}

// mutableFields returns the field/value pairs of what an update may change.
func mutableFields(e *assign.Experiment) []any {
	probs := make([]float64, len(e.Groups))
	for i, g := range e.Groups {
		probs[i] = g.Probability
	}
	return []any{
		FieldStatus, string(e.Status),
		FieldMax, strconv.FormatInt(e.MaxSampleSize, 10),
		FieldSampling, formatFloat(e.SamplingProbability),
		FieldProbs, formatFloats(probs),
		FieldCumulative, formatFloats(assign.CumulativeProbabilities(e.Groups)),
		FieldWinner, strconv.Itoa(e.GroupIndex(e.Winner)), // -1 when empty
		FieldVersion, strconv.FormatInt(e.Version, 10),
		FieldUpdatedAt, strconv.FormatInt(e.UpdatedAt.UnixMilli(), 10),
		FieldUpdatedBy, e.UpdatedBy,
		FieldStartAt, unixField(e.StartAt),
		FieldEndAt, unixField(e.EndAt),
	}
}

// unixField writes a schedule bound in unix seconds, "" for none (which
// clears it: the enrollment script reads "" as absent).
func unixField(t *time.Time) string {
	if t == nil {
		return ""
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// parseUnixField reads a schedule bound written by unixField.
func parseUnixField(v string) (*time.Time, bool) {
	if v == "" {
		return nil, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, false
	}
	t := time.Unix(n, 0).UTC()
	return &t, true
}

// experimentJSON is the body of a config event: the experiment without Stats.
func experimentJSON(e *assign.Experiment) (string, error) {
	c := *e
	c.Stats = nil
	c.EffectiveStatus = "" // of the moment of a read, not of the configuration
	b, err := json.Marshal(&c)
	if err != nil {
		return "", assign.Errorf(assign.EINTERNAL, "experiment json: %v", err)
	}
	return string(b), nil
}

// FindExperimentByID returns an experiment with its Stats. Returns ENOTFOUND.
func (s *Store) FindExperimentByID(ctx context.Context, id string) (*assign.Experiment, error) {
	e, _, _, err := s.findExperiment(ctx, id)
	return e, err
}

// redisTime returns the time of Redis's clock, the one the enrollment script
// decides schedules with: reads show the effective status it would give.
// On a cluster, some node's clock.
func (s *Store) redisTime(ctx context.Context) (time.Time, error) {
	t, err := s.client.Time(ctx).Result()
	if err != nil {
		return time.Time{}, storeError(err)
	}
	return t, nil
}

// findExperiment returns an experiment with its Stats and EffectiveStatus,
// the definition it was read with (for its fingerprint), and Redis's time
// of the read. Returns ENOTFOUND.
func (s *Store) findExperiment(ctx context.Context, id string) (*assign.Experiment, *definition, time.Time, error) {
	if assign.ValidateID(id) != nil {
		return nil, nil, time.Time{}, notFound(id)
	}
	prefix, err := s.prefix(ctx, id)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	// Both keys share the experiment's slot: one pipeline, one round trip.
	var cfg, ovr *redis.MapStringStringCmd
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		cfg = p.HGetAll(ctx, ConfigKey(prefix))
		ovr = p.HGetAll(ctx, OverridesKey(prefix))
		return nil
	}); err != nil {
		return nil, nil, time.Time{}, storeError(err)
	}
	e, d, err := s.parseExperiment(id, cfg.Val())
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	if e.Overrides, err = d.parseOverrides(ovr.Val()); err != nil {
		return nil, nil, time.Time{}, err
	}
	now, err := s.redisTime(ctx)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	e.EffectiveStatus = e.EffectiveStatusAt(now)
	s.healSoon(id, e.Layer)
	return e, d, now, nil
}

// FindExperiments returns a page of experiments ordered by id, with their
// Stats, and the id to pass as After for the next page ("" on the last).
// Three round trips whatever the page size. An experiment whose stored
// configuration cannot be read (corrupt: a bad field, a key of another type)
// is listed with only its ID and Problem, and the others as usual: one bad
// hash does not hide the rest.
func (s *Store) FindExperiments(ctx context.Context, filter assign.ExperimentFilter) ([]*assign.Experiment, string, error) {
	limit := filter.Limit
	if limit <= 0 {
		limit = assign.DefaultPageSize
	} else if limit > assign.MaxPageSize {
		limit = assign.MaxPageSize
	}
	start := "-"
	if filter.After != "" {
		start = "(" + filter.After
	}
	// One more than the page tells whether another page follows.
	ids, err := s.client.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: s.keys.Experiments(), Start: start, Stop: "+", ByLex: true, Count: int64(limit + 1),
	}).Result()
	if err != nil {
		return nil, "", storeError(err)
	}
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	if len(ids) == 0 {
		return []*assign.Experiment{}, "", nil
	}
	layers, err := s.client.HMGet(ctx, s.keys.Layers(), ids...).Result()
	if err != nil {
		return nil, "", storeError(err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, ConfigKey(s.keys.Prefix(id, str(layers[i]))))
		}
		return nil
	}); err != nil && !allReplyErrors(cmds) {
		return nil, "", storeError(err)
	}
	now, err := s.redisTime(ctx)
	if err != nil {
		return nil, "", err
	}
	list := make([]*assign.Experiment, 0, len(ids))
	for i, id := range ids {
		var e *assign.Experiment
		err := cmds[i].Err()
		if err == nil {
			e, _, err = s.parseExperiment(id, cmds[i].Val())
		}
		if assign.ErrorCode(err) == assign.ENOTFOUND {
			continue // an id whose creation failed half-way
		} else if err != nil {
			e = &assign.Experiment{ID: id, Problem: "its stored configuration cannot be read: " + problemText(err)}
		} else {
			e.EffectiveStatus = e.EffectiveStatusAt(now)
		}
		list = append(list, e)
	}
	return list, next, nil
}

// allReplyErrors reports whether every failed command of a pipeline failed
// with an error Redis answered for that command alone (WRONGTYPE: a key of
// another type), not with one of the connection (those fail the listing).
func allReplyErrors(cmds []*redis.MapStringStringCmd) bool {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !isReplyError(err) {
			return false
		}
	}
	return true
}

// isReplyError reports an error reply of Redis to one command, other than
// the transient ones (storeError makes those EUNAVAILABLE).
func isReplyError(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !unavailable(err)
}

// problemText describes why a configuration cannot be read.
func problemText(err error) string {
	if assign.ErrorCode(err) == assign.EINTERNAL && isReplyError(err) {
		return err.Error()
	}
	return assign.ErrorMessage(err)
}

// parseExperiment builds an experiment from its configuration hash, and
// returns the definition read with it.
func (s *Store) parseExperiment(id string, m map[string]string) (*assign.Experiment, *definition, error) {
	e, d, err := s.parseConfig(id, m)
	if err != nil {
		return nil, nil, err
	}
	// Reads warm the enrollment cache for free. A cached layout is left as
	// it is: this read may be older than it, and the enrollment script
	// corrects a stale one anyway.
	s.defs.LoadOrStore(id, d)
	return e, d, nil
}

func (s *Store) parseConfig(id string, m map[string]string) (*assign.Experiment, *definition, error) {
	if len(m) == 0 {
		return nil, nil, notFound(id)
	}
	d, err := s.parseDefinition(id, m[FieldDefinition], m[FieldBuckets], m[FieldGenerations], m[FieldEpoch], m[FieldFingerprint], m[FieldOwnerBuckets])
	if err != nil {
		return nil, nil, err
	}
	bad := func(field string) error {
		return assign.Errorf(assign.EINTERNAL, "experiment %q: bad field %q: %q", id, field, m[field])
	}
	e := &assign.Experiment{
		ID:          d.ID,
		Eligibility: d.Eligibility,
		Layer:       d.Layer,
		Status:      assign.Status(m[FieldStatus]),
		Salt:        d.Salt,
		CreatedAt:   d.CreatedAt,
		UpdatedBy:   m[FieldUpdatedBy],
	}
	if e.MaxSampleSize, err = strconv.ParseInt(m[FieldMax], 10, 64); err != nil {
		return nil, nil, bad(FieldMax)
	}
	if e.SamplingProbability, err = strconv.ParseFloat(m[FieldSampling], 64); err != nil {
		return nil, nil, bad(FieldSampling)
	}
	probs, err := parseFloats(m[FieldProbs])
	if err != nil || len(probs) != len(d.Groups) {
		return nil, nil, bad(FieldProbs)
	}
	e.Groups = make([]assign.Group, len(d.Groups))
	for i, name := range d.Groups {
		e.Groups[i] = assign.Group{Name: name, Probability: probs[i]}
	}
	winner, err := strconv.Atoi(m[FieldWinner])
	if err != nil {
		return nil, nil, bad(FieldWinner)
	}
	e.Winner = d.group(winner)
	if e.Version, err = strconv.ParseInt(m[FieldVersion], 10, 64); err != nil {
		return nil, nil, bad(FieldVersion)
	}
	uat, err := strconv.ParseInt(m[FieldUpdatedAt], 10, 64)
	if err != nil {
		return nil, nil, bad(FieldUpdatedAt)
	}
	e.UpdatedAt = time.UnixMilli(uat).UTC()
	var ok bool
	if e.StartAt, ok = parseUnixField(m[FieldStartAt]); !ok {
		return nil, nil, bad(FieldStartAt)
	}
	if e.EndAt, ok = parseUnixField(m[FieldEndAt]); !ok {
		return nil, nil, bad(FieldEndAt)
	}

	st := &assign.ExperimentStats{PerGroup: make(map[string]int64, len(d.Groups))}
	if st.Enrolled, err = strconv.ParseInt(m[FieldEnrolled], 10, 64); err != nil {
		return nil, nil, bad(FieldEnrolled)
	}
	st.Remaining = max(0, e.MaxSampleSize-st.Enrolled)
	for i, name := range d.Groups {
		f := FieldGroupCount + strconv.Itoa(i)
		if st.PerGroup[name], err = strconv.ParseInt(m[f], 10, 64); err != nil {
			return nil, nil, bad(f)
		}
	}
	e.Stats = st
	return e, d, nil
}

// UpdateExperiment applies upd atomically, bumps Version and records who.
// The change is computed and validated in Go (assign.ApplyUpdate) from a
// fresh read, then written by a script only if the version and the
// definition are still the ones read (retried a few times under concurrent
// updates; an experiment lost and created again since the read starts at
// version 1 too, and its fingerprint tells it apart). Members keep their
// group. Returns ENOTFOUND, EINVALID, or ECONFLICT when concurrent updates
// keep winning.
func (s *Store) UpdateExperiment(ctx context.Context, id string, upd assign.ExperimentUpdate, who string) (*assign.Experiment, error) {
	for range 10 {
		cur, d, redisNow, err := s.findExperiment(ctx, id)
		if err != nil {
			return nil, err
		}
		next, err := assign.ApplyUpdate(cur, upd, who, s.Now().UTC().Truncate(time.Millisecond))
		if err != nil {
			return nil, err
		}
		next.EffectiveStatus = next.EffectiveStatusAt(redisNow)
		event, err := experimentJSON(next)
		if err != nil {
			return nil, err
		}
		call := updateCall{prefix: s.keys.Prefix(next.ID, next.Layer), version: cur.Version, fp: d.fp, id: next.ID, channel: s.keys.ChangeChannel(),
			by: who, event: event, fields: mutableFields(next), overrides: overrideChanges(next, upd)}
		if next.Layer != "" {
			call.layer = s.keys.Layer(next.Layer)
		}
		code, err := scripts.Update.Run(ctx, s.client, call.keys(), call.args()...).Int64()
		if err != nil {
			return nil, storeError(err)
		}
		switch outcome, err := decodeUpdate(code); {
		case err != nil:
			return nil, err
		case outcome == updateApplied:
			s.noteChange(ctx, call.prefix) // wakes the exporter for a quiet stream
			s.changed(id)
			return next, nil
		case outcome == updateNotFound:
			return nil, notFound(id)
		}
		// The version or the definition moved under us: read again.
	}
	return nil, assign.Errorf(assign.ECONFLICT, "experiment %q is being changed concurrently; try again", id)
}

func conflict(id string) error {
	return assign.Errorf(assign.ECONFLICT, "experiment %q already exists", id)
}

// formatFloat writes f in the shortest form that parses back to exactly f,
// in Go and in Lua (tonumber) alike.
// formatFloat writes the shortest decimal that reads back as exactly f, in
// fixed notation: gopher-lua (miniredis) cannot parse exponents like "5e-05",
// which a draw below 1e-4 would otherwise produce.
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func formatFloats(fs []float64) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(formatFloat(f))
	}
	return b.String()
}

func parseFloats(s string) ([]float64, error) {
	parts := strings.Split(s, ",")
	fs := make([]float64, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, err
		}
		fs[i] = f
	}
	return fs, nil
}
