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
	// runs say which stream entry each row comes from, for its dead
	// letter, at a few words per read rather than per row.
	runs []run
	// dead is the entries that cannot become rows (malformed, invalid
	// text), to be dead-lettered with the batch; flush adds the rows the
	// warehouse refuses.
	dead []warehouse.DeadLetter
}

// run is consecutive rows of one kind that come from consecutive entries of
// acks[stream]: row+i from acks[stream][ack+i], for i < n.
type run struct {
	stream string
	exp    bool // rows of experiments, else of enrollments
	ack    int
	row    int
	n      int
}

// note records that row (of experiments when exp) comes from the entry at
// index ack of acks[stream].
func (b *batch) note(stream string, exp bool, row, ack int) {
	if k := len(b.runs) - 1; k >= 0 {
		r := &b.runs[k]
		if r.exp == exp && r.row+r.n == row && r.ack+r.n == ack && r.stream == stream {
			r.n++
			return
		}
	}
	b.runs = append(b.runs, run{stream: stream, exp: exp, ack: ack, row: row, n: 1})
}

// entry returns the stream and id of the entry row (of experiments when
// exp) comes from.
func (b *batch) entry(exp bool, row int) (stream, id string) {
	for _, r := range b.runs {
		if r.exp == exp && row >= r.row && row < r.row+r.n {
			return r.stream, b.acks[r.stream][r.ack+row-r.row]
		}
	}
	return "", "" // not reached: every row is noted
}

func newBatch() *batch {
	return &batch{acks: make(map[string][]string), seen: make(map[string]struct{})}
}

func (b *batch) full(size int) bool { return b.n >= size }

func (b *batch) due(now time.Time, interval time.Duration) bool {
	return b.n > 0 && now.Sub(b.first) >= interval
}

// add converts the entries of one stream into rows. Entries deleted from the
// stream while pending (no fields) are only acknowledged. Malformed entries,
// and rows holding text no warehouse takes (a NUL, invalid UTF-8: see
// warehouse.CheckEnrollment), are set aside as dead letters: retrying them
// could never succeed, and they must not hold up the batch.
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
		ne, nx := len(b.enrollments), len(b.experiments)
		if err := parseEvent(e.Keys, stream, m.Values, &b.enrollments, &b.experiments); err != nil {
			b.dead = append(b.dead, e.deadLetter(stream, m.ID, m.Values, warehouse.ReasonMalformed, err))
			continue
		}
		switch {
		case len(b.enrollments) > ne:
			if !e.noPrecheck {
				if err := warehouse.CheckEnrollment(&b.enrollments[ne]); err != nil {
					b.enrollments = b.enrollments[:ne]
					b.dead = append(b.dead, e.deadLetter(stream, m.ID, m.Values, warehouse.ReasonInvalidText, err))
					continue
				}
			}
			b.note(stream, false, ne, len(b.acks[stream])-1)
		case len(b.experiments) > nx:
			if !e.noPrecheck {
				if err := warehouse.CheckExperiment(&b.experiments[nx]); err != nil {
					b.experiments = b.experiments[:nx]
					b.dead = append(b.dead, e.deadLetter(stream, m.ID, m.Values, warehouse.ReasonInvalidText, err))
					continue
				}
			}
			b.note(stream, true, nx, len(b.acks[stream])-1)
		}
	}
}

// deadLetter returns the dead letter of a stream entry.
func (e *Exporter) deadLetter(stream, id string, fields map[string]any, reason string, err error) warehouse.DeadLetter {
	exp, _ := ExperimentID(e.Keys, stream)
	return warehouse.DeadLetter{
		Stream:       warehouse.Text(stream),
		EntryID:      warehouse.Text(id),
		ExperimentID: warehouse.Text(exp),
		Reason:       reason,
		Error:        warehouse.Text(err.Error()),
		Fields:       warehouse.EncodeFields(fields),
		SeenAt:       e.Now().UTC(),
	}
}

func (b *batch) reset() {
	b.n = 0
	b.first = time.Time{}
	clear(b.acks)
	clear(b.seen)
	b.enrollments = b.enrollments[:0]
	b.experiments = b.experiments[:0]
	clear(b.runs)
	b.runs = b.runs[:0]
	clear(b.dead)
	b.dead = b.dead[:0]
}
