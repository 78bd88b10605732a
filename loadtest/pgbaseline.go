package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/assign-dev/assign/assign"
)

// PGBaseline is the naive design the product's first sketch implies, kept as
// a yardstick: one PostgreSQL transaction per enrollment that locks the
// experiment's row (SELECT ... FOR UPDATE), looks the user up, counts the
// members, and inserts. The row lock makes the cap exact, at the price of
// serializing every new decision of an experiment behind one lock and
// several round trips.
//
// It makes the same decisions as the Redis store (the same keyed draws, the
// same group choice), in tables of its own schema, created by
// OpenPGBaseline and dropped by Close.
type PGBaseline struct {
	Schema string

	counter bool // keep a counter column instead of counting the members
	conns   chan *pgx.Conn
	all     []*pgx.Conn
	q       pgQueries
}

type pgQueries struct {
	lock, member, count, insert, bump string
}

// OpenPGBaseline connects conns connections to the PostgreSQL at url
// (loopback only) and creates a fresh schema with the baseline's tables.
// With counter set, the transaction reads and bumps a counter column of the
// locked row instead of running count(*) over the members: a kinder
// baseline, with the same guarantee.
func OpenPGBaseline(ctx context.Context, url string, conns int, counter bool) (*PGBaseline, error) {
	if _, err := CheckLoopbackURL(url, "postgres", "postgresql"); err != nil {
		return nil, err
	} else if conns < 1 {
		return nil, fmt.Errorf("loadtest: baseline needs at least one connection")
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	b := &PGBaseline{Schema: "assign_baseline_" + hex.EncodeToString(rnd[:]), counter: counter, conns: make(chan *pgx.Conn, conns)}
	s := pgx.Identifier{b.Schema}.Sanitize()
	b.q = pgQueries{
		lock:   `SELECT max_sample_size, sampling_probability, salt, groups, cum, enrolled FROM ` + s + `.experiments WHERE id = $1 FOR UPDATE`,
		member: `SELECT group_name FROM ` + s + `.members WHERE experiment_id = $1 AND user_id = $2`,
		count:  `SELECT count(*) FROM ` + s + `.members WHERE experiment_id = $1`,
		insert: `INSERT INTO ` + s + `.members (experiment_id, user_id, group_name) VALUES ($1, $2, $3)`,
		bump:   `UPDATE ` + s + `.experiments SET enrolled = enrolled + 1 WHERE id = $1`,
	}
	for i := 0; i < conns; i++ {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			b.closeConns()
			return nil, fmt.Errorf("loadtest: baseline: connect: %w", err)
		}
		b.all = append(b.all, c)
		b.conns <- c
	}
	ddl := []string{
		`CREATE SCHEMA ` + s,
		`CREATE TABLE ` + s + `.experiments (
			id text PRIMARY KEY,
			max_sample_size bigint NOT NULL,
			sampling_probability double precision NOT NULL,
			salt text NOT NULL,
			groups text[] NOT NULL,
			cum double precision[] NOT NULL,
			enrolled bigint NOT NULL DEFAULT 0)`,
		`CREATE TABLE ` + s + `.members (
			experiment_id text NOT NULL REFERENCES ` + s + `.experiments (id),
			user_id text NOT NULL,
			group_name text NOT NULL,
			enrolled_at timestamptz NOT NULL DEFAULT now(),
			PRIMARY KEY (experiment_id, user_id))`,
	}
	for _, q := range ddl {
		if _, err := b.all[0].Exec(ctx, q); err != nil {
			b.Close(ctx)
			return nil, fmt.Errorf("loadtest: baseline: %w", err)
		}
	}
	return b, nil
}

// Close drops the baseline's schema and closes its connections.
func (b *PGBaseline) Close(ctx context.Context) error {
	var err error
	if len(b.all) > 0 {
		_, err = b.all[0].Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{b.Schema}.Sanitize()+` CASCADE`)
	}
	b.closeConns()
	return err
}

func (b *PGBaseline) closeConns() {
	for _, c := range b.all {
		c.Close(context.Background())
	}
	b.all = nil
}

// CreateExperiment stores a running experiment with a fresh salt.
func (b *PGBaseline) CreateExperiment(ctx context.Context, spec ExperimentSpec) error {
	e := assign.Experiment{ID: spec.ID, MaxSampleSize: spec.MaxSampleSize, SamplingProbability: spec.SamplingProbability, Groups: spec.Groups}
	if err := e.Validate(); err != nil {
		return err
	}
	var salt [16]byte
	_, _ = rand.Read(salt[:])
	c := <-b.conns
	defer func() { b.conns <- c }()
	_, err := c.Exec(ctx, `INSERT INTO `+pgx.Identifier{b.Schema}.Sanitize()+`.experiments
		(id, max_sample_size, sampling_probability, salt, groups, cum) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ID, e.MaxSampleSize, e.SamplingProbability, hex.EncodeToString(salt[:]), e.GroupNames(), assign.CumulativeProbabilities(e.Groups))
	return err
}

// Enroll decides the enrollment of a user in one transaction: lock the
// experiment row, return the user's group if recorded, else draw, count,
// and insert.
func (b *PGBaseline) Enroll(ctx context.Context, experimentID, userID string) (_ *assign.Enrollment, err error) {
	c := <-b.conns
	defer func() { b.conns <- c }()
	tx, err := c.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.Background())
		}
	}()

	var (
		max, enrolled int64
		p             float64
		salt          string
		groups        []string
		cum           []float64
	)
	err = tx.QueryRow(ctx, b.q.lock, experimentID).Scan(&max, &p, &salt, &groups, &cum, &enrolled)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, assign.Errorf(assign.ENOTFOUND, "experiment %q not found", experimentID)
	} else if err != nil {
		return nil, err
	}
	res := &assign.Enrollment{ExperimentID: experimentID}

	var group string
	switch err = tx.QueryRow(ctx, b.q.member, experimentID, userID).Scan(&group); {
	case err == nil:
		res.Enrolled, res.Group = true, group
		return res, tx.Commit(ctx)
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, err
	}

	d := assign.NewDraw(salt, experimentID, userID)
	if !d.Sampled(p) {
		res.Reason = assign.ReasonNotSampled
		return res, tx.Commit(ctx)
	}
	if !b.counter {
		if err = tx.QueryRow(ctx, b.q.count, experimentID).Scan(&enrolled); err != nil {
			return nil, err
		}
	}
	if enrolled >= max {
		res.Reason = assign.ReasonSampleFull
		return res, tx.Commit(ctx)
	}
	group = groups[assign.ChooseGroup(cum, d.Group)]
	if _, err = tx.Exec(ctx, b.q.insert, experimentID, userID, group); err != nil {
		return nil, err
	}
	if b.counter {
		if _, err = tx.Exec(ctx, b.q.bump, experimentID); err != nil {
			return nil, err
		}
	}
	if err = tx.Commit(ctx); err != nil {
		return nil, err
	}
	res.Enrolled, res.Group, res.New = true, group, true
	return res, nil
}

// Target returns a Target that enrolls the users of pop through the
// baseline, with a timeout per enrollment.
func (b *PGBaseline) Target(pop *Population, timeout time.Duration) Target {
	return &pgTarget{b: b, pop: pop, timeout: timeout}
}

type pgTarget struct {
	b       *PGBaseline
	pop     *Population
	timeout time.Duration
}

// Enroll implements Target: one transaction per decision.
func (t *pgTarget) Enroll(ctx context.Context, u int) (Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	res, err := t.b.Enroll(ctx, t.pop.Experiments[t.pop.ExperimentOf(u)], t.pop.UserID(u))
	if err != nil {
		return OutcomeNone, classifyPG(err)
	} else if res.Enrolled {
		return t.pop.Groups.Outcome([]byte(res.Group)), nil
	}
	return ReasonOutcome(res.Reason), nil
}

func classifyPG(err error) error {
	var pe *pgconn.PgError
	var ne net.Error
	kind := KindOther
	switch {
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		kind = KindTimeout
	case errors.As(err, &pe):
		kind = "pg_" + strings.ToLower(pe.Code)
	case assign.ErrorCode(err) == assign.ENOTFOUND:
		kind = "not_found"
	case errors.As(err, &ne):
		kind = KindConnection
	}
	return &RequestError{Kind: kind, Err: err}
}

// Verify checks the invariants of Verification on the baseline's tables for
// every experiment of pop, and compares the members with the run's ledger.
func (b *PGBaseline) Verify(ctx context.Context, pop *Population, ledger *Ledger) (*Verification, error) {
	v := &Verification{Store: "postgres", OK: true}
	mc := newMemberChecker(pop, ledger, v)
	c := <-b.conns
	defer func() { b.conns <- c }()
	s := pgx.Identifier{b.Schema}.Sanitize()
	for i, id := range pop.Experiments {
		ec := ExperimentCheck{ID: id, GroupCounters: make(map[string]int64), GroupMembers: make(map[string]int64)}
		var groups []string
		if err := c.QueryRow(ctx, `SELECT max_sample_size, enrolled, groups FROM `+s+`.experiments WHERE id = $1`, id).
			Scan(&ec.Max, &ec.Counter, &groups); err != nil {
			return nil, fmt.Errorf("verify %s: %w", id, err)
		}
		for _, g := range groups {
			ec.GroupCounters[g] = 0
		}
		// The naive design keeps no per-group counters: the database's own
		// count by group stands for them, and count(*) for the counter when
		// there is no counter column.
		rows, err := c.Query(ctx, `SELECT group_name, count(*) FROM `+s+`.members WHERE experiment_id = $1 GROUP BY group_name`, id)
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", id, err)
		}
		var total int64
		for rows.Next() {
			var g string
			var n int64
			if err := rows.Scan(&g, &n); err != nil {
				return nil, err
			}
			ec.GroupCounters[g] = n
			total += n
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if !b.counter {
			ec.Counter = total
		}
		rows, err = c.Query(ctx, `SELECT user_id, group_name FROM `+s+`.members WHERE experiment_id = $1`, id)
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", id, err)
		}
		for rows.Next() {
			var user, group string
			if err := rows.Scan(&user, &group); err != nil {
				return nil, err
			}
			ec.Members++
			ec.GroupMembers[group]++
			if !mc.member(i, user, group) {
				ec.ForeignMembers++
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		v.checkCounts(ec)
	}
	mc.finish()
	return v, nil
}
