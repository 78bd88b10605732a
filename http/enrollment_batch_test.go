package http_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// experimentWith is a create body for id with a cap.
func experimentWith(id string, max int) string {
	return fmt.Sprintf(`{"experiment_id": %q, "maximum_sample_size": %d,
 "groups": [{"group_name": "a", "probability_of_falling_in": 0.5}, {"group_name": "b", "probability_of_falling_in": 0.5}]}`, id, max)
}

// The multi-experiment form answers every id in order, each as the single
// form would (the same group afterwards, the exact shape), with an error
// object for an unknown or malformed id, without failing the others.
func TestEnroll_Many(t *testing.T) {
	ts := MustOpenServer(t, nil)
	for _, id := range []string{"screen-a", "screen-b", "screen-c"} {
		ts.MustCreate(t, experimentWith(id, 100))
	}
	ts.MustCreate(t, experimentWith("screen-full", 1))
	ts.MustEnroll(t, "screen-full", "first", nil)
	tok := UserToken(t, "user-many", nil)

	body := `{"experiment_ids": ["screen-a", "screen-b", "nope", "bad id!", "screen-full", "screen-c"]}`
	r := ts.Do(t, "POST", "/api/experiment-enrollments", tok, body)
	MustStatus(t, r, http.StatusOK)
	var got struct {
		Enrollments []map[string]any `json:"enrollments"`
	}
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	if len(got.Enrollments) != 6 {
		t.Fatalf("%d entries: %s", len(got.Enrollments), r.Body)
	}
	for i, id := range []string{"screen-a", "screen-b", "screen-c"} {
		e := got.Enrollments[[]int{0, 1, 5}[i]]
		if e["experiment_id"] != id || e["enrolled"] != true {
			t.Fatalf("%s: %v", id, e)
		}
		single := ts.MustEnroll(t, id, "user-many", nil)
		if single["group_name"] != e["group_name"] {
			t.Fatalf("%s: batch gave %v, single %v", id, e["group_name"], single["group_name"])
		}
	}
	// The exact shapes: the single form's answer, an error object per id.
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(string(r.Body), `{"enrollments":[`), "]}"), `},{`)
	if want := `"experiment_id":"screen-a","enrolled":true,"group_name":"` + got.Enrollments[0]["group_name"].(string) + `"`; strings.Trim(parts[0], "{}") != want {
		t.Errorf("entry 0 = %s, want %s", parts[0], want)
	}
	if e := got.Enrollments[2]; e["experiment_id"] != "nope" || e["error"].(map[string]any)["code"] != "not_found" {
		t.Errorf("unknown id: %v", e)
	}
	if e := got.Enrollments[3]; e["experiment_id"] != "bad id!" || e["error"].(map[string]any)["code"] != "invalid" || e["error"].(map[string]any)["field"] != "experiment_id" {
		t.Errorf("malformed id: %v", e)
	}
	if e := got.Enrollments[4]; e["enrolled"] != false || e["reason"] != "sample_full" {
		t.Errorf("full experiment: %v", e)
	}

	t.Run("Platform", func(t *testing.T) {
		// The body's platform is each entry's, as in the single form: a
		// rule on the platform claim sees it.
		ts.MustCreate(t, `{"experiment_id": "screen-ios", "maximum_sample_size": 100,
 "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "eligibility": [{"claim": "platform", "in": ["ios"]}]}`)
		for platform, want := range map[string]any{"ios": true, "web": false} {
			r := ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "user-"+platform, nil), `{"experiment_ids": ["screen-ios", "screen-a"], "platform": "`+platform+`"}`)
			MustStatus(t, r, http.StatusOK)
			var got struct{ Enrollments []map[string]any }
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Enrollments[0]["enrolled"] != want || got.Enrollments[1]["enrolled"] != true {
				t.Fatalf("platform %s: %s", platform, r.Body)
			}
		}
		r := ts.Do(t, "POST", "/api/experiment-enrollments", tok, `{"experiment_ids": ["screen-a"], "platform": "tv"}`)
		MustStatus(t, r, http.StatusBadRequest)
		if got := r.ErrorField(t); got != "platform" {
			t.Fatalf("field=%q, want platform", got)
		}
	})
	t.Run("BadBodies", func(t *testing.T) {
		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprintf(`"e%d"`, i)
		}
		for name, tc := range map[string]struct{ body, field string }{
			"Empty":    {`{"experiment_ids": []}`, "experiment_ids"},
			"TooMany":  {`{"experiment_ids": [` + strings.Join(many, ",") + `]}`, "experiment_ids"},
			"Repeated": {`{"experiment_ids": ["screen-a", "screen-b", "screen-a"]}`, "experiment_ids[2]"},
			"NotList":  {`{"experiment_ids": "screen-a"}`, "experiment_ids"},
			"Unknown":  {`{"experiment_ids": ["screen-a"], "extra": 1}`, "extra"},
			"Both":     {`{"experiment_ids": ["screen-a"], "experiment_id": "screen-b"}`, "experiment_id"},
		} {
			t.Run(name, func(t *testing.T) {
				r := ts.Do(t, "POST", "/api/experiment-enrollments", tok, tc.body)
				MustStatus(t, r, http.StatusBadRequest)
				if got := r.ErrorField(t); got != tc.field {
					t.Fatalf("field=%q, want %q: %s", got, tc.field, r.Body)
				}
			})
		}
	})
	t.Run("Unauthorized", func(t *testing.T) {
		r := ts.Do(t, "POST", "/api/experiment-enrollments", "", `{"experiment_ids": ["screen-a"]}`)
		MustStatus(t, r, http.StatusUnauthorized)
	})
}
