package http

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAppendString checks the hand-written JSON string encoder against
// encoding/json: the output always decodes back to the input (invalid UTF-8
// to U+FFFD, as encoding/json does) and never holds raw HTML-unsafe bytes.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\`, "\x00\x1f\n\r\t", "<b>&amp;</b>", "é日本\u2028\u2029", "\xff\xfe", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("appendString(%q)=%s: not JSON: %v", s, out, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if !utf8.ValidString(s) {
			// encoding/json replaces each invalid byte, not each run.
			b, _ := json.Marshal(s)
			_ = json.Unmarshal(b, &want)
		}
		if got != want {
			t.Fatalf("appendString(%q) decodes to %q, want %q", s, got, want)
		}
		if strings.ContainsAny(string(out), "<>&\u2028\u2029") {
			t.Fatalf("appendString(%q)=%s holds HTML-unsafe characters", s, out)
		}
	})
}

// FuzzParseEnrollBody checks that the fast path of the enrollment body parser
// never disagrees with encoding/json: whatever it accepts, the standard
// decoder accepts with the same id.
func FuzzParseEnrollBody(f *testing.F) {
	for _, s := range []string{`{"experiment_id":"abc"}`, ` { "experiment_id" : "a-b.c" } `, `{"experiment_id":"a\"b"}`,
		`{"experiment_id":"x","y":1}`, `{"experiment_id":"x"}}`, `{"experiment_id":"é"}`, `{}`, ``,
		`{"experiment_id":"x","platform":"ios"}`, ` {"experiment_id" :"x" , "platform": "tv" }`, `{"platform":"web","experiment_id":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, platform, ok := fastEnrollRequest(body)
		if !ok {
			return
		}
		var req struct {
			ExperimentID *string `json:"experiment_id"`
			Platform     *string `json:"platform"`
		}
		if err := decodeJSON(body, &req); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refuses: %v", body, err)
		} else if req.ExperimentID == nil || *req.ExperimentID != id {
			t.Fatalf("fast path read %q from %q, encoding/json %v", id, body, req.ExperimentID)
		} else if (req.Platform == nil) != (platform == "") || (req.Platform != nil && *req.Platform != platform) {
			t.Fatalf("fast path read platform %q from %q, encoding/json %v", platform, body, req.Platform)
		}
		if _, p, err := parseEnrollRequest(body); err != nil || p != platform {
			t.Fatalf("parseEnrollRequest(%q) = %q, %v; the fast path %q", body, p, err, platform)
		}
	})
}

// TestIDTable checks the interned experiment ids: found by their bytes
// without allocating, bounded, and the enrollment body's id the same string
// whether it comes from the table or not.
func TestIDTable(t *testing.T) {
	var ids idTable
	if _, ok := ids.lookup([]byte("a")); ok {
		t.Fatal("empty table found an id")
	}
	ids.add("a")
	ids.add("a")
	if id, ok := ids.lookup([]byte("a")); !ok || id != "a" || ids.len() != 1 {
		t.Fatalf("lookup(a) = %q, %v with %d ids", id, ok, ids.len())
	}
	b := []byte("a")
	if n := testing.AllocsPerRun(100, func() { ids.lookup(b) }); n != 0 {
		t.Errorf("lookup: %v allocations, want 0", n)
	}
	for i := 0; i < 2*maxInternedIDs; i++ {
		ids.add(strings.Repeat("x", i+1))
	}
	if ids.len() != maxInternedIDs {
		t.Fatalf("%d ids interned, want the bound %d", ids.len(), maxInternedIDs)
	}

	var s Server
	for _, body := range []string{`{"experiment_id":"a"}`, `{"experiment_id":"b","platform":"ios"}`, `{"experiment_id":"\u0061"}`, `{"experiment_id":1}`} {
		id, platform, interned, _, err := s.enrollRequest([]byte(body))
		wantID, wantPlatform, wantErr := parseEnrollRequest([]byte(body))
		if id != wantID || platform != wantPlatform || (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("enrollRequest(%s) = %q, %q, %v; parseEnrollRequest %q, %q, %v", body, id, platform, err, wantID, wantPlatform, wantErr)
		}
		if interned {
			t.Fatalf("enrollRequest(%s) interned in an empty table", body)
		}
		if err == nil {
			s.ids.add(id)
			// A body with escapes is not read by the fast path, so not looked up.
			wantInterned := !strings.Contains(body, `\u`)
			if again, _, interned, _, _ := s.enrollRequest([]byte(body)); again != id || interned != wantInterned {
				t.Fatalf("enrollRequest(%s) the second time = %q, interned %v", body, again, interned)
			}
		}
	}
}
