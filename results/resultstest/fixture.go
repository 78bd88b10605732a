// Package resultstest builds warehouses holding fixture experiments whose
// results are known from published sources, for the tests of package
// results and of `assignctl results`.
//
// Each fixture is an experiment's enrollments and configuration, written
// through the exporter's own sinks (so the tables are exactly what the
// exporter writes), and an orders table whose rows are built so that the
// per-user outcomes, counted only after each user's enrollment, give the
// published counts or values. Noise the analysis must ignore is added on
// purpose: orders before enrollment, users outside the experiment, another
// experiment with the same users, several orders per user, cancelled
// (converted = 0) orders.
package resultstest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/duckdb"
	"github.com/assign-dev/assign/warehouse/postgres"
)

// T0 is the enrollment time of the first user of a fixture.
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Order is one row of a fixture's orders table.
type Order struct {
	UserID    string
	OrderedAt time.Time
	Converted int     // 1 for a placed order, 0 for a cancelled one
	Amount    float64 // the numeric outcome
}

// Fixture is a warehouse's content.
type Fixture struct {
	ExperimentID string
	Groups       []assign.Group
	Enrollments  []warehouse.EnrollmentRow
	Experiments  []warehouse.ExperimentRow
	Orders       []Order
	// OrdersWithoutZone stores ordered_at as a TIMESTAMP without a zone
	// (the UTC wall clock) instead of a TIMESTAMPTZ: what the analysis must
	// read as UTC whatever the zone of the machine or the session.
	OrdersWithoutZone bool
}

// Outcome queries of the fixtures' orders table.
const (
	BinarySQL  = "SELECT user_id, ordered_at, converted FROM orders"
	NumericSQL = "SELECT user_id, ordered_at, amount AS value FROM orders"
	TimeColumn = "ordered_at"
)

// GroupSpec is one group of a binary fixture: n users of whom conversions
// ordered after enrolling.
type GroupSpec struct {
	Name        string
	Probability float64
	N           int
	Conversions int
}

// NewBinary builds a binary fixture. Per group, users 0..conversions-1
// convert (every third with a second order, every fourth also with a
// cancelled order); of the others, every fifth ordered only before enrolling
// and every seventh has only a cancelled order after. It returns the
// fixture and the number of users per group who ordered only before
// enrolling (what an analysis without a time column would wrongly count).
func NewBinary(id string, specs []GroupSpec) (*Fixture, map[string]int) {
	f := newFixture(id, specs)
	before := map[string]int{}
	i := 0
	for _, s := range specs {
		for u := 0; u < s.N; u++ {
			user := fmt.Sprintf("%s-%05d", s.Name, u)
			at := T0.Add(time.Duration(i) * time.Second)
			i++
			f.Enrollments = append(f.Enrollments, warehouse.EnrollmentRow{ExperimentID: id, UserID: user, Group: s.Name, EnrolledAt: at})
			switch {
			case u < s.Conversions:
				f.Orders = append(f.Orders, Order{user, at.Add(time.Hour), 1, 20})
				if u%3 == 0 {
					f.Orders = append(f.Orders, Order{user, at.Add(2 * time.Hour), 1, 30})
				}
				if u%4 == 0 {
					f.Orders = append(f.Orders, Order{user, at.Add(3 * time.Hour), 0, 0})
				}
			case u%5 == 0:
				f.Orders = append(f.Orders, Order{user, at.Add(-time.Hour), 1, 50})
				before[s.Name]++
			case u%7 == 0:
				f.Orders = append(f.Orders, Order{user, at.Add(time.Minute), 0, 0})
			}
		}
	}
	f.addNoise()
	return f, before
}

// NewNumeric builds a numeric fixture: user i of each group has the value
// values[group][i], counted after enrolling. Odd users' values are split over
// two orders; a 0 is a user without any order; every user also has a large
// order before enrolling, which must not count.
func NewNumeric(id string, groups []assign.Group, values map[string][]float64) *Fixture {
	specs := make([]GroupSpec, len(groups))
	for i, g := range groups {
		specs[i] = GroupSpec{Name: g.Name, Probability: g.Probability}
	}
	f := newFixture(id, specs)
	i := 0
	for _, g := range groups {
		for u, v := range values[g.Name] {
			user := fmt.Sprintf("%s-%05d", g.Name, u)
			at := T0.Add(time.Duration(i) * time.Second)
			i++
			f.Enrollments = append(f.Enrollments, warehouse.EnrollmentRow{ExperimentID: id, UserID: user, Group: g.Name, EnrolledAt: at})
			f.Orders = append(f.Orders, Order{user, at.Add(-24 * time.Hour), 1, 1000})
			switch {
			case v == 0:
			case u%2 == 1:
				// Halving and adding back is exact in binary floating point.
				f.Orders = append(f.Orders, Order{user, at.Add(time.Hour), 1, v / 2}, Order{user, at.Add(2 * time.Hour), 1, v / 2})
			default:
				// A millisecond after enrolling counts; at the very instant
				// of enrollment does not (only strictly after counts).
				f.Orders = append(f.Orders, Order{user, at.Add(time.Millisecond), 1, v}, Order{user, at, 1, 777})
			}
		}
	}
	f.addNoise()
	return f
}

func newFixture(id string, specs []GroupSpec) *Fixture {
	f := &Fixture{ExperimentID: id}
	for _, s := range specs {
		f.Groups = append(f.Groups, assign.Group{Name: s.Name, Probability: s.Probability})
	}
	e := &assign.Experiment{ID: id, MaxSampleSize: 100000, SamplingProbability: 1, Groups: f.Groups,
		Status: assign.StatusRunning, Version: 1, CreatedAt: T0.Add(-time.Hour), UpdatedAt: T0.Add(-time.Hour)}
	f.Experiments = append(f.Experiments, warehouse.NewExperimentRow(e, "fixture", e.CreatedAt))
	return f
}

// addNoise adds what the analysis must ignore: orders of users who never
// enrolled, and another experiment enrolling the same users.
func (f *Fixture) addNoise() {
	for u := range 25 {
		f.Orders = append(f.Orders, Order{fmt.Sprintf("stranger-%d", u), T0.Add(time.Hour), 1, 99})
	}
	other := "other-" + f.ExperimentID
	n := len(f.Enrollments)
	for _, e := range f.Enrollments[:n/2] {
		f.Enrollments = append(f.Enrollments, warehouse.EnrollmentRow{ExperimentID: other, UserID: e.UserID, Group: "x", EnrolledAt: e.EnrolledAt.Add(-48 * time.Hour)})
	}
	oe := &assign.Experiment{ID: other, MaxSampleSize: 100000, SamplingProbability: 1, Groups: []assign.Group{{Name: "x", Probability: 1}},
		Status: assign.StatusRunning, Version: 1, CreatedAt: T0.Add(-72 * time.Hour), UpdatedAt: T0.Add(-72 * time.Hour)}
	f.Experiments = append(f.Experiments, warehouse.NewExperimentRow(oe, "fixture", oe.CreatedAt))
}

// LoadDuckDB writes f into a new DuckDB file in a temporary directory and
// returns its path. The file is closed on return.
func LoadDuckDB(tb testing.TB, f *Fixture) string {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "warehouse.duckdb")
	sink, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := sink.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := sink.WriteBatch(ctx, f.Enrollments, f.Experiments); err != nil {
		tb.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		tb.Fatal(err)
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	// Row-by-row INSERTs are slow in DuckDB: go through a CSV file.
	csvPath := filepath.Join(filepath.Dir(path), "orders.csv")
	var b strings.Builder
	b.WriteString("user_id,ordered_at,converted,amount\n")
	timeType, layout := "TIMESTAMPTZ", time.RFC3339Nano
	if f.OrdersWithoutZone {
		timeType, layout = "TIMESTAMP", "2006-01-02 15:04:05.999999"
	}
	for _, o := range f.Orders {
		fmt.Fprintf(&b, "%s,%s,%d,%s\n", o.UserID, o.OrderedAt.UTC().Format(layout), o.Converted, strconv.FormatFloat(o.Amount, 'g', -1, 64))
	}
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE orders AS SELECT * FROM read_csv('`+csvPath+`',
	header = true, columns = {'user_id': 'VARCHAR', 'ordered_at': '`+timeType+`', 'converted': 'INTEGER', 'amount': 'DOUBLE'})`); err != nil {
		tb.Fatal(err)
	}
	return path
}

// LoadPostgres writes f into a fresh schema of the test PostgreSQL (skipped
// loudly when absent, failed under CI), dropped when tb ends, and returns the
// warehouse URL with that schema.
func LoadPostgres(tb testing.TB, f *Fixture) string {
	tb.Helper()
	ctx := context.Background()
	base := testenv.PostgresURL(tb)
	schema := fmt.Sprintf("results_%08x", rand.Uint32())
	sink, err := postgres.Open(ctx, base, postgres.Options{Schema: schema})
	if err != nil {
		tb.Fatal(err)
	}
	defer sink.Close()
	pool, err := pgxpool.New(ctx, base)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		pool.Close()
	})
	if err := sink.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := sink.WriteBatch(ctx, f.Enrollments, f.Experiments); err != nil {
		tb.Fatal(err)
	}
	table := pgx.Identifier{schema, "orders"}
	timeType := "timestamptz"
	if f.OrdersWithoutZone {
		timeType = "timestamp" // pgx writes a time.Time's wall clock: UTC below
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE `+table.Sanitize()+` (user_id text, ordered_at `+timeType+`, converted integer, amount double precision)`); err != nil {
		tb.Fatal(err)
	}
	rows := make([][]any, len(f.Orders))
	for i, o := range f.Orders {
		rows[i] = []any{o.UserID, o.OrderedAt.UTC(), o.Converted, o.Amount}
	}
	if _, err := pool.CopyFrom(ctx, table, []string{"user_id", "ordered_at", "converted", "amount"}, pgx.CopyFromRows(rows)); err != nil {
		tb.Fatal(err)
	}
	sep := "?"
	if containsQuery(base) {
		sep = "&"
	}
	return base + sep + "schema=" + schema
}

func containsQuery(u string) bool {
	for i := 0; i < len(u); i++ {
		if u[i] == '?' {
			return true
		}
	}
	return false
}

// NewRamp builds an experiment whose group probabilities went from 50/50 to
// 90/10 (version 2, at the returned time, T0 + 999.5 s) after its first
// 1,000 users: 520 control and 480 treatment joined before the change, 890
// and 110 after (one user a second from T0). Only the split matters: nobody
// converts (one stranger's order keeps the orders table).
func NewRamp(id string) (*Fixture, time.Time) {
	f, _ := NewBinary(id, []GroupSpec{
		{Name: "control", Probability: 0.5, N: 1410},
		{Name: "treatment", Probability: 0.5, N: 590},
	})
	change := T0.Add(999*time.Second + 500*time.Millisecond)
	var c, tr int
	for i := range f.Enrollments {
		e := &f.Enrollments[i]
		if e.ExperimentID != id {
			continue
		}
		var k int // the user's rank in time
		if e.Group == "control" {
			if k = c; c >= 520 {
				k = 1000 + (c - 520)
			}
			c++
		} else {
			if k = 520 + tr; tr >= 480 {
				k = 1000 + 890 + (tr - 480)
			}
			tr++
		}
		e.EnrolledAt = T0.Add(time.Duration(k) * time.Second)
	}
	f.Orders = []Order{{UserID: "stranger", OrderedAt: T0, Converted: 1}}
	v2 := &assign.Experiment{ID: id, MaxSampleSize: 100000, SamplingProbability: 1, Status: assign.StatusRunning, Version: 2,
		Groups:    []assign.Group{{Name: "control", Probability: 0.9}, {Name: "treatment", Probability: 0.1}},
		CreatedAt: T0.Add(-time.Hour), UpdatedAt: change}
	f.Experiments = append(f.Experiments, warehouse.NewExperimentRow(v2, "ramp-admin", change))
	return f, change
}
