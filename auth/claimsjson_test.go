package auth

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// claimsCases are payloads decodeClaims must decode as encoding/json does,
// or leave to it; the fuzz target starts from them.
var claimsCases = []string{
	`{"sub":"c0a80101-0000-4000-8000-000000000001","iat":1796172330,"exp":1796175930,"first_order":true}`,
	` { "sub" : "u" , "exp" : 1.5e9 , "nbf": -0, "x": null, "y": false } `,
	`{}`,
	`{"aud":["a","b"],"n":{"m":{"k":[1,2.5,-3e-2,[],{}]}}}`,
	`{"a":1,"a":2}`,
	`{"name":"Zoë","emoji":"😀"}`,
	`{"bad":"\xff"}`,
	`{"esc":"a\"b"}`,
	`{"esc":"\u00e9"}`,
	`{"ctl":"a` + "\x01" + `"}`,
	`{"n":01}`,
	`{"n":1.}`,
	`{"n":.5}`,
	`{"n":1e}`,
	`{"n":1e400}`,
	`{"n":-}`,
	`{"a":1,}`,
	`{"a":[1,]}`,
	`{"a" 1}`,
	`{"a":1}x`,
	`{"a":1}{}`,
	`[1]`,
	`null`,
	`"s"`,
	`{"a":tru}`,
	`{"a":nul}`,
	`{"a":[` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `]}`,
	`{"\u0073ub":"x"}`,
	`{"sub":"x"` + "\x00" + `}`,
	`{"k":"` + "\x7f" + `"}`,
	`{"k":"\xed\xa0\x80"}`,
	`{"k":"\xef\xbf\xbd"}`,
	`{"sub":"x","n":1e400}`,
	"  {\"sub\":\"x\",\"n\":[1e400]}",
	" \t[1]",
	` {"a":{"b":1e999}}`,
	` {"sub":"x"} `,
	`{"sub":"x"} trailing`,
	`{"i":[0,-0,7,-7,999999999999999,-999999999999999,9999999999999999,12345678901234567890,1e2,1E+2,-1.0e-2]}`,
}

// checkLibClaims fails unless libClaims decodes payload as the library
// decodes a jwt.MapClaims (parser.go: json.Unmarshal into a copy of the
// map it was given), errors and all.
func checkLibClaims(t *testing.T, payload string) {
	t.Helper()
	given := jwt.MapClaims{}
	c := given
	wantErr := json.Unmarshal([]byte(payload), &c)
	lc := &libClaims{}
	var claims jwt.Claims = lc
	gotErr := json.Unmarshal([]byte(payload), &claims)
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
		t.Fatalf("payload %q: libClaims error %v, the library's %v", payload, gotErr, wantErr)
	}
	if len(given) == 0 && len(lc.MapClaims) == 0 {
		return // a nil map for an empty one: read the same
	}
	if !reflect.DeepEqual(map[string]any(given), map[string]any(lc.MapClaims)) || !sameSigns(map[string]any(given), map[string]any(lc.MapClaims)) {
		t.Fatalf("payload %q: libClaims %#v, the library %#v", payload, lc.MapClaims, given)
	}
}

// checkClaimsDecode fails when decodeClaims accepts what encoding/json
// refuses or decodes it differently.
func checkClaimsDecode(t *testing.T, payload string) (accepted bool) {
	t.Helper()
	checkLibClaims(t, payload)
	got, ok := decodeClaims(payload)
	var want map[string]any
	err := json.Unmarshal([]byte(payload), &want)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("decodeClaims accepted %q, which encoding/json refuses: %v", payload, err)
	}
	if got == nil || !reflect.DeepEqual(got, want) || !sameSigns(got, want) {
		t.Fatalf("decodeClaims(%q) = %#v, encoding/json %#v", payload, got, want)
	}
	return true
}

// sameSigns reports whether the numbers of a and b, which are DeepEqual,
// have the same signs (DeepEqual does not tell -0 from 0).
func sameSigns(a, b any) bool {
	switch x := a.(type) {
	case float64:
		return math.Signbit(x) == math.Signbit(b.(float64))
	case []any:
		for i := range x {
			if !sameSigns(x[i], b.([]any)[i]) {
				return false
			}
		}
	case map[string]any:
		for k := range x {
			if !sameSigns(x[k], b.(map[string]any)[k]) {
				return false
			}
		}
	}
	return true
}

func TestDecodeClaims(t *testing.T) {
	accepted := 0
	for _, p := range claimsCases {
		if checkClaimsDecode(t, p) {
			accepted++
		}
	}
	// The payloads tokens carry must take the fast decoder, or it is useless.
	for _, p := range claimsCases[:6] {
		if _, ok := decodeClaims(p); !ok {
			t.Errorf("decodeClaims refused %q", p)
		}
	}
	if accepted == 0 {
		t.Fatal("nothing accepted")
	}
}

func TestDecodeClaims_Allocs(t *testing.T) {
	p := claimsCases[0]
	// the map (and its storage) and the boxed string and numbers
	if n := testing.AllocsPerRun(100, func() { decodeClaims(p) }); n > 5 {
		t.Errorf("decodeClaims: %v allocations, want at most 5", n)
	}
}

func FuzzDecodeClaims(f *testing.F) {
	for _, p := range claimsCases {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		checkClaimsDecode(t, payload)
	})
}

func BenchmarkDecodeClaims(b *testing.B) {
	p := claimsCases[0]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		decodeClaims(p)
	}
}
