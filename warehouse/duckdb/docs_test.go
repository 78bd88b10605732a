package duckdb_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/warehouse/duckdb"
)

// TestDocs_AnalysisQuery loads the sample data with the SQL of
// docs/warehouse.md into a DuckDB warehouse made by the sink's migrations,
// runs the document's analysis query exactly as written, and checks its
// answer against a count made here from the CSV files, and against the
// result table printed in the document.
func TestDocs_AnalysisQuery(t *testing.T) {
	doc, err := os.ReadFile("../../docs/warehouse.md")
	if err != nil {
		t.Fatal(err)
	}
	load := section(t, string(doc), "load-sample")
	query := section(t, string(doc), "analysis-query")

	s := MustOpenSink(t, duckdb.Options{})
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Chdir("../..") // the document's paths are relative to the repository
	var got []string
	err = s.Query(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, load); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		rows, err := c.QueryContext(ctx, query)
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var g string
			var users, conv int64
			var rate float64
			if err := rows.Scan(&g, &users, &conv, &rate); err != nil {
				return err
			}
			got = append(got, fmt.Sprintf("| %s | %d | %d | %.4f |", g, users, conv, rate))
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}

	want := expectedFromCSV(t, "examples/warehouse")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("query answered\n%s\nwant (counted from the CSV files)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	table := strings.Split(strings.TrimSpace(section(t, string(doc), "analysis-result")), "\n")
	if len(table) < 2 || strings.Join(table[2:], "\n") != strings.Join(want, "\n") {
		t.Fatalf("docs/warehouse.md shows\n%s\nwant\n%s", strings.Join(table, "\n"), strings.Join(want, "\n"))
	}
}

// section returns the text between <!-- name: begin --> and
// <!-- name: end -->, without a ```sql fence.
func section(t *testing.T, doc, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "<!-- "+name+": begin -->")
	body, _, ok2 := strings.Cut(rest, "<!-- "+name+": end -->")
	if !ok || !ok2 {
		t.Fatalf("docs/warehouse.md has no section %q", name)
	}
	body = strings.TrimSpace(body)
	body = strings.TrimPrefix(body, "```sql")
	body = strings.TrimSuffix(body, "```")
	return body
}

// expectedFromCSV counts, per group, the enrolled users with an order
// strictly after their enrollment, straight from the CSV files.
func expectedFromCSV(t *testing.T, dir string) []string {
	t.Helper()
	read := func(name string) [][]string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs[1:]
	}
	orders := map[string][]time.Time{}
	for _, o := range read("orders.csv") {
		at, err := time.Parse(time.RFC3339Nano, o[2])
		if err != nil {
			t.Fatal(err)
		}
		orders[o[1]] = append(orders[o[1]], at)
	}
	type agg struct{ users, conv int }
	groups := map[string]*agg{}
	before := 0
	for _, e := range read("enrollments.csv") {
		at, err := time.Parse(time.RFC3339Nano, e[3])
		if err != nil {
			t.Fatal(err)
		}
		a := groups[e[2]]
		if a == nil {
			a = &agg{}
			groups[e[2]] = a
		}
		a.users++
		converted := false
		for _, o := range orders[e[1]] {
			if o.After(at) {
				converted = true
			} else {
				before++
			}
		}
		if converted {
			a.conv++
		}
	}
	if before == 0 {
		t.Fatal("the sample has no order placed before its user's enrollment: it would not test the rule")
	}
	var names []string
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	var out []string
	for _, g := range names {
		a := groups[g]
		out = append(out, fmt.Sprintf("| %s | %d | %d | %.4f |", g, a.users, a.conv, float64(a.conv)/float64(a.users)))
	}
	return out
}
