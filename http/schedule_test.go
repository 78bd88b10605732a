package http_test

import (
	"net/http"
	"testing"
	"time"
)

// Schedules through the API: start_at and end_at in the creation and in
// PATCH (null clears), decided on Redis's clock (miniredis's, set by the
// test), shown in GET with the effective status; every answer checked
// against the OpenAPI document; bad times refused naming the field.
func TestSchedule_API(t *testing.T) {
	c := newContract(t)
	ts := MustOpenServer(t, nil)
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ts.Redis.SetTime(clock)
	admin := adminToken
	user := UserToken(t, "user-1", nil)

	r := c.Do(t, ts, "POST", "/api/experiment-create", admin, `{"experiment_id": "sched", "maximum_sample_size": 10,
		"groups": [{"group_name": "a", "probability_of_falling_in": 1}],
		"start_at": "2030-01-01T01:00:00+01:00", "end_at": "2030-01-01T00:00:20.900Z"}`)
	MustStatus(t, r, http.StatusCreated)
	get := func(want map[string]any) {
		t.Helper()
		r := c.Do(t, ts, "GET", "/api/experiments/sched", admin, "")
		MustStatus(t, r, http.StatusOK)
		got := r.JSON(t)
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("GET: %s = %v, want %v; body %s", k, got[k], v, r.Body)
			}
		}
	}
	enroll := func(want string) {
		t.Helper()
		r := c.Do(t, ts, "POST", "/api/experiment-enrollments", user, enrollBody("sched"))
		MustStatus(t, r, http.StatusOK)
		got := r.JSON(t)
		if (want == "a") != (got["enrolled"] == true) || (want != "a" && got["reason"] != want) {
			t.Fatalf("at %v: %s, want %s", clock, r.Body, want)
		}
	}
	// Kept to the second, in UTC.
	get(map[string]any{"status": "running", "effective_status": "running", "start_at": "2030-01-01T00:00:00Z", "end_at": "2030-01-01T00:00:20Z"})

	// PATCH moves the start into the future: scheduled.
	r = c.Do(t, ts, "PATCH", "/api/experiments/sched", admin, `{"start_at": "2030-01-01T00:00:10Z"}`)
	MustStatus(t, r, http.StatusOK)
	if got := r.JSON(t); got["effective_status"] != "scheduled" || got["status"] != "running" {
		t.Fatalf("PATCH start_at: %s", r.Body)
	}
	enroll("not_running")
	clock = clock.Add(9*time.Second + 999*time.Millisecond)
	ts.Redis.SetTime(clock)
	enroll("not_running")
	clock = clock.Add(time.Millisecond) // 00:00:10, start_at: open
	ts.Redis.SetTime(clock)
	get(map[string]any{"effective_status": "running"})
	enroll("a")
	clock = clock.Add(10 * time.Second) // 00:00:20, end_at: closed to new users
	ts.Redis.SetTime(clock)
	get(map[string]any{"effective_status": "ended", "status": "running"})
	enroll("a") // the member keeps their group
	other := c.Do(t, ts, "POST", "/api/experiment-enrollments", UserToken(t, "user-2", nil), enrollBody("sched"))
	if got := other.JSON(t); got["reason"] != "not_running" {
		t.Fatalf("a new user after end_at: %s", other.Body)
	}

	// null clears a bound.
	r = c.Do(t, ts, "PATCH", "/api/experiments/sched", admin, `{"end_at": null}`)
	MustStatus(t, r, http.StatusOK)
	if got := r.JSON(t); got["end_at"] != nil || got["start_at"] != "2030-01-01T00:00:10Z" || got["effective_status"] != "running" {
		t.Fatalf("PATCH end_at null: %s", r.Body)
	}
	other = c.Do(t, ts, "POST", "/api/experiment-enrollments", UserToken(t, "user-2", nil), enrollBody("sched"))
	if got := other.JSON(t); got["enrolled"] != true {
		t.Fatalf("a new user once end_at is cleared: %s", other.Body)
	}

	for _, tc := range []struct{ method, path, body, field string }{
		{"POST", "/api/experiment-create", `{"maximum_sample_size": 1, "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "start_at": "tomorrow"}`, "start_at"},
		{"POST", "/api/experiment-create", `{"maximum_sample_size": 1, "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "end_at": 1767225600}`, "end_at"},
		{"POST", "/api/experiment-create", `{"maximum_sample_size": 1, "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "start_at": "2030-01-02T00:00:00Z", "end_at": "2030-01-01T00:00:00Z"}`, "end_at"},
		{"POST", "/api/experiment-create", `{"maximum_sample_size": 1, "groups": [{"group_name": "a", "probability_of_falling_in": 1}], "start_at": "2030-01-01T00:00:00Z", "end_at": "2030-01-01T00:00:00.5Z"}`, "end_at"},
		{"PATCH", "/api/experiments/sched", `{"start_at": "2030-13-01T00:00:00Z"}`, "start_at"},
		{"PATCH", "/api/experiments/sched", `{"end_at": true}`, "end_at"},
		{"PATCH", "/api/experiments/sched", `{"start_at": "2030-01-02T00:00:00Z", "end_at": "2030-01-01T00:00:00Z"}`, "end_at"},
		{"PATCH", "/api/experiments/sched", `{"end_at": "2030-01-01T00:00:05Z"}`, "end_at"}, // before the stored start_at
		{"PATCH", "/api/experiments/sched", `{"start_at": "0001-01-01T00:00:00Z"}`, "start_at"},
	} {
		r := c.Do(t, ts, tc.method, tc.path, admin, tc.body)
		mustBeInvalid(t, r, tc.field)
	}
}
