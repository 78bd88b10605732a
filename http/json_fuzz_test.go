package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/assign-dev/assign/assign"
)

// Fuzz targets of the request body parsers (issue 10): whatever the body,
// they never panic, every error is an EINVALID *assign.Error whose field is
// text (or empty only for an error about the whole body), and what they
// accept holds only text. make fuzz runs each for a few seconds.

var bodySeeds = []string{
	``, `{}`, `[]`, `null`, `"x"`, `{"experiment_id":"f380739f-62f3-4316-8acf-93ed5744cb9e"}`,
	` { "experiment_id" : "exp-1" } `, `{"experiment_id":"a\u0000b"}`, `{"experiment_id":"\u00e9"}`,
	`{"experiment_id":1}`, `{"experiment_id":"a"} {}`, `{"experiment_id":"a","user_id":"b"}`, `{"EXPERIMENT_ID":"a"}`,
	`{"experiment_id": "f380739f-62f3-4316-8acf-93ed5744cb9e", "maximum_sample_size": 250, "sampling_probability": 1,
	  "groups": [{"group_name": "old_journey", "probability_of_falling_in": 0.5},
	             {"group_name": "new_journey", "probability_of_falling_in": 0.5}],
	  "eligibility": [{"claim": "first_order", "equals": true}, {"claim": "country", "in": ["DE", 1, null]}],
	  "layer": "checkout"}`,
	`{"maximum_sample_size":5,"groups":[{"group_name":"b\u001b[31m","probability_of_falling_in":1}]}`,
	`{"maximum_sample_size":5,"groups":[{"group_name":"a","probability_of_falling_in":1}],"eligibility":[{"claim":"c","not_equals":"\u2028"}]}`,
	`{"MAXIMUM_SAMPLE_SIZE":5,"groups":[{"Group_Name":"a","probability_of_falling_in":1}]}`,
	`{"maximum_sample_size":1e400}`, `{"maximum_sample_size":-0,"groups":{}}`, `{"groups":[{"group_name":["x"]}]}`,
	`{"status":"paused"}`, `{"sampling_probability":0.2,"maximum_sample_size":10}`, `{"winner":""}`,
	`{"winner":"new_journey\u0000"}`, `{"groups":[{"group_name":"a","probability_of_falling_in":1}]}`,
	`{"experiment_ids":["a","b"]}`, `{"experiment_ids":[]}`, `{"experiment_ids":["a","a"]}`, `{"experiment_ids":"a"}`,
	`{"experiment_ids":["a"],"experiment_id":"b"}`, `{"Experiment_IDs":["a"]}`,
	` { "platform" : "ios" , "experiment_ids" : [ "a" , "b c!" ] } `, `{"experiment_ids":["a"],"platform":"tv"}`,
	`{"experiment_ids":["a"],"experiment_ids":["b"]}`, `{"experiment_ids":["a",]}`, `{"experiment_ids":["a"],}`,
	`{"experiment_ids":["a","b","a","b"],"platform":"web"}`, `{"experiment_ids":["\u0061"]}`, `{"experiment_ids":[1]}`,
	`{"status":"done"}`, `{"status":null}`, `{"salt":"00"}`, "{\"experiment_id\":\"\xff\"}", `{"a":{"b":[[[[[[1]]]]]]}}`,
}

// checkInvalid fails unless err is an EINVALID *assign.Error fit to answer.
func checkInvalid(t *testing.T, body []byte, err error) {
	t.Helper()
	var e *assign.Error
	if !errors.As(err, &e) {
		t.Fatalf("body %q: error %T %v is not an *assign.Error", body, err, err)
	}
	if e.Code != assign.EINVALID || e.Message == "" {
		t.Fatalf("body %q: error %+v, want EINVALID with a message", body, e)
	}
	if err := assign.ValidateText("field", e.Field); err != nil {
		t.Fatalf("body %q: error field %q is not text", body, e.Field)
	}
	if e.Field == "" && !strings.HasPrefix(e.Message, "The request body") && !strings.HasPrefix(e.Message, "The update changes nothing") &&
		e.Message != `Unknown field "".` { // a key "": the field is named, it is empty
		t.Fatalf("body %q: error %q names no field but is not about the whole body", body, e.Message)
	}
}

func FuzzEnrollBody(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	for _, n := range []int{assign.MaxBatchExperiments, assign.MaxBatchExperiments + 1} { // at the bound and over it
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("%q", fmt.Sprint("e", i))
		}
		f.Add([]byte(`{"experiment_ids":[` + strings.Join(ids, ",") + `]}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := parseEnrollBody(body)
		// The multi-experiment form's fast path answers exactly what the
		// standard one does, which it stands in for.
		if list, platform, ok := fastBatchRequest(body, &idTable{}); ok {
			if err == nil || !isBatchBody(body) {
				t.Fatalf("body %q: fast batch path, but the single form reads it (%v) or it is no batch", body, err)
			}
			ids, p, berr := parseBatchBody(body)
			ferr := checkBatchIDs(list)
			if (berr == nil) != (ferr == nil) || (berr != nil && (berr.Error() != ferr.Error() || assign.ErrorField(berr) != assign.ErrorField(ferr))) {
				t.Fatalf("body %q: fast batch path error %v, parseBatchBody %v", body, ferr, berr)
			}
			if berr == nil && (p != platform || strings.Join(ids, "\x00") != strings.Join(list, "\x00") || len(ids) != len(list)) {
				t.Fatalf("body %q: fast batch path %q %q, parseBatchBody %q %q", body, list, platform, ids, p)
			}
		}
		if err != nil && isBatchBody(body) {
			// The multi-experiment form: 1 to 50 distinct ids, or EINVALID.
			ids, _, err := parseBatchBody(body)
			if err != nil {
				checkInvalid(t, body, err)
			} else if len(ids) == 0 || len(ids) > assign.MaxBatchExperiments {
				t.Fatalf("body %q: %d ids accepted", body, len(ids))
			}
			return
		}
		if err != nil {
			checkInvalid(t, body, err)
			return
		}
		// The fast path answers exactly what encoding/json does.
		if fast, ok := fastEnrollBody(body); ok {
			var req struct {
				ExperimentID *string `json:"experiment_id"`
			}
			if err := json.Unmarshal(body, &req); err != nil || req.ExperimentID == nil || *req.ExperimentID != fast {
				t.Fatalf("body %q: fast path read %q, encoding/json %v (err %v)", body, fast, req.ExperimentID, err)
			}
		}
		// The handler's shortcut never passes an id the domain refuses.
		verr := assign.ValidateID(id)
		if plainID(id) && verr != nil {
			t.Fatalf("plainID(%q) but ValidateID: %v", id, verr)
		} else if verr != nil {
			checkInvalid(t, body, verr)
		}
	})
}

func FuzzCreateBody(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := parseCreateBody(body, "alice")
		if err != nil {
			checkInvalid(t, body, err)
			return
		}
		text := []string{e.ID, e.Layer, e.UpdatedBy}
		for _, g := range e.Groups {
			text = append(text, g.Name)
		}
		for _, r := range e.Eligibility {
			text = append(text, r.Claim)
			for _, v := range append([]any{r.Equals, r.NotEquals}, r.In...) {
				if s, ok := v.(string); ok {
					text = append(text, s)
				}
			}
		}
		for _, s := range text {
			if err := assign.ValidateText("s", s); err != nil {
				t.Fatalf("body %q accepted with %q: %v", body, s, err)
			}
		}
	})
}

func FuzzUpdateBody(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		upd, err := parseUpdateBody(body)
		if err != nil {
			checkInvalid(t, body, err)
			return
		}
		if upd.Status == nil && upd.SamplingProbability == nil && upd.MaxSampleSize == nil && upd.Groups == nil && upd.Winner == nil {
			t.Fatalf("body %q accepted as an update that changes nothing", body)
		}
		if upd.Status != nil && !upd.Status.Valid() {
			t.Fatalf("body %q accepted with status %q", body, *upd.Status)
		}
		text := []string{}
		if upd.Winner != nil {
			text = append(text, *upd.Winner)
		}
		for _, g := range upd.Groups {
			text = append(text, g.Name)
		}
		for _, s := range text {
			if err := assign.ValidateText("s", s); err != nil {
				t.Fatalf("body %q accepted with %q: %v", body, s, err)
			}
		}
	})
}
