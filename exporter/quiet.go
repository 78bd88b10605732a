package exporter

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/redisstore"
)

// Quiet streams. Only a running experiment without a winner appends
// enrollment events; any other (stopped, paused, rolled out) appends only
// configuration events, which only an update writes. Once such a stream is
// read to its end it is quiet: left out of every read, so that thousands of
// finished experiments cost the exporter nothing per poll. A stream wakes
// when its update records it in the changes set (Keys.Changes(), checked
// every FlushInterval), and every SweepInterval all quiet streams are read
// once anyway, for an update whose process died between its event and that
// record.

// DefaultSweepInterval is how often quiet streams are read anyway.
const DefaultSweepInterval = time.Minute

// changesSlack widens the look-back into the changes set, whose scores are
// other processes' clocks.
const changesSlack = 30 * time.Second

// takesEnrollments reports whether an experiment in this state can append
// enrollment events (the enrollment script's rule).
func takesEnrollments(status assign.Status, winner string) bool {
	return status == assign.StatusRunning && winner == ""
}

// learn reads whether the experiments of streams take enrollments, for
// streams not seen before, in one pipeline. A stream whose configuration
// cannot be read counts as taking enrollments: it stays read.
func (e *Exporter) learn(ctx context.Context, streams []string) {
	cmds := make([]*redis.SliceCmd, len(streams))
	_, _ = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range streams {
			if k := redisstore.ConfigKeyOfEvents(s); k != "" {
				cmds[i] = p.HMGet(ctx, k, redisstore.FieldStatus, redisstore.FieldWinner)
			}
		}
		return nil
	})
	for i, s := range streams {
		active := true
		if c := cmds[i]; c != nil && c.Err() == nil {
			v := c.Val()
			status, _ := v[0].(string)
			winner, _ := v[1].(string)
			if status != "" {
				w, err := strconv.Atoi(winner)
				active = takesEnrollments(assign.Status(status), "") && (err != nil || w < 0)
			}
		}
		e.active[s] = active
	}
}

// addTracked adds the entries of one stream to the batch and learns from
// its configuration events whether the experiment takes enrollments.
func (e *Exporter) addTracked(b *batch, stream string, msgs []redis.XMessage) {
	before := len(b.experiments)
	e.add(b, stream, msgs)
	for _, r := range b.experiments[before:] {
		e.active[stream] = takesEnrollments(r.Status, r.Winner)
	}
}

// settle marks quiet every stream of read that was read to its end (fewer
// entries than count came back) and takes no enrollments, and says whether
// any did.
//
// Config events may go to another exporter of the group, so before a stream
// turns quiet its experiment's state is read again from Redis (one pipeline
// for the candidates of this read; a stream pays it once, as it turns quiet).
func (e *Exporter) settle(ctx context.Context, read []string, got map[string]int, count int64) bool {
	var candidates []string
	for _, s := range read {
		if active, ok := e.active[s]; ok && !active && int64(got[s]) < count && !e.quiet[s] {
			candidates = append(candidates, s)
		}
	}
	if len(candidates) == 0 {
		return false
	}
	e.learn(ctx, candidates)
	changed := false
	for _, s := range candidates {
		if !e.active[s] {
			e.quiet[s] = true
			changed = true
		}
	}
	return changed
}

// wakeChanged wakes the quiet streams recorded in the changes set since the
// last look (every FlushInterval), and all of them every SweepInterval. The
// first look only notes what is there: every stream is read at the start.
// It reports whether any woke.
func (e *Exporter) wakeChanged(ctx context.Context) bool {
	now := e.Now()
	woke := false
	if e.lastSweep.IsZero() {
		e.lastSweep = now
	} else if now.Sub(e.lastSweep) >= e.SweepInterval {
		woke = len(e.quiet) > 0
		clear(e.quiet)
		e.lastSweep = now
		old := now.Add(-redisstore.ChangesKeep).UnixMilli()
		for s, at := range e.changeSeen {
			if at < float64(old) {
				delete(e.changeSeen, s)
			}
		}
		// Housekeeping of the changes set, at the same pace.
		_ = e.Client.ZRemRangeByScore(ctx, e.Keys.Changes(), "-inf", strconv.FormatInt(old, 10)).Err()
	}
	if !e.lastChanges.IsZero() && now.Sub(e.lastChanges) < e.FlushInterval {
		return woke
	}
	since := "-inf"
	if !e.lastChanges.IsZero() {
		since = strconv.FormatInt(e.lastChanges.Add(-changesSlack).UnixMilli(), 10)
	}
	changed, err := e.Client.ZRangeByScoreWithScores(ctx, e.Keys.Changes(), &redis.ZRangeBy{Min: since, Max: "+inf"}).Result()
	if err != nil {
		return woke // looked at again next time
	}
	first := e.lastChanges.IsZero()
	for _, z := range changed {
		s, _ := z.Member.(string)
		// Each change wakes its stream once, though the slack shows it to
		// several looks (a score that moved, up or down with another
		// process's clock, is a new change).
		if z.Score == e.changeSeen[s] {
			continue
		}
		e.changeSeen[s] = z.Score
		if !first && e.quiet[s] {
			delete(e.quiet, s)
			woke = true
		}
	}
	e.lastChanges = now
	return woke
}

// readSet rebuilds the streams read (every known one but the quiet ones)
// and their groups.
func (e *Exporter) readSet() {
	e.streams = e.streams[:0]
	var quiet []string
	for _, s := range e.all {
		if !e.quiet[s] {
			e.streams = append(e.streams, s)
		} else {
			quiet = append(quiet, s)
		}
	}
	e.regroup()
	e.mu.Lock()
	e.quietView = quiet
	e.mu.Unlock()
}

// Quiet returns the streams the exporter currently leaves out of its reads,
// sorted. Safe for concurrent use with Run.
func (e *Exporter) Quiet() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.quietView)
}
