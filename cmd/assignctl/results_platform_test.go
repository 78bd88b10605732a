package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/results/resultstest"
	"github.com/assign-dev/assign/warehouse"
)

// --by platform: one analysis per platform present, each with its own SRM
// check, in a table and in JSON. The reference's users enrolled on iOS give
// the reference's numbers; web users, nearly all in the control group,
// mismatch on web alone; rows without a platform are "none".
func TestResultsCommand_ByPlatform(t *testing.T) {
	ref := resultstest.PropTest()
	f := *ref.Fixture
	f.Enrollments = append([]warehouse.EnrollmentRow(nil), f.Enrollments...)
	for i := range f.Enrollments {
		f.Enrollments[i].Platform = "ios"
	}
	control, treatment := ref.Groups[0].Name, ref.Groups[1].Name
	for i := range 70 {
		g := control
		if i%10 == 0 {
			g = treatment
		}
		f.Enrollments = append(f.Enrollments, warehouse.EnrollmentRow{ExperimentID: "prop-test", UserID: fmt.Sprintf("web-%d", i),
			Group: g, EnrolledAt: resultstest.T0.Add(time.Duration(i) * time.Minute), Platform: "web"})
	}
	for i := range 6 {
		f.Enrollments = append(f.Enrollments, warehouse.EnrollmentRow{ExperimentID: "prop-test", UserID: fmt.Sprintf("old-%d", i),
			Group: []string{control, treatment}[i%2], EnrolledAt: resultstest.T0.Add(time.Duration(i) * time.Minute)})
	}
	path := resultstest.LoadDuckDB(t, &f)
	args := append(resultsArgs(path, "prop-test", resultstest.BinarySQL), "--by", "platform")

	r := run(t, nil, "", append(args, "--output", "json")...).mustOK(t)
	var doc struct {
		ExperimentID string `json:"experiment_id"`
		By           string `json:"by"`
		Platforms    []struct {
			Platform string `json:"platform"`
			Result   struct {
				Groups []struct {
					Name string `json:"group_name"`
					N    int64  `json:"n"`
				} `json:"groups"`
				SRM struct {
					Mismatch bool `json:"mismatch"`
				} `json:"srm"`
			} `json:"result"`
		} `json:"platforms"`
	}
	r.json(t, &doc)
	var got []string
	for _, p := range doc.Platforms {
		got = append(got, p.Platform)
		var ns []string
		for _, g := range p.Result.Groups {
			ns = append(ns, fmt.Sprint(g.N))
		}
		switch p.Platform {
		case "ios":
			if strings.Join(ns, ",") != fmt.Sprintf("%d,%d", ref.Groups[0].N, ref.Groups[1].N) || p.Result.SRM.Mismatch {
				t.Errorf("ios: n=%v mismatch=%v, want the reference's %d,%d and no mismatch", ns, p.Result.SRM.Mismatch, ref.Groups[0].N, ref.Groups[1].N)
			}
		case "web":
			if strings.Join(ns, ",") != "63,7" || !p.Result.SRM.Mismatch {
				t.Errorf("web: n=%v mismatch=%v, want 63,7 and a mismatch", ns, p.Result.SRM.Mismatch)
			}
		case "none":
			if strings.Join(ns, ",") != "3,3" {
				t.Errorf("none: n=%v, want 3,3", ns)
			}
		}
	}
	if doc.ExperimentID != "prop-test" || doc.By != "platform" || strings.Join(got, ",") != "none,ios,web" {
		t.Fatalf("JSON: %s by %s, platforms %v", doc.ExperimentID, doc.By, got)
	}
	if !strings.Contains(r.Stderr, "WARNING: platform web: SAMPLE RATIO MISMATCH") || strings.Contains(r.Stderr, "platform ios: SAMPLE RATIO") {
		t.Fatalf("stderr %q, want the web mismatch alone", r.Stderr)
	}

	table := run(t, map[string]string{"TERMINAL": "1"}, "", args...).mustOK(t).Stdout
	mustContain(t, table, "Platform: ios", "Platform: none", "Platform: web", "MISMATCH")
	run(t, nil, "", append(args, "--output", "csv")...).mustCode(t, ExitUsage, "not CSV")
	run(t, nil, "", "results", "--warehouse-url", path, "--outcome-sql", resultstest.BinarySQL, "--by", "country", "prop-test").mustCode(t, ExitUsage, "--by takes platform")
}
