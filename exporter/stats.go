package exporter

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/redisstore"
)

// Stats are the exporter's counters since it started.
type Stats struct {
	Rows        uint64        // enrollment rows written (repeats the table ignored included)
	Experiments uint64        // experiment configuration rows written
	Batches     uint64        // batches committed
	Failures    uint64        // failed warehouse attempts, each retried
	LastBatch   time.Duration // duration of the last committed write
	LastBatchAt time.Time     // when it committed

	// DeadLetters is the stream entries acknowledged without a row and
	// written to the warehouse's dead_letters table instead, for every
	// reason: Skipped + InvalidText + Refused.
	DeadLetters uint64
	Skipped     uint64 // malformed entries (warehouse.ReasonMalformed)
	InvalidText uint64 // rows with a NUL or invalid UTF-8 (warehouse.ReasonInvalidText)
	Refused     uint64 // rows the warehouse refused (warehouse.ReasonRefused)
	// LastDeadLetter is the latest of them (zero when none).
	LastDeadLetter DeadLetterInfo
}

// DeadLetterInfo names a dead-lettered stream entry and why.
type DeadLetterInfo struct {
	Stream, EntryID, Reason, Error string
	At                             time.Time
}

// Stats returns a copy of the counters. Safe for concurrent use with Run.
func (e *Exporter) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// StreamBacklog is what one stream holds for the exporter.
type StreamBacklog struct {
	Stream string
	// Length is the entries in the stream: not yet exported, or exported
	// but above an older entry still pending (trimming keeps those).
	Length int64
	// Pending is the entries read by some exporter and not acknowledged.
	Pending int64
	// OldestPendingAge is the age of the oldest entry not yet acknowledged,
	// read or not (0 when the exporter is caught up).
	OldestPendingAge time.Duration
}

// Backlog sums the backlog of every stream.
type Backlog struct {
	Streams          []StreamBacklog
	Length           int64
	Pending          int64
	OldestPendingAge time.Duration // the largest over the streams
}

// Backlog reads the backlog of every stream in the stream set from Redis.
// It needs only Client and Keys, so a process that does not run the
// exporter (a metrics endpoint, a CLI) can call it on a zero Exporter with
// those two fields set.
func (e *Exporter) Backlog(ctx context.Context) (Backlog, error) {
	var out Backlog
	streams, err := e.Client.SMembers(ctx, e.Keys.Streams()).Result()
	if err != nil {
		return out, err
	}
	if len(streams) == 0 {
		return out, nil
	}
	lens := make([]*redis.IntCmd, len(streams))
	pends := make([]*redis.XPendingCmd, len(streams))
	groups := make([]*redis.XInfoGroupsCmd, len(streams))
	_, _ = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range streams {
			lens[i] = p.XLen(ctx, s)
			pends[i] = p.XPending(ctx, s, redisstore.ConsumerGroup)
			groups[i] = p.XInfoGroups(ctx, s)
		}
		return nil
	})
	// The oldest entry never delivered is the first after the group's
	// last delivered id.
	firsts := make([]*redis.XMessageSliceCmd, len(streams))
	_, _ = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range streams {
			last := "0-0"
			for _, g := range groups[i].Val() {
				if g.Name == redisstore.ConsumerGroup {
					last = g.LastDeliveredID
				}
			}
			firsts[i] = p.XRangeN(ctx, s, "("+last, "+", 1)
		}
		return nil
	})
	// Not e.Now: Run may be filling in its defaults concurrently, and the
	// entry ids are wall-clock times anyway.
	now := time.Now()
	for i, s := range streams {
		if err := lens[i].Err(); err != nil {
			return out, err
		}
		sb := StreamBacklog{Stream: s, Length: lens[i].Val()}
		oldest := ""
		if pe, err := pends[i].Result(); err == nil && pe.Count > 0 {
			sb.Pending = pe.Count
			oldest = pe.Lower
		} else if err != nil && !isNoGroup(err) && !errors.Is(err, redis.Nil) {
			return out, err
		}
		if msgs := firsts[i].Val(); len(msgs) > 0 && (oldest == "" || lessID(msgs[0].ID, oldest)) {
			oldest = msgs[0].ID
		}
		if oldest != "" {
			ms, _ := parseID(oldest)
			sb.OldestPendingAge = max(now.Sub(time.UnixMilli(int64(ms))), 0)
		}
		out.Streams = append(out.Streams, sb)
		out.Length += sb.Length
		out.Pending += sb.Pending
		out.OldestPendingAge = max(out.OldestPendingAge, sb.OldestPendingAge)
	}
	return out, nil
}
