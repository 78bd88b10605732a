package http_test

import (
	"net/http"
	"testing"
)

// TestJSON_FieldNamesMatchExactly checks that a field name differing from the
// contract only in case (or by a Unicode case fold, as encoding/json allows)
// is an unknown field, named in the 400, at every level of every body.
func TestJSON_FieldNamesMatchExactly(t *testing.T) {
	ts := MustOpenServer(t, nil)
	two := `[{"group_name":"a","probability_of_falling_in":0.5},{"group_name":"b","probability_of_falling_in":0.5}]`
	for _, tt := range []struct{ name, method, path, body, field string }{
		{"CreateUpperCase", "POST", "/api/experiment-create", `{"experiment_id":"c1","MAXIMUM_SAMPLE_SIZE":5,"groups":` + two + `}`, "MAXIMUM_SAMPLE_SIZE"},
		{"CreateMixedCase", "POST", "/api/experiment-create", `{"experiment_id":"c2","maximum_sample_size":5,"Groups":` + two + `}`, "Groups"},
		{"CreateGroupField", "POST", "/api/experiment-create", `{"experiment_id":"c3","maximum_sample_size":5,"groups":[{"Group_Name":"a","probability_of_falling_in":1}]}`, "Group_Name"},
		{"CreateRuleField", "POST", "/api/experiment-create", `{"experiment_id":"c4","maximum_sample_size":5,"groups":` + two + `,"eligibility":[{"CLAIM":"x","equals":true}]}`, "CLAIM"},
		{"CreateUnicodeFold", "POST", "/api/experiment-create", `{"experiment_id":"c5","maximum_sample_size":5,"ſampling_probability":1,"groups":` + two + `}`, "ſampling_probability"},
		{"EnrollSlowPath", "POST", "/api/experiment-enrollments", `{"Experiment_Id":"c1"}`, "Experiment_Id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			token := adminToken
			if tt.path == "/api/experiment-enrollments" {
				token = UserToken(t, "user-1", nil)
			}
			r := ts.Do(t, tt.method, tt.path, token, tt.body)
			MustStatus(t, r, http.StatusBadRequest)
			if got := r.ErrorField(t); got != tt.field {
				t.Fatalf("field=%q, want %q; body=%s", got, tt.field, r.Body)
			}
		})
	}
	// Nothing was created by the refused bodies.
	MustStatus(t, ts.Do(t, "GET", "/api/experiments/c1", adminToken, ""), http.StatusNotFound)

	// An update: refused, and the experiment is unchanged.
	id := ts.MustCreate(t, `{"experiment_id":"upd","maximum_sample_size":5,"groups":`+two+`}`)
	r := ts.Do(t, "PATCH", "/api/experiments/"+id, adminToken, `{"STATUS":"paused"}`)
	MustStatus(t, r, http.StatusBadRequest)
	if got := r.ErrorField(t); got != "STATUS" {
		t.Fatalf("field=%q, want STATUS; body=%s", got, r.Body)
	}
	if got := ts.Do(t, "GET", "/api/experiments/"+id, adminToken, "").JSON(t)["status"]; got != "running" {
		t.Fatalf("status=%v after a refused update, want running", got)
	}
	// The exact names still work.
	MustStatus(t, ts.Do(t, "PATCH", "/api/experiments/"+id, adminToken, `{"status":"paused"}`), http.StatusOK)
}
