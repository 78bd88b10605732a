package http_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
	assignhttp "github.com/assign-dev/assign/http"
)

// fakeInsights answers the console's warehouse routes from memory.
type fakeInsights struct {
	changes []assignhttp.ExperimentChange
	days    []assignhttp.DailyEnrollments
	results any
	err     error
}

func (f *fakeInsights) Changes(ctx context.Context, id string) ([]assignhttp.ExperimentChange, error) {
	return append([]assignhttp.ExperimentChange(nil), f.changes...), f.err
}

func (f *fakeInsights) DailyEnrollments(ctx context.Context, id string) ([]assignhttp.DailyEnrollments, error) {
	return f.days, f.err
}

func (f *fakeInsights) Results(ctx context.Context, id string) (any, error) {
	if f.err != nil {
		return nil, f.err
	}
	if f.results == nil {
		return nil, assign.Errorf(assign.ENOTFOUND, "No metrics file: start assignd with -metrics-file to see results here.")
	}
	return f.results, nil
}

func twoGroups(a, b float64) []assign.Group {
	return []assign.Group{{Name: "old_journey", Probability: a}, {Name: "new_journey", Probability: b}}
}

func newFakeInsights() *fakeInsights {
	at := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	v1 := assignhttp.ExperimentChange{Version: 1, ChangedAt: at, ChangedBy: "alice", Status: assign.StatusRunning, SamplingProbability: 0.9,
		MaxSampleSize: 3000, Groups: twoGroups(0.5, 0.5), Eligibility: []assign.Rule{{Claim: "first_order", Equals: true}}}
	v2 := v1
	v2.Version, v2.ChangedAt, v2.ChangedBy, v2.Status = 2, at.Add(time.Hour), "bob", assign.StatusPaused
	v3 := v2
	v3.Version, v3.Status, v3.SamplingProbability, v3.Groups, v3.Winner = 3, assign.StatusRunning, 1, twoGroups(0.4, 0.6), "new_journey"
	end := at.AddDate(0, 0, 14)
	v3.EndAt = &end
	return &fakeInsights{
		changes: []assignhttp.ExperimentChange{v1, v2, v3},
		days: []assignhttp.DailyEnrollments{
			{Day: "2026-03-14", Enrolled: 3, PerGroup: map[string]int64{"old_journey": 1, "new_journey": 2}},
			{Day: "2026-03-17", Enrolled: 1, PerGroup: map[string]int64{"old_journey": 1}},
		},
		results: map[string]any{"experiment_id": "f380739f-62f3-4316-8acf-93ed5744cb9e", "correction": "holm", "goal_comparisons": 1,
			"metrics": []any{map[string]any{"metric": map[string]any{"name": "ordered", "type": "binary", "role": "goal", "direction": "higher"},
				"harmed": false, "warnings": []string{}, "comparisons": []any{}, "groups": []any{}, "srm": map[string]any{}}}},
	}
}

// walkConsoleRoutes walks the console's API additions for
// TestOpenAPI_Responses: each answer validates against the document.
func walkConsoleRoutes(t *testing.T, c *contract) {
	fake := newFakeInsights()
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		s.Insights = fake
		s.Logger = slog.New(slog.DiscardHandler)
	})
	ts.MustCreate(t, seedExperiment)
	const id = "f380739f-62f3-4316-8acf-93ed5744cb9e"
	for _, sub := range []string{"changes", "daily-enrollments", "results"} {
		path := "/api/experiments/" + id + "/" + sub
		MustStatus(t, c.Do(t, ts, "GET", path, adminToken, ""), http.StatusOK)
		MustStatus(t, c.Do(t, ts, "GET", path, "", ""), http.StatusUnauthorized)
		MustStatus(t, c.Do(t, ts, "GET", path, "forged-admin-token-0123", ""), http.StatusUnauthorized)
		MustStatus(t, c.Do(t, ts, "GET", "/api/experiments/not%20an%20id/"+sub, adminToken, ""), http.StatusNotFound)
		MustStatus(t, c.Do(t, ts, "POST", path, adminToken, "{}"), http.StatusMethodNotAllowed)
	}
	fake.results = nil
	MustStatus(t, c.Do(t, ts, "GET", "/api/experiments/"+id+"/results", adminToken, ""), http.StatusNotFound)
	fake.err = assign.Errorf(assign.EUNAVAILABLE, "warehouse: down")
	MustStatus(t, c.Do(t, ts, "GET", "/api/experiments/"+id+"/changes", adminToken, ""), http.StatusServiceUnavailable)

	// The sorted listing.
	MustStatus(t, c.Do(t, ts, "GET", "/api/experiments?sort=fill&order=desc&offset=0&limit=10&status=running&q=f38", adminToken, ""), http.StatusOK)
	MustStatus(t, c.Do(t, ts, "HEAD", "/api/experiments?sort=created_at", adminToken, ""), http.StatusOK)
	MustStatus(t, c.Do(t, ts, "GET", "/api/experiments?sort=colour", adminToken, ""), http.StatusBadRequest)
}

func TestConsoleRoutes_Insights(t *testing.T) {
	fake := newFakeInsights()
	ts := MustOpenServer(t, func(s *assignhttp.Server) { s.Insights = fake })
	const id = "f380739f-62f3-4316-8acf-93ed5744cb9e"

	t.Run("Changes", func(t *testing.T) {
		r := ts.Do(t, "GET", "/api/experiments/"+id+"/changes", adminToken, "")
		MustStatus(t, r, http.StatusOK)
		changes := r.JSON(t)["changes"].([]any)
		if len(changes) != 3 {
			t.Fatalf("changes = %s", r.Body)
		}
		want := [][]string{
			{"created: status running, cap 3000, sampling probability 0.9, groups old_journey 0.5 / new_journey 0.5, eligibility first_order = true"},
			{"status running → paused"},
			{"status paused → running", "sampling probability 0.9 → 1", "groups old_journey 0.5 / new_journey 0.5 → old_journey 0.4 / new_journey 0.6", "rolled out new_journey to every eligible user", "end none → 2026-03-28T10:00:00Z"},
		}
		for i, c := range changes {
			what := c.(map[string]any)["what"].([]any)
			if len(what) != len(want[i]) {
				t.Fatalf("version %d what = %v, want %v", i+1, what, want[i])
			}
			for j := range what {
				if what[j] != want[i][j] {
					t.Errorf("version %d what[%d] = %q, want %q", i+1, j, what[j], want[i][j])
				}
			}
		}
		if got := changes[1].(map[string]any)["changed_by"]; got != "bob" {
			t.Errorf("changed_by = %v, want bob", got)
		}
	})
	t.Run("DailyFillsTheGaps", func(t *testing.T) {
		r := ts.Do(t, "GET", "/api/experiments/"+id+"/daily-enrollments", adminToken, "")
		MustStatus(t, r, http.StatusOK)
		days := r.JSON(t)["days"].([]any)
		var got []string
		for _, d := range days {
			got = append(got, d.(map[string]any)["day"].(string))
		}
		if strings.Join(got, ",") != "2026-03-14,2026-03-15,2026-03-16,2026-03-17" {
			t.Fatalf("days = %v", got)
		}
	})
	t.Run("Results", func(t *testing.T) {
		r := ts.Do(t, "GET", "/api/experiments/"+id+"/results", adminToken, "")
		MustStatus(t, r, http.StatusOK)
		if r.JSON(t)["correction"] != "holm" {
			t.Fatalf("results = %s", r.Body)
		}
	})
	t.Run("ErrAuth", func(t *testing.T) {
		for _, token := range []string{"", "forged-admin-token-0123"} {
			r := ts.Do(t, "GET", "/api/experiments/"+id+"/changes", token, "")
			MustStatus(t, r, http.StatusUnauthorized)
			if r.ErrorCode(t) != "unauthorized" || strings.Contains(string(r.Body), "changes") {
				t.Fatalf("token %q: %s", token, r.Body)
			}
		}
	})
	t.Run("ErrBadID", func(t *testing.T) {
		r := ts.Do(t, "GET", "/api/experiments/a%20b/changes", adminToken, "")
		MustStatus(t, r, http.StatusNotFound)
		if r.ErrorCode(t) != "not_found" {
			t.Fatalf("%s", r.Body)
		}
	})
	t.Run("ErrNested", func(t *testing.T) {
		r := ts.Do(t, "GET", "/api/experiments/a/b/changes", adminToken, "")
		MustStatus(t, r, http.StatusNotFound)
		if r.ErrorCode(t) != "no_route" {
			t.Fatalf("%s", r.Body)
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		r := ts.Do(t, "DELETE", "/api/experiments/"+id+"/results", adminToken, "")
		MustStatus(t, r, http.StatusMethodNotAllowed)
		if r.Header.Get("Allow") != "GET" {
			t.Fatalf("Allow = %q", r.Header.Get("Allow"))
		}
	})
	t.Run("ErrWarehouse", func(t *testing.T) {
		fake.err = assign.Errorf(assign.EUNAVAILABLE, "warehouse: open assign.duckdb: lock held")
		defer func() { fake.err = nil }()
		r := ts.Do(t, "GET", "/api/experiments/"+id+"/daily-enrollments", adminToken, "")
		MustStatus(t, r, http.StatusServiceUnavailable)
		if r.ErrorCode(t) != "unavailable" {
			t.Fatalf("%s", r.Body)
		}
	})

	// Without a warehouse reader the routes say so.
	none := MustOpenServer(t, func(s *assignhttp.Server) { s.Logger = slog.New(slog.DiscardHandler) })
	r := none.Do(t, "GET", "/api/experiments/"+id+"/changes", adminToken, "")
	MustStatus(t, r, http.StatusServiceUnavailable)
	if !strings.Contains(string(r.Body), "results-warehouse-url") {
		t.Fatalf("%s", r.Body)
	}
}

func TestListExperiments_Sorted(t *testing.T) {
	ts := MustOpenServer(t, nil)
	for i, spec := range []struct {
		id  string
		cap int
	}{{"b-small", 2}, {"a-big", 100}, {"c-mid", 10}} {
		ts.MustCreate(t, `{"experiment_id":"`+spec.id+`","maximum_sample_size":`+strconv.Itoa(spec.cap)+`,"groups":[{"group_name":"only","probability_of_falling_in":1}]}`)
		for u := 0; u <= i; u++ {
			ts.MustEnroll(t, spec.id, spec.id+"-user-"+strconv.Itoa(u), nil)
		}
	}
	// b-small: 1/2, a-big: 2/100, c-mid: 3/10.
	ts.Do(t, "PATCH", "/api/experiments/c-mid", adminToken, `{"status":"paused"}`)
	ids := func(r Response) string {
		t.Helper()
		MustStatus(t, r, http.StatusOK)
		var out []string
		for _, e := range r.JSON(t)["experiments"].([]any) {
			out = append(out, e.(map[string]any)["experiment_id"].(string))
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct{ query, want string }{
		{"sort=experiment_id", "a-big,b-small,c-mid"},
		{"sort=experiment_id&order=desc", "c-mid,b-small,a-big"},
		{"sort=fill", "b-small,c-mid,a-big"},
		{"sort=fill&order=asc", "a-big,c-mid,b-small"},
		{"sort=enrolled", "c-mid,a-big,b-small"},
		{"sort=created_at&order=asc", "b-small,a-big,c-mid"},
		{"sort=updated_at", "c-mid,a-big,b-small"},
		{"sort=status", "c-mid,a-big,b-small"},
		{"status=running", "a-big,b-small"},
		{"q=MID", "c-mid"},
		{"sort=experiment_id&offset=1&limit=1", "b-small"},
		{"offset=5", ""},
	} {
		t.Run(tt.query, func(t *testing.T) {
			if got := ids(ts.Do(t, "GET", "/api/experiments?"+tt.query, adminToken, "")); got != tt.want {
				t.Fatalf("%s: %s, want %s", tt.query, got, tt.want)
			}
		})
	}
	r := ts.Do(t, "GET", "/api/experiments?sort=experiment_id&limit=2", adminToken, "")
	if m := r.JSON(t); m["total"] != float64(3) || m["offset"] != float64(0) || m["next"] != "" {
		t.Fatalf("total/offset/next = %v/%v/%v", m["total"], m["offset"], m["next"])
	}
	// The id-ordered cursor pages are unchanged: no total.
	if _, ok := ts.Do(t, "GET", "/api/experiments?limit=2", adminToken, "").JSON(t)["total"]; ok {
		t.Fatal("a cursor page carries total")
	}
	for _, tt := range []struct{ query, field string }{
		{"sort=colour", "sort"}, {"order=up", "order"}, {"offset=-1", "offset"}, {"offset=x", "offset"},
		{"sort=fill&limit=0", "limit"}, {"status=gone", "status"}, {"sort=fill&after=a", "after"},
	} {
		r := ts.Do(t, "GET", "/api/experiments?"+tt.query, adminToken, "")
		MustStatus(t, r, http.StatusBadRequest)
		if r.ErrorCode(t) != "invalid" || r.ErrorField(t) != tt.field {
			t.Errorf("%s: %s, want field %s", tt.query, r.Body, tt.field)
		}
	}
	MustStatus(t, ts.Do(t, "GET", "/api/experiments?sort=fill", "", ""), http.StatusUnauthorized)
}

func TestConsole_Routing(t *testing.T) {
	served := 0
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		s.Console = func(ctx *fasthttp.RequestCtx) {
			served++
			ctx.SetContentType("application/json")
			ctx.SetBodyString("{}")
		}
	})
	// The console's page and files are not API routes, outside the
	// document: asked without ts.Do's contract check.
	raw := func(method, path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL()+path, nil)
		resp, err := ts.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, p := range []string{"/", "/console/app.js"} {
		for _, m := range []string{"GET", "HEAD"} {
			if r := raw(m, p); r.StatusCode != http.StatusOK {
				t.Fatalf("%s %s = %d", m, p, r.StatusCode)
			}
		}
		r := raw("POST", p)
		if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
			t.Fatalf("POST %s = %d, Allow %q", p, r.StatusCode, r.Header.Get("Allow"))
		}
	}
	if served != 4 {
		t.Fatalf("console served %d requests, want 4", served)
	}
	// The API is not the console's.
	MustStatus(t, ts.Do(t, "GET", "/consolex", "", ""), http.StatusNotFound)
	MustStatus(t, ts.Do(t, "GET", "/api/experiments", "", ""), http.StatusUnauthorized)

	off := MustOpenServer(t, nil)
	r := off.Do(t, "GET", "/", "", "")
	MustStatus(t, r, http.StatusNotFound)
	if r.ErrorCode(t) != "no_route" {
		t.Fatalf("GET / without a console: %s", r.Body)
	}
}

// TestListExperiments_SortedManyPages: a sorted listing reads past the
// store's page of 1,000 and pages over all of them by offset.
func TestListExperiments_SortedManyPages(t *testing.T) {
	ts := MustOpenServer(t, func(s *assignhttp.Server) { s.Logger = slog.New(slog.DiscardHandler) })
	ctx := context.Background()
	const n = 1050
	for i := 0; i < n; i++ {
		e := &assign.Experiment{ID: "exp-" + strconv.Itoa(10000+i), MaxSampleSize: int64(1 + i), SamplingProbability: 1,
			Groups: []assign.Group{{Name: "only", Probability: 1}}, UpdatedBy: "alice"}
		if err := ts.Store.CreateExperiment(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for offset := 0; ; offset += 1000 {
		r := ts.Do(t, "GET", "/api/experiments?sort=layer&order=desc&limit=1000&offset="+strconv.Itoa(offset), adminToken, "")
		MustStatus(t, r, http.StatusOK)
		m := r.JSON(t)
		if m["total"] != float64(n) {
			t.Fatalf("total = %v, want %d", m["total"], n)
		}
		page := m["experiments"].([]any)
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			seen[e.(map[string]any)["experiment_id"].(string)] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("the pages hold %d distinct experiments, want %d", len(seen), n)
	}
	// Nobody enrolled: every fill ties at 0, in id order.
	r := ts.Do(t, "GET", "/api/experiments?sort=fill&order=desc&limit=3", adminToken, "")
	if got := r.JSON(t)["experiments"].([]any)[0].(map[string]any)["experiment_id"]; got != "exp-10000" {
		t.Fatalf("fill ties start with %v, want exp-10000", got)
	}
}
