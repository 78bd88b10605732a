package exporter

import (
	"context"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/redisstore"
)

// flush writes the batch, retrying until the warehouse commits or ctx ends,
// then acknowledges and trims. If ctx ends first the entries stay pending
// in Redis, to be read again: nothing is dropped.
func (e *Exporter) flush(ctx context.Context, b *batch) error {
	if b.n == 0 {
		return nil
	}
	if len(b.enrollments) > 0 || len(b.experiments) > 0 {
		var start, end = e.Now(), e.Now()
		err := e.retry(ctx, "write batch", func(ctx context.Context) error {
			start = e.Now()
			err := e.Sink.WriteBatch(ctx, b.enrollments, b.experiments)
			end = e.Now()
			return err
		})
		if err != nil {
			return err
		}
		e.mu.Lock()
		e.stats.Rows += uint64(len(b.enrollments))
		e.stats.Experiments += uint64(len(b.experiments))
		e.stats.Batches++
		e.stats.LastBatch = end.Sub(start)
		e.stats.LastBatchAt = end
		e.mu.Unlock()
		if e.OnBatch != nil {
			e.OnBatch(len(b.enrollments), end.Sub(start))
		}
	}
	e.mu.Lock()
	e.stats.Skipped += b.skipped
	e.mu.Unlock()
	if e.afterCommit != nil {
		if err := e.afterCommit(); err != nil {
			return errStopped(err)
		}
	}
	e.ackAndTrim(ctx, b)
	b.reset()
	return nil
}

// ackAndTrim acknowledges the batch's entries, then trims each stream below
// its oldest entry not yet acknowledged. A failure here loses nothing: the
// entries stay pending and are claimed again after ClaimIdle, and written
// again, which the sink ignores.
func (e *Exporter) ackAndTrim(ctx context.Context, b *batch) {
	streams := make([]string, 0, len(b.acks))
	groups := make([]*redis.XInfoGroupsCmd, 0, len(b.acks))
	pend := make([]*redis.XPendingCmd, 0, len(b.acks))
	_, err := e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for s, ids := range b.acks {
			p.XAck(ctx, s, redisstore.ConsumerGroup, ids...)
			streams = append(streams, s)
			// The group's last delivered id is read before the pending
			// list: an entry delivered in between is above that id, so it
			// is never trimmed even though the list missed it.
			groups = append(groups, p.XInfoGroups(ctx, s))
			pend = append(pend, p.XPending(ctx, s, redisstore.ConsumerGroup))
		}
		return nil
	})
	if err != nil {
		e.logRedis(ctx, "ack", err)
		return
	}
	_, err = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range streams {
			// Every entry up to the last delivered one was delivered
			// (delivery follows id order), so below it only those still
			// pending must stay; entries above it are not read yet.
			last := ""
			for _, g := range groups[i].Val() {
				if g.Name == redisstore.ConsumerGroup {
					last = g.LastDeliveredID
				}
			}
			if last == "" {
				continue
			}
			minID := nextID(last)
			if pe := pend[i].Val(); pe != nil && pe.Count > 0 && lessID(pe.Lower, minID) {
				minID = pe.Lower
			}
			p.XTrimMinID(ctx, s, minID)
		}
		return nil
	})
	if err != nil {
		e.logRedis(ctx, "trim", err)
	}
}

// parseID splits a stream entry id "ms-seq".
func parseID(id string) (ms, seq uint64) {
	a, b, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(a, 10, 64)
	seq, _ = strconv.ParseUint(b, 10, 64)
	return ms, seq
}

func lessID(a, b string) bool {
	am, as := parseID(a)
	bm, bs := parseID(b)
	return am < bm || (am == bm && as < bs)
}

// nextID returns the smallest id above id.
func nextID(id string) string {
	ms, seq := parseID(id)
	if seq == ^uint64(0) {
		return strconv.FormatUint(ms+1, 10) + "-0"
	}
	return strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq+1, 10)
}
