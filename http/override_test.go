package http_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// QA overrides through the API, every answer checked against the OpenAPI
// document: the forced group marked "override": true even while paused, GET
// and PATCH show them, null removes one, and bad overrides are refused
// naming the field.
func TestOverrides_API(t *testing.T) {
	c := newContract(t)
	ts := MustOpenServer(t, nil)
	r := c.Do(t, ts, "POST", "/api/experiment-create", adminToken, `{"experiment_id": "ovr", "maximum_sample_size": 10,
		"groups": [{"group_name": "old_journey", "probability_of_falling_in": 0.5}, {"group_name": "new_journey", "probability_of_falling_in": 0.5}],
		"eligibility": [{"claim": "first_order", "equals": true}],
		"overrides": {"user-1": "new_journey"}}`)
	MustStatus(t, r, http.StatusCreated)
	enroll := func(user string) string {
		t.Helper()
		r := c.Do(t, ts, "POST", "/api/experiment-enrollments", UserToken(t, user, nil), enrollBody("ovr"))
		MustStatus(t, r, http.StatusOK)
		return string(r.Body)
	}
	if got, want := enroll("user-1"), `{"experiment_id":"ovr","enrolled":true,"group_name":"new_journey","override":true}`; got != want {
		t.Fatalf("enroll = %s, want %s", got, want)
	}
	if got := enroll("user-2"); !strings.Contains(got, `"reason":"not_eligible"`) {
		t.Fatalf("user-2 = %s", got)
	}
	r = c.Do(t, ts, "PATCH", "/api/experiments/ovr", adminToken, `{"status": "paused", "overrides": {"user-2": "old_journey"}}`)
	MustStatus(t, r, http.StatusOK)
	if got := r.JSON(t)["overrides"]; fmt.Sprint(got) != "map[user-1:new_journey user-2:old_journey]" {
		t.Fatalf("PATCH answer overrides %v", got)
	}
	if got := enroll("user-2"); got != `{"experiment_id":"ovr","enrolled":true,"group_name":"old_journey","override":true}` {
		t.Fatalf("paused, user-2 = %s", got)
	}
	r = c.Do(t, ts, "PATCH", "/api/experiments/ovr", adminToken, `{"overrides": {"user-1": null}}`)
	MustStatus(t, r, http.StatusOK)
	r = c.Do(t, ts, "GET", "/api/experiments/ovr", adminToken, "")
	MustStatus(t, r, http.StatusOK)
	if got := r.JSON(t)["overrides"]; fmt.Sprint(got) != "map[user-2:old_journey]" {
		t.Fatalf("GET overrides %v", got)
	}
	if got := enroll("user-1"); !strings.Contains(got, `"reason":"not_eligible"`) {
		t.Fatalf("user-1 once removed = %s", got)
	}
	r = c.Do(t, ts, "GET", "/api/experiments", adminToken, "")
	MustStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), "overrides") {
		t.Fatalf("a listing shows overrides: %s", r.Body)
	}

	var many strings.Builder
	for i := range 501 {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `"u%d": "old_journey"`, i)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/experiment-create", `{"maximum_sample_size": 1, "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "overrides": {"u": "b"}}`},
		{"POST", "/api/experiment-create", `{"maximum_sample_size": 1, "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "overrides": {"": "a"}}`},
		{"POST", "/api/experiment-create", `{"maximum_sample_size": 1, "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "overrides": {"u\u0000": "a"}}`},
		{"POST", "/api/experiment-create", `{"maximum_sample_size": 1, "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "overrides": {` + many.String() + `}}`},
		{"POST", "/api/experiment-create", `{"maximum_sample_size": 1, "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "overrides": ["u"]}`},
		{"PATCH", "/api/experiments/ovr", `{"overrides": {"u": "nobody"}}`},
		{"PATCH", "/api/experiments/ovr", `{"overrides": {"u": 3}}`},
		{"PATCH", "/api/experiments/ovr", `{"overrides": {` + many.String() + `}}`},
	} {
		mustBeInvalid(t, c.Do(t, ts, tc.method, tc.path, adminToken, tc.body), "overrides")
	}
}
