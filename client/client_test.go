package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/client"
	"github.com/assign-dev/assign/client/clienttest"
)

func ptr[T any](v T) *T { return &v }

var journeys = []assign.Group{{Name: "old_journey", Probability: 0.5}, {Name: "new_journey", Probability: 0.5}}

// The whole admin life of an experiment against the real server.
func TestClient_Lifecycle(t *testing.T) {
	ctx := context.Background()
	srv := clienttest.MustOpen(t)
	c := srv.Client

	id, err := c.CreateExperiment(ctx, client.ExperimentCreate{
		ID: "ship-1", MaxSampleSize: 250, SamplingProbability: ptr(1.0), Groups: journeys,
		Eligibility: []assign.Rule{{Claim: "first_order", Equals: true}},
	})
	if err != nil {
		t.Fatal(err)
	} else if id != "ship-1" {
		t.Fatalf("id=%q, want ship-1", id)
	}

	t.Run("GeneratedID", func(t *testing.T) {
		id, err := c.CreateExperiment(ctx, client.ExperimentCreate{MaxSampleSize: 10, Groups: journeys})
		if err != nil {
			t.Fatal(err)
		} else if len(id) != 36 {
			t.Fatalf("generated id=%q, want a UUID", id)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		_, err := c.CreateExperiment(ctx, client.ExperimentCreate{ID: "ship-1", MaxSampleSize: 10, Groups: journeys})
		var ce *client.Error
		if !errors.As(err, &ce) || ce.StatusCode != 409 || assign.ErrorCode(err) != assign.ECONFLICT {
			t.Fatalf("err=%v, want a 409 conflict", err)
		}
	})

	t.Run("InvalidNamesField", func(t *testing.T) {
		_, err := c.CreateExperiment(ctx, client.ExperimentCreate{ID: "bad", MaxSampleSize: 0, Groups: journeys})
		if got, want := assign.ErrorField(err), "maximum_sample_size"; got != want {
			t.Fatalf("field=%q (err %v), want %q", got, err, want)
		}
	})

	t.Run("EnrollAndShow", func(t *testing.T) {
		tok := clienttest.UserToken(t, "user-1", map[string]any{"first_order": true})
		e1, err := c.Enroll(ctx, tok, "ship-1")
		if err != nil {
			t.Fatal(err)
		} else if !e1.Enrolled || e1.Group == "" {
			t.Fatalf("enrollment=%+v, want enrolled", e1)
		}
		e2, err := c.Enroll(ctx, tok, "ship-1")
		if err != nil {
			t.Fatal(err)
		} else if e2.Group != e1.Group {
			t.Fatalf("second answer %q, first %q: not sticky", e2.Group, e1.Group)
		}
		no, err := c.Enroll(ctx, clienttest.UserToken(t, "user-2", nil), "ship-1")
		if err != nil {
			t.Fatal(err)
		} else if no.Enrolled || no.Reason != assign.ReasonNotEligible {
			t.Fatalf("enrollment=%+v, want not_eligible", no)
		}

		e, err := c.Experiment(ctx, "ship-1")
		if err != nil {
			t.Fatal(err)
		}
		if e.Stats == nil || e.Stats.Enrolled != 1 || e.Stats.PerGroup[e1.Group] != 1 || e.Stats.Remaining != 249 {
			t.Fatalf("stats=%+v", e.Stats)
		}
		if e.Status != assign.StatusRunning || e.Version != 1 || e.Salt != "" {
			t.Fatalf("experiment=%+v", e)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		if _, err := c.Experiment(ctx, "nope"); !client.IsNotFound(err) {
			t.Fatalf("err=%v, want not found", err)
		}
	})

	t.Run("Update", func(t *testing.T) {
		e, err := c.SetStatus(ctx, "ship-1", assign.StatusPaused)
		if err != nil {
			t.Fatal(err)
		} else if e.Status != assign.StatusPaused || e.Version != 2 || e.UpdatedBy != clienttest.AdminName {
			t.Fatalf("after pause: status=%q version=%d by=%q", e.Status, e.Version, e.UpdatedBy)
		}
		e, err = c.UpdateExperiment(ctx, "ship-1", assign.ExperimentUpdate{SamplingProbability: ptr(0.25), MaxSampleSize: ptr(int64(500))})
		if err != nil {
			t.Fatal(err)
		} else if e.SamplingProbability != 0.25 || e.MaxSampleSize != 500 || e.Version != 3 {
			t.Fatalf("after update: %+v", e)
		}
		e, err = c.Rollout(ctx, "ship-1", "new_journey")
		if err != nil {
			t.Fatal(err)
		} else if e.Winner != "new_journey" {
			t.Fatalf("winner=%q", e.Winner)
		}
		if _, err := c.UpdateExperiment(ctx, "ship-1", assign.ExperimentUpdate{}); assign.ErrorCode(err) != assign.EINVALID {
			t.Fatalf("empty update: err=%v, want invalid", err)
		}
	})

	t.Run("ListPages", func(t *testing.T) {
		for _, id := range []string{"a-1", "a-2", "a-3"} {
			if _, err := c.CreateExperiment(ctx, client.ExperimentCreate{ID: id, MaxSampleSize: 5, Groups: journeys}); err != nil {
				t.Fatal(err)
			}
		}
		p, err := c.ListExperiments(ctx, "", 2)
		if err != nil {
			t.Fatal(err)
		} else if len(p.Experiments) != 2 || p.Next != p.Experiments[1].ID {
			t.Fatalf("first page: %d experiments, next %q", len(p.Experiments), p.Next)
		}
		all, err := c.AllExperiments(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		// a-1, a-2, a-3, ship-1 and the generated one.
		if len(all) != 5 {
			t.Fatalf("AllExperiments=%d, want 5", len(all))
		}
	})

	t.Run("WrongToken", func(t *testing.T) {
		bad := client.New(srv.URL(), "wrong")
		_, err := bad.Experiment(ctx, "ship-1")
		if assign.ErrorCode(err) != assign.EUNAUTHORIZED {
			t.Fatalf("err=%v, want unauthorized", err)
		}
	})
}

// Answers that are not the API's JSON error still become an *Error with a
// code; a server that cannot be reached is EUNAVAILABLE.
func TestClient_Errors(t *testing.T) {
	ctx := context.Background()
	t.Run("NonJSONBody", func(t *testing.T) {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>bad gateway</html>")
		}))
		defer ts.Close()
		_, err := client.New(ts.URL, "t").Experiment(ctx, "x")
		var ce *client.Error
		if !errors.As(err, &ce) || ce.StatusCode != 502 || ce.Code != assign.EUNAVAILABLE || ce.Message != "<html>bad gateway</html>" {
			t.Fatalf("err=%#v", err)
		}
	})
	t.Run("RequestShape", func(t *testing.T) {
		var got *http.Request
		var body []byte
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r
			body, _ = io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"experiment_id":"x","status":"stopped","version":4}`)
		}))
		defer ts.Close()
		e, err := client.New(ts.URL+"/", "tok").SetStatus(ctx, "x", assign.StatusStopped)
		if err != nil {
			t.Fatal(err)
		}
		if got.Method != "PATCH" || got.URL.Path != "/api/experiments/x" || got.Header.Get("Authorization") != "Bearer tok" ||
			got.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("request %s %s auth=%q ct=%q", got.Method, got.URL.Path, got.Header.Get("Authorization"), got.Header.Get("Content-Type"))
		}
		if string(body) != `{"status":"stopped"}` {
			t.Fatalf("body=%s", body)
		}
		if e.Status != assign.StatusStopped || e.Version != 4 {
			t.Fatalf("experiment=%+v", e)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		ts := httptest.NewServer(http.NotFoundHandler())
		url := ts.URL
		ts.Close()
		if _, err := client.New(url, "t").Experiment(ctx, "x"); assign.ErrorCode(err) != assign.EUNAVAILABLE {
			t.Fatalf("err=%v, want unavailable", err)
		}
	})
}
