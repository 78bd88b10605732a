package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/assign-dev/assign/results/resultstest"
)

// Environment of the child processes of TestResultsCommand_TimeZones.
const (
	tzChildURL = "ASSIGN_TZ_TEST_WAREHOUSE" // the warehouse to analyse
	tzChildOut = "ASSIGN_TZ_TEST_OUT"       // where the child writes its tzOutput
)

// tzOutput is what one child process saw.
type tzOutput struct {
	Zone             string // the process's zone abbreviation on the fixture's day
	JSON, Table, CSV string // assignctl results in each format
	NaiveConversions int64  // the same count in the database's default session zone
	NaiveSessionZone string
}

// Results must not depend on where they are computed. The published
// prop.test fixture (39/128 against 94/214, resultstest.PropTest) with its
// order times stored as TIMESTAMP without a zone (the UTC wall clock): the
// users who ordered an hour before enrolling, read in Los Angeles' zone
// (UTC-8), would count as converting 7 hours after it, and the conversions
// an hour after enrolling, read in Tokyo's (UTC+9), would fall 8 hours
// before it. Go reads TZ once at start, and DuckDB's session zone follows
// TZ (PostgreSQL's follows PGTZ through pgx), so each zone is a child
// process: this test binary run again with TZ and PGTZ set. Every child must
// print the same bytes in every format, and those bytes must hold the
// published numbers; the child also counts the conversions with a plain
// connection in the session's default zone, which must differ between
// zones, proving the zone reached the database.
func TestResultsCommand_TimeZones(t *testing.T) {
	if os.Getenv(tzChildURL) != "" {
		tzChild(t)
		return
	}
	ref := resultstest.PropTest()
	ref.Fixture.OrdersWithoutZone = true
	for _, backend := range []struct {
		name string
		load func(t *testing.T) string
	}{
		{"duckdb", func(t *testing.T) string { return resultstest.LoadDuckDB(t, ref.Fixture) }},
		{"postgres", func(t *testing.T) string { return resultstest.LoadPostgres(t, ref.Fixture) }},
	} {
		t.Run(backend.name, func(t *testing.T) {
			warehouseURL := backend.load(t)
			zones := []struct{ tz, abbrev string }{{"UTC", "UTC"}, {"America/Los_Angeles", "PST"}, {"Asia/Tokyo", "JST"}}
			outs := make([]tzOutput, len(zones))
			for i, z := range zones {
				file := filepath.Join(t.TempDir(), "out.json")
				cmd := exec.Command(os.Args[0], "-test.run=^TestResultsCommand_TimeZones$", "-test.count=1")
				cmd.Env = append(os.Environ(), tzChildURL+"="+warehouseURL, tzChildOut+"="+file, "TZ="+z.tz, "PGTZ="+z.tz)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("child under TZ=%s: %v\n%s", z.tz, err, out)
				}
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, &outs[i]); err != nil {
					t.Fatal(err)
				}
				if outs[i].Zone != z.abbrev {
					t.Fatalf("child under TZ=%s ran in zone %q", z.tz, outs[i].Zone)
				}
			}
			for i := 1; i < len(outs); i++ {
				if outs[i].JSON != outs[0].JSON || outs[i].Table != outs[0].Table || outs[i].CSV != outs[0].CSV {
					t.Errorf("TZ=%s prints otherwise than TZ=UTC:\n%s\n%s\nwant\n%s\n%s", zones[i].tz, outs[i].Table, outs[i].JSON, outs[0].Table, outs[0].JSON)
				}
				// The check is sensitive: the database's own default zone
				// changes the naive count.
				if outs[i].NaiveConversions == outs[0].NaiveConversions {
					t.Errorf("TZ=%s: a plain session (zone %s) counts %d conversions as under UTC: the zone did not reach the database",
						zones[i].tz, outs[i].NaiveSessionZone, outs[i].NaiveConversions)
				}
			}
			// And the output is the published result.
			checkJSON(t, Run{Stdout: outs[0].JSON}, ref)
			mustContain(t, outs[0].Table, "counted from events with ordered_at > enrolled_at",
				"ordered_at has no time zone (TIMESTAMP): its values are read as UTC", ref.Comparisons[0].Verdict)
			t.Logf("naive conversions by zone (UTC, Los Angeles, Tokyo): %d, %d, %d; assignctl: the published 39 and 94 in each",
				outs[0].NaiveConversions, outs[1].NaiveConversions, outs[2].NaiveConversions)
		})
	}
}

// tzChild is the child process: it runs assignctl results in every format
// and writes what it saw.
func tzChild(t *testing.T) {
	warehouseURL := os.Getenv(tzChildURL)
	args := resultsArgs(warehouseURL, "prop-test", resultstest.BinarySQL)
	var out tzOutput
	out.Zone, _ = time.Date(2026, 3, 2, 12, 0, 0, 0, time.Local).Zone()
	out.JSON = run(t, nil, "", append(args, "--output", "json")...).mustOK(t).Stdout
	out.Table = run(t, nil, "", append(args, "--output", "table")...).mustOK(t).Stdout
	out.CSV = run(t, nil, "", append(args, "--output", "csv")...).mustOK(t).Stdout

	const naive = `SELECT count(DISTINCT e.user_id), current_setting('TimeZone') FROM enrollments e JOIN orders o
ON o.user_id = e.user_id AND o.ordered_at > e.enrolled_at AND o.converted = 1 WHERE e.experiment_id = 'prop-test'`
	ctx := context.Background()
	if strings.HasPrefix(warehouseURL, "postgres") {
		u, err := url.Parse(warehouseURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		schema := q.Get("schema")
		q.Del("schema")
		u.RawQuery = q.Encode()
		cfg, err := pgx.ParseConfig(u.String()) // honours PGTZ
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, naive).Scan(&out.NaiveConversions, &out.NaiveSessionZone); err != nil {
			t.Fatal(err)
		}
	} else {
		db, err := sql.Open("duckdb", warehouseURL+"?access_mode=read_only")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRowContext(ctx, naive).Scan(&out.NaiveConversions, &out.NaiveSessionZone); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv(tzChildOut), b, 0o600); err != nil {
		t.Fatal(err)
	}
}
