package exporter

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
)

// flush writes the batch, retrying until the warehouse commits or ctx ends,
// then acknowledges and trims. If ctx ends first the entries stay pending
// in Redis, to be read again: nothing is dropped.
//
// A batch the warehouse refuses because of its data (warehouse.IsRefused)
// is not retried as it is: it is written in halves, recursively, until each
// refused row stands alone; those rows become dead letters and every other
// row is written. The dead letters (with the malformed and invalid entries
// add set aside) are written to the warehouse's dead_letters table before
// the acknowledgement, so a crash at any point loses nothing: the replay
// writes the same rows and letters again, which both tables ignore.
func (e *Exporter) flush(ctx context.Context, b *batch) error {
	if b.n == 0 {
		return nil
	}
	ndead := len(b.dead)
	if len(b.enrollments) > 0 || len(b.experiments) > 0 {
		w := &batchWrite{e: e, b: b}
		if err := w.write(ctx, 0, len(b.experiments)+len(b.enrollments)); err != nil {
			b.dead = b.dead[:ndead] // as before the write, should the batch be written again
			return err
		}
		if w.bisected {
			e.Logger.Warn("exporter: the warehouse refused rows of a batch; they are dead-lettered, the rest is written",
				"rows", len(b.experiments)+len(b.enrollments), "refused", len(b.dead)-ndead, "writes", w.writes)
		}
		e.mu.Lock()
		e.stats.Rows += uint64(len(b.enrollments) - w.deadEnrollments)
		e.stats.Experiments += uint64(len(b.experiments) - w.deadExperiments)
		e.stats.Batches++
		e.stats.LastBatch = w.took
		e.stats.LastBatchAt = w.end
		e.mu.Unlock()
		if e.OnBatch != nil {
			e.OnBatch(len(b.enrollments)-w.deadEnrollments, w.took)
		}
	}
	if len(b.dead) > 0 {
		if err := e.writeDeadLetters(ctx, b.dead); err != nil {
			return err
		}
	}
	if e.afterCommit != nil {
		if err := e.afterCommit(); err != nil {
			return errStopped(err)
		}
	}
	e.ackAndTrim(ctx, b)
	b.reset()
	return nil
}

// batchWrite is one flush's write of a batch's rows, by bisection when the
// warehouse refuses some. The rows are numbered experiments first, then
// enrollments, the order of one WriteBatch (a foreign key from enrollments
// to experiments would hold).
type batchWrite struct {
	e        *Exporter
	b        *batch
	bisected bool
	writes   int // WriteBatch calls that committed or were refused
	took     time.Duration
	end      time.Time

	deadEnrollments, deadExperiments int
}

// write writes rows [lo, hi), retrying transient failures with backoff. A
// refusal splits the range in two, each written on its own (the first half
// first, so the first write of a user still wins); a single row refused is
// dead-lettered. k refused rows among n cost about 2k·log2(n/k) writes more,
// and no retry; a batch with none costs one write, as before.
func (w *batchWrite) write(ctx context.Context, lo, hi int) error {
	nx := len(w.b.experiments)
	exps := w.b.experiments[min(lo, nx):min(hi, nx)]
	enr := w.b.enrollments[max(lo-nx, 0):max(hi-nx, 0)]
	var refused error
	var start time.Time
	err := w.e.retry(ctx, "write batch", func(ctx context.Context) error {
		start = w.e.Now()
		err := w.e.Sink.WriteBatch(ctx, enr, exps)
		if warehouse.IsRefused(err) {
			refused = err
			return nil // not retried: the same rows would be refused again
		}
		refused = nil
		return err
	})
	if err != nil {
		return err
	}
	w.writes++
	now := w.e.Now()
	if !w.bisected {
		w.took = now.Sub(start)
	} else {
		w.took += now.Sub(start)
	}
	w.end = now
	if refused == nil {
		return nil
	}
	if !w.bisected {
		w.bisected = true
		w.e.Logger.Warn("exporter: the warehouse refused a batch; isolating the refused rows",
			"rows", hi-lo, "err", refused)
	}
	if hi-lo == 1 {
		if lo < nx {
			stream, id := w.b.entry(true, lo)
			w.b.dead = append(w.b.dead, w.e.deadLetter(stream, id, experimentFields(&w.b.experiments[lo]), warehouse.ReasonRefused, refused))
			w.deadExperiments++
		} else {
			stream, id := w.b.entry(false, lo-nx)
			w.b.dead = append(w.b.dead, w.e.deadLetter(stream, id, enrollmentFields(&w.b.enrollments[lo-nx]), warehouse.ReasonRefused, refused))
			w.deadEnrollments++
		}
		return nil
	}
	mid := lo + (hi-lo)/2
	if err := w.write(ctx, lo, mid); err != nil {
		return err
	}
	return w.write(ctx, mid, hi)
}

// writeDeadLetters stores the batch's dead letters in the warehouse,
// retrying until it commits or ctx ends, and counts them. A sink that keeps
// no dead letters (not a warehouse.DeadLetterWriter) gets them in the log
// only, at error level.
func (e *Exporter) writeDeadLetters(ctx context.Context, dead []warehouse.DeadLetter) error {
	dw, kept := e.Sink.(warehouse.DeadLetterWriter)
	if kept {
		if err := e.retry(ctx, "write dead letters", func(ctx context.Context) error {
			return dw.WriteDeadLetters(ctx, dead)
		}); err != nil {
			return err
		}
	}
	for _, d := range dead {
		if kept { // the fields (user ids) are in the table, not in the log
			e.Logger.Error("exporter: stream entry dead-lettered", "stream", d.Stream, "id", d.EntryID,
				"reason", d.Reason, "err", d.Error)
		} else {
			e.Logger.Error("exporter: stream entry dropped (this warehouse keeps no dead letters)", "stream", d.Stream,
				"id", d.EntryID, "reason", d.Reason, "err", d.Error, "fields", d.Fields)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range dead {
		e.stats.DeadLetters++
		switch d.Reason {
		case warehouse.ReasonMalformed:
			e.stats.Skipped++
		case warehouse.ReasonInvalidText:
			e.stats.InvalidText++
		case warehouse.ReasonRefused:
			e.stats.Refused++
		}
	}
	last := dead[len(dead)-1]
	e.stats.LastDeadLetter = DeadLetterInfo{Stream: last.Stream, EntryID: last.EntryID, Reason: last.Reason, Error: last.Error, At: last.SeenAt}
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
