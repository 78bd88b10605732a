package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/client"
	"github.com/assign-dev/assign/client/clienttest"
	"github.com/assign-dev/assign/openapi"
	"github.com/assign-dev/assign/stats"
)

// The multi-experiment form against the real server: one entry per id in
// order, each the single form's decision or that id's error.
func TestClient_EnrollMany(t *testing.T) {
	ctx := context.Background()
	srv := clienttest.MustOpen(t)
	c := srv.Client
	for _, e := range []client.ExperimentCreate{
		{ID: "a", MaxSampleSize: 100, Groups: journeys},
		{ID: "b", MaxSampleSize: 100, Groups: journeys, Eligibility: []assign.Rule{{Claim: "country", In: []any{"fr", "de"}}}},
	} {
		if _, err := c.CreateExperiment(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tok := clienttest.UserToken(t, "user-1", map[string]any{"country": "it"})
	got, err := c.EnrollMany(ctx, tok, []string{"a", "b", "nope", "not an id!"})
	if err != nil {
		t.Fatal(err)
	} else if len(got) != 4 {
		t.Fatalf("%d entries, want 4", len(got))
	}
	if got[0].Err != nil || !got[0].Enrolled || got[0].ExperimentID != "a" || got[0].Group == "" {
		t.Errorf("a: %+v", got[0])
	}
	if got[1].Err != nil || got[1].Enrolled || got[1].Reason != assign.ReasonNotEligible {
		t.Errorf("b: %+v", got[1])
	}
	var ce *client.Error
	if !errors.As(got[2].Err, &ce) || ce.Code != assign.ENOTFOUND || ce.StatusCode != 404 || got[2].ExperimentID != "nope" {
		t.Errorf("nope: %+v (err %v)", got[2], got[2].Err)
	}
	if assign.ErrorCode(got[3].Err) != assign.EINVALID {
		t.Errorf("malformed id: %+v (err %v)", got[3], got[3].Err)
	}
	single, err := c.Enroll(ctx, tok, "a")
	if err != nil || single.Group != got[0].Group {
		t.Errorf("single form %+v (err %v), multi %q", single, err, got[0].Group)
	}

	// With fallbacks, decisions and 4xx entries are as they are.
	ds, err := c.EnrollManyOr(ctx, tok, []string{"a", "b", "nope"}, map[string]string{"a": "old_journey", "b": "old_journey", "nope": "old_journey"})
	if err != nil {
		t.Fatal(err)
	}
	if ds[0].Fallback || ds[0].Group != got[0].Group || ds[1].Fallback || ds[1].Reason != assign.ReasonNotEligible ||
		ds[2].Fallback || !client.IsNotFound(ds[2].Err) {
		t.Errorf("EnrollManyOr=%+v", ds)
	}

	if _, err := c.EnrollMany(ctx, tok, nil); assign.ErrorField(err) != "experiment_ids" {
		t.Errorf("empty list: err=%v, want invalid experiment_ids", err)
	}
	if _, err := c.EnrollManyOr(ctx, tok, []string{"a", "a"}, map[string]string{"a": "old_journey"}); assign.ErrorField(err) != "experiment_ids[1]" {
		t.Errorf("repeated id: err=%v, want invalid experiment_ids[1]", err)
	}
}

// When Redis is gone the real server answers 503 with its fallback advice,
// and EnrollOr and EnrollManyOr answer the caller's groups.
func TestClient_FallbackOnOutage(t *testing.T) {
	ctx := context.Background()
	srv := clienttest.MustOpen(t)
	c := srv.Client
	if _, err := c.CreateExperiment(ctx, client.ExperimentCreate{ID: "a", MaxSampleSize: 100, Groups: journeys}); err != nil {
		t.Fatal(err)
	}
	tok := clienttest.UserToken(t, "user-1", nil)
	srv.Mini.Close()

	_, err := c.Enroll(ctx, tok, "a")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 503 || ce.Code != assign.EUNAVAILABLE || ce.Fallback != "default_experience" || !client.Unavailable(err) {
		t.Fatalf("Enroll: err=%#v, want the 503 with its fallback", err)
	}
	d, err := c.EnrollOr(ctx, tok, "a", "old_journey")
	if err != nil {
		t.Fatal(err)
	} else if !d.Fallback || d.Group != "old_journey" || d.Enrolled || d.ExperimentID != "a" || assign.ErrorCode(d.Err) != assign.EUNAVAILABLE {
		t.Fatalf("EnrollOr=%+v", d)
	}

	// The multi form answers 200 with a 503-class entry per id.
	entries, err := c.EnrollMany(ctx, tok, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !errors.As(e.Err, &ce) || ce.StatusCode != 503 || ce.Fallback != "default_experience" {
			t.Fatalf("entry %+v (err %v), want a 503-class error", e, e.Err)
		}
	}
	ds, err := c.EnrollManyOr(ctx, tok, []string{"a", "b"}, map[string]string{"a": "old_journey"})
	if err != nil {
		t.Fatal(err)
	}
	if !ds[0].Fallback || ds[0].Group != "old_journey" || ds[1].Fallback || ds[1].ExperimentID != "b" || !client.Unavailable(ds[1].Err) {
		t.Fatalf("EnrollManyOr=%+v", ds)
	}
}

// The failures assignd itself cannot produce: nothing listening, silence
// past the timeout, a proxy's page, a captive portal's 200; a 4xx and the
// caller's cancellation are returned as errors.
func TestClient_Fallback(t *testing.T) {
	ctx := context.Background()
	t.Run("NetworkError", func(t *testing.T) {
		ts := httptest.NewServer(http.NotFoundHandler())
		url := ts.URL
		ts.Close()
		c := client.New(url, "")
		d, err := c.EnrollOr(ctx, "tok", "a", "control")
		if err != nil || !d.Fallback || d.Group != "control" || assign.ErrorCode(d.Err) != assign.EUNAVAILABLE {
			t.Fatalf("EnrollOr=%+v, %v", d, err)
		}
		ds, err := c.EnrollManyOr(ctx, "tok", []string{"a", "b"}, map[string]string{"a": "control"})
		if err != nil || !ds[0].Fallback || ds[1].Fallback || ds[1].ExperimentID != "b" || !client.Unavailable(ds[1].Err) {
			t.Fatalf("EnrollManyOr=%+v, %v", ds, err)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		release := make(chan struct{})
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer ts.Close()
		defer close(release)
		c := client.New(ts.URL, "")
		c.EnrollTimeout = 100 * time.Millisecond
		start := time.Now()
		d, err := c.EnrollOr(ctx, "tok", "a", "control")
		if took := time.Since(start); err != nil || !d.Fallback || took > 2*time.Second {
			t.Fatalf("EnrollOr=%+v, %v after %s", d, err, took)
		}
		if !strings.Contains(d.Err.Error(), "in time") {
			t.Errorf("err=%v, want it to say the answer did not come in time", d.Err)
		}
		// The caller's deadline is a timeout too; its cancellation is not.
		c.EnrollTimeout = -1
		dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if d, err := c.EnrollOr(dctx, "tok", "a", "control"); err != nil || !d.Fallback {
			t.Fatalf("caller's deadline: %+v, %v", d, err)
		}
		cctx, cancel2 := context.WithCancel(ctx)
		time.AfterFunc(50*time.Millisecond, cancel2)
		if d, err := c.EnrollOr(cctx, "tok", "a", "control"); err == nil {
			t.Fatalf("caller's cancellation: %+v, want an error", d)
		}
	})
	t.Run("Pages", func(t *testing.T) {
		status, body := 502, "<html>bad gateway</html>"
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		defer ts.Close()
		c := client.New(ts.URL, "")
		for _, tc := range []struct {
			status   int
			body     string
			fallback bool
		}{
			{502, "<html>bad gateway</html>", true},
			{200, "<html>sign in to the wifi</html>", true},
			{200, `{"hello":"world"}`, true},
			{500, `{"error":{"code":"internal","message":"Internal error.","fallback":"default_experience"}}`, true},
			{404, `{"error":{"code":"not_found","message":"Experiment not found."}}`, false},
			{401, `{"error":{"code":"unauthorized","message":"The token has expired."}}`, false},
			{403, "<html>forbidden</html>", false},
		} {
			status, body = tc.status, tc.body
			d, err := c.EnrollOr(ctx, "tok", "a", "control")
			if tc.fallback && (err != nil || !d.Fallback || d.Group != "control") {
				t.Errorf("%d %s: %+v, %v; want the fallback", tc.status, tc.body, d, err)
			} else if !tc.fallback && err == nil {
				t.Errorf("%d %s: %+v; want an error", tc.status, tc.body, d)
			}
		}
		// An answer that does not have an entry per id is no decision.
		status, body = 200, `{"enrollments":[{"experiment_id":"a","enrolled":true,"group_name":"b"}]}`
		ds, err := c.EnrollManyOr(ctx, "tok", []string{"a", "b"}, map[string]string{"a": "ca", "b": "cb"})
		if err != nil || !ds[0].Fallback || ds[0].Group != "ca" || !ds[1].Fallback || ds[1].Group != "cb" {
			t.Fatalf("EnrollManyOr=%+v, %v", ds, err)
		}
	})
}

func TestClient_LayerPlanReady(t *testing.T) {
	ctx := context.Background()
	srv := clienttest.MustOpen(t)
	c := srv.Client
	for _, id := range []string{"l-1", "l-2"} {
		if _, err := c.CreateExperiment(ctx, client.ExperimentCreate{ID: id, MaxSampleSize: 100, Groups: journeys, Layer: "checkout"}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := c.Layer(ctx, "checkout")
	if err != nil {
		t.Fatal(err)
	} else if l.Layer != "checkout" || len(l.Slots) != 2 || l.Slots["l-1"]+l.Slots["l-2"] != 1000 {
		t.Fatalf("layer=%+v", l)
	}
	if l, err := c.Layer(ctx, "empty"); err != nil || len(l.Slots) != 0 {
		t.Fatalf("empty layer=%+v, %v", l, err)
	}

	// +3.5 pp on 10.5%: 2,754 users (README).
	p, err := c.Plan(ctx, stats.PlanInput{Baseline: 0.105, Effect: 0.035})
	if err != nil {
		t.Fatal(err)
	} else if p.Total != 2754 || p.Reverse || len(p.Groups) != 2 {
		t.Fatalf("plan=%+v", p)
	}
	// The sequential plan of the same question: 5,262 users (the plan's commit).
	if seq, err := c.Plan(ctx, stats.PlanInput{Baseline: 0.105, Effect: 0.035, Method: stats.MethodSequential}); err != nil {
		t.Fatal(err)
	} else if seq.Total != 5262 || seq.Sequential == nil {
		t.Fatalf("sequential plan=%+v", seq)
	}
	want, err := stats.MakePlan(stats.PlanInput{Outcome: stats.OutcomeNumeric, Baseline: 6.5, SD: 20, MaximumSampleSize: 3000,
		Probabilities: []float64{0.2, 0.4, 0.4}, SamplingProbability: 0.5, Alpha: 0.1, Power: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Plan(ctx, stats.PlanInput{Outcome: stats.OutcomeNumeric, Baseline: 6.5, SD: 20, MaximumSampleSize: 3000,
		Probabilities: []float64{0.2, 0.4, 0.4}, SamplingProbability: 0.5, Alpha: 0.1, Power: 0.9})
	if err != nil {
		t.Fatal(err)
	} else if got.Total != want.Total || got.Effect != want.Effect || got.TotalBeforeSampling != want.TotalBeforeSampling || !got.Reverse {
		t.Fatalf("plan=%+v, want %+v", got, want)
	}
	rel, err := c.Plan(ctx, stats.PlanInput{Baseline: 0.11, Effect: 0.2, Relative: true, Groups: 3})
	if err != nil {
		t.Fatal(err)
	} else if len(rel.Groups) != 3 || rel.RelativeEffect != 0.2 {
		t.Fatalf("relative plan=%+v", rel)
	}
	if _, err := c.Plan(ctx, stats.PlanInput{Baseline: 2, Effect: 0.1}); assign.ErrorField(err) != "baseline" {
		t.Fatalf("err=%v, want invalid baseline", err)
	}

	r, err := c.Ready(ctx)
	if err != nil || r.Status != "ready" {
		t.Fatalf("ready=%+v, %v", r, err)
	}
}

// Plan sends every parameter the document lists for GET /api/plan when its
// PlanInput field is set, and nothing else: a parameter the API gains
// without a PlanInput field of that JSON name fails here.
func TestClient_PlanSendsTheDocumentsParameters(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	var op struct {
		Parameters []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(openapi.Document, &doc); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(doc.Paths["/api/plan"]["get"], &op); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, p := range op.Parameters {
		if p.In == "query" {
			documented = append(documented, p.Name)
		}
	}
	if len(documented) == 0 {
		t.Fatal("the document lists no query parameter of GET /api/plan")
	}

	var got url.Values
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"method":"m","total":1}`)
	}))
	defer ts.Close()
	c := client.New(ts.URL, "tok")

	// Every field set (non-zero), whatever fields PlanInput has.
	var in stats.PlanInput
	rv := reflect.ValueOf(&in).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Float64:
			f.SetFloat(0.25)
		case reflect.Int, reflect.Int64:
			f.SetInt(1099511627776)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]float64{0.2, 0.4, 0.4}))
		default:
			t.Fatalf("PlanInput.%s is a %s: teach this test and planQuery to send it", rv.Type().Field(i).Name, f.Kind())
		}
	}
	if _, err := c.Plan(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	sent := make([]string, 0, len(got))
	for k := range got {
		sent = append(sent, k)
	}
	slices.Sort(sent)
	slices.Sort(documented)
	if !slices.Equal(sent, documented) {
		t.Fatalf("Plan sends %v; the document lists %v", sent, documented)
	}
	if got.Get("maximum_sample_size") != "1099511627776" || got.Get("probabilities") != "0.2,0.4,0.4" || got.Get("relative") != "true" {
		t.Fatalf("query=%v", got)
	}

	// Zero fields are left out.
	if _, err := c.Plan(context.Background(), stats.PlanInput{Baseline: 0.1, Effect: 0.02}); err != nil {
		t.Fatal(err)
	} else if len(got) != 2 || got.Get("baseline") != "0.1" || got.Get("effect") != "0.02" {
		t.Fatalf("query=%v", got)
	}
}

// The warehouse routes: their paths, the admin token, and the answers
// decoded (the shapes of the document's examples). The real server without
// a warehouse reader answers EUNAVAILABLE. clients/typescript/test.sh runs
// the same routes against a real assignd with its exporter.
func TestClient_WarehouseRoutes(t *testing.T) {
	ctx := context.Background()
	bodies := map[string]string{
		"/api/experiments/e%2F1/changes": `{"experiment_id":"e/1","changes":[{"version":1,"changed_at":"2026-12-01T10:00:00Z","changed_by":"alice",
			"status":"running","sampling_probability":1,"maximum_sample_size":100,"groups":[{"group_name":"a","probability_of_falling_in":1}],
			"eligibility":[],"layer":"","winner":"","start_at":"2030-01-01T00:00:00Z","what":["created"]}]}`,
		"/api/experiments/e%2F1/daily-enrollments": `{"experiment_id":"e/1","days":[{"day":"2026-12-01","enrolled":3,"per_group":{"a":3}}]}`,
		"/api/experiments/e%2F1/results":           `{"experiment_id":"e/1","correction":"holm","goal_comparisons":1,"metrics":[{"metric":{"name":"bought","type":"binary"},"groups":[]}]}`,
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.EscapedPath()]
		if !ok || r.Method != "GET" || r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		io.WriteString(w, body)
	}))
	defer ts.Close()
	c := client.New(ts.URL, "tok")

	changes, err := c.Changes(ctx, "e/1")
	if err != nil {
		t.Fatal(err)
	} else if len(changes) != 1 || changes[0].ChangedBy != "alice" || changes[0].StartAt == nil || changes[0].What[0] != "created" || changes[0].Groups[0].Name != "a" {
		t.Fatalf("changes=%+v", changes)
	}
	days, err := c.DailyEnrollments(ctx, "e/1")
	if err != nil {
		t.Fatal(err)
	} else if len(days) != 1 || days[0].Day != "2026-12-01" || days[0].Enrolled != 3 || days[0].PerGroup["a"] != 3 {
		t.Fatalf("days=%+v", days)
	}
	res, err := c.Results(ctx, "e/1")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Metric struct{ Name string } `json:"metric"`
	}
	if res.Correction != "holm" || res.GoalComparisons != 1 || len(res.Metrics) != 1 || json.Unmarshal(res.Metrics[0], &m) != nil || m.Metric.Name != "bought" {
		t.Fatalf("results=%+v", res)
	}

	srv := clienttest.MustOpen(t)
	if _, err := srv.Client.Changes(ctx, "e-1"); assign.ErrorCode(err) != assign.EUNAVAILABLE {
		t.Fatalf("without a warehouse: err=%v, want unavailable", err)
	}
	if _, err := srv.Client.Results(ctx, "not an id!"); !client.IsNotFound(err) {
		t.Fatalf("malformed id: err=%v, want not found", err)
	}
}

// The client's Platform is recorded with each single-form enrollment: an
// eligibility rule on the platform claim sees it; the token's claim wins.
func TestClient_Platform(t *testing.T) {
	ctx := context.Background()
	srv := clienttest.MustOpen(t)
	if _, err := srv.Client.CreateExperiment(ctx, client.ExperimentCreate{ID: "ios-only", MaxSampleSize: 100, Groups: journeys,
		Eligibility: []assign.Rule{{Claim: assign.PlatformClaim, Equals: assign.PlatformIOS}}}); err != nil {
		t.Fatal(err)
	}
	ios, web := *srv.Client, *srv.Client
	ios.Platform, web.Platform = assign.PlatformIOS, assign.PlatformWeb
	if e, err := ios.Enroll(ctx, clienttest.UserToken(t, "p-1", nil), "ios-only"); err != nil || !e.Enrolled {
		t.Fatalf("ios: %+v, %v", e, err)
	}
	if e, err := web.Enroll(ctx, clienttest.UserToken(t, "p-2", nil), "ios-only"); err != nil || e.Reason != assign.ReasonNotEligible {
		t.Fatalf("web: %+v, %v", e, err)
	}
	if e, err := ios.Enroll(ctx, clienttest.UserToken(t, "p-3", map[string]any{"platform": "android"}), "ios-only"); err != nil || e.Reason != assign.ReasonNotEligible {
		t.Fatalf("the claim wins: %+v, %v", e, err)
	}
	bad := *srv.Client
	bad.Platform = "windows"
	if _, err := bad.EnrollOr(ctx, clienttest.UserToken(t, "p-4", nil), "ios-only", "old_journey"); assign.ErrorField(err) != "platform" {
		t.Fatalf("err=%v, want invalid platform", err)
	}
	if e, err := srv.Client.Enroll(ctx, clienttest.UserToken(t, "p-5", nil), "ios-only"); err != nil || e.Reason != assign.ReasonNotEligible {
		t.Fatalf("no platform: %+v, %v", e, err)
	}
	// The multi-experiment form sends it too.
	if es, err := ios.EnrollMany(ctx, clienttest.UserToken(t, "p-6", nil), []string{"ios-only"}); err != nil || !es[0].Enrolled {
		t.Fatalf("ios, multi form: %+v, %v", es, err)
	}
	if es, err := web.EnrollMany(ctx, clienttest.UserToken(t, "p-7", nil), []string{"ios-only"}); err != nil || es[0].Reason != assign.ReasonNotEligible {
		t.Fatalf("web, multi form: %+v, %v", es, err)
	}
	if _, err := bad.EnrollManyOr(ctx, clienttest.UserToken(t, "p-8", nil), []string{"ios-only"}, nil); assign.ErrorField(err) != "platform" {
		t.Fatalf("multi form: err=%v, want invalid platform", err)
	}
}
