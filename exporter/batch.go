package exporter

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/warehouse"
)

// batch is what has been read and not yet acknowledged.
type batch struct {
	n           int                 // entries, including skipped ones
	first       time.Time           // when the first entry was read
	acks        map[string][]string // stream -> entry ids to acknowledge
	seen        map[string]struct{} // stream + id, against an entry read twice
	enrollments []warehouse.EnrollmentRow
	experiments []warehouse.ExperimentRow
	skipped     uint64 // malformed entries, acknowledged without a row
}

func newBatch() *batch {
	return &batch{acks: make(map[string][]string), seen: make(map[string]struct{})}
}

func (b *batch) full(size int) bool { return b.n >= size }

func (b *batch) due(now time.Time, interval time.Duration) bool {
	return b.n > 0 && now.Sub(b.first) >= interval
}

// add converts the entries of one stream into rows. Malformed entries, and
// entries deleted from the stream while pending (no fields), are only
// acknowledged: retrying them could never succeed.
func (e *Exporter) add(b *batch, stream string, msgs []redis.XMessage) {
	if len(msgs) == 0 {
		return
	}
	if b.n == 0 {
		b.first = e.Now()
	}
	for _, m := range msgs {
		key := stream + "\x00" + m.ID
		if _, ok := b.seen[key]; ok {
			continue
		}
		b.seen[key] = struct{}{}
		b.n++
		b.acks[stream] = append(b.acks[stream], m.ID)
		if len(m.Values) == 0 {
			continue
		}
		if err := parseEvent(e.Keys, stream, m.Values, &b.enrollments, &b.experiments); err != nil {
			b.skipped++
			e.Logger.Error("exporter: skipping malformed stream entry", "stream", stream, "id", m.ID, "err", err)
		}
	}
}

func (b *batch) reset() {
	b.n = 0
	b.first = time.Time{}
	clear(b.acks)
	clear(b.seen)
	b.enrollments = b.enrollments[:0]
	b.experiments = b.experiments[:0]
	b.skipped = 0
}
