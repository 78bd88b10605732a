package http_test

import (
	"net/http"
	"testing"
)

// The platform of an enrollment: the body's field or the token's claim
// (which wins), checked against the OpenAPI document; anything else is a
// 400 naming platform; a rule on the claim selects it either way.
func TestPlatform_API(t *testing.T) {
	c := newContract(t)
	ts := MustOpenServer(t, nil)
	r := c.Do(t, ts, "POST", "/api/experiment-create", adminToken, `{"experiment_id": "mobile", "maximum_sample_size": 10,
		"groups": [{"group_name": "a", "probability_of_falling_in": 1}],
		"eligibility": [{"claim": "platform", "in": ["ios", "android"]}]}`)
	MustStatus(t, r, http.StatusCreated)
	for _, tc := range []struct {
		body   string
		claims map[string]any
		want   string // "a", a reason, or "400"
	}{
		{`{"experiment_id": "mobile", "platform": "ios"}`, nil, "a"},
		{`{"experiment_id":"mobile","platform":"android"}`, nil, "a"},
		{`{"platform": "android", "experiment_id": "mobile"}`, nil, "a"},
		{`{"experiment_id": "mobile", "platform": "web"}`, nil, "not_eligible"},
		{`{"experiment_id": "mobile"}`, nil, "not_eligible"},
		{`{"experiment_id": "mobile", "platform": "web"}`, map[string]any{"platform": "ios"}, "a"}, // the claim wins
		{`{"experiment_id": "mobile"}`, map[string]any{"platform": "android"}, "a"},
		{`{"experiment_id": "mobile", "platform": "tv"}`, nil, "400"},
		{`{"experiment_id": "mobile", "platform": ""}`, nil, "400"},
		{`{"experiment_id": "mobile", "platform": 1}`, nil, "400"},
		{`{"experiment_id": "mobile", "platform": "ios"}`, map[string]any{"platform": "tv"}, "400"},
	} {
		r := c.Do(t, ts, "POST", "/api/experiment-enrollments", UserToken(t, "user-"+tc.want+tc.body, tc.claims), tc.body)
		if tc.want == "400" {
			mustBeInvalid(t, r, "platform")
			continue
		}
		MustStatus(t, r, http.StatusOK)
		got := r.JSON(t)
		if (tc.want == "a") != (got["enrolled"] == true) || (tc.want != "a" && got["reason"] != tc.want) {
			t.Fatalf("%s with claims %v: %s, want %s", tc.body, tc.claims, r.Body, tc.want)
		}
	}
}
