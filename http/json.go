package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/assign-dev/assign/assign"
)

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. It escapes what JSON requires
// (quote, backslash, control characters), replaces invalid UTF-8 with U+FFFD
// like encoding/json, and escapes U+2028/U+2029 and <, >, & so the output is
// also safe inside HTML and JavaScript.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// parseEnrollBody returns the experiment id of an enrollment body
// (parseEnrollRequest without the platform).
func parseEnrollBody(body []byte) (string, error) {
	id, _, err := parseEnrollRequest(body)
	return id, err
}

// parseEnrollRequest returns the experiment id and the platform ("" when
// absent) of an enrollment body. The fast path reads the shapes clients
// send, {"experiment_id":"..."} and {"experiment_id":"...","platform":"ios"}
// with any whitespace, without allocating beyond the returned id; anything
// else (escapes, other fields or orders, errors) goes through encoding/json
// so that the answer, and every error message, is exactly the standard one.
// A platform that is none of the platforms is EINVALID naming "platform".
func parseEnrollRequest(body []byte) (id, platform string, err error) {
	if id, platform, ok := fastEnrollRequest(body); ok {
		return id, platform, nil
	}
	var req struct {
		ExperimentID *string `json:"experiment_id"`
		Platform     *string `json:"platform"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return "", "", err
	}
	if req.ExperimentID == nil {
		return "", "", assign.Invalidf("experiment_id", "experiment_id is required")
	}
	if platform, err = bodyPlatform(req.Platform); err != nil {
		return "", "", err
	}
	return *req.ExperimentID, platform, nil
}

// bodyPlatform checks an enrollment body's platform field: absent is none,
// present it must be one of the platforms ("" is not).
func bodyPlatform(p *string) (string, error) {
	if p == nil {
		return "", nil
	}
	if *p == "" {
		return "", assign.Invalidf(assign.PlatformClaim, "platform must be web, ios, android or other")
	}
	if err := assign.ValidatePlatform(*p); err != nil {
		return "", err
	}
	return *p, nil
}

var (
	enrollKey   = []byte(`"experiment_id"`)
	platformKey = []byte(`"platform"`)
)

// fastEnrollBody is fastEnrollRequest without the platform.
func fastEnrollBody(b []byte) (string, bool) {
	id, _, ok := fastEnrollRequest(b)
	return id, ok
}

func fastEnrollRequest(b []byte) (id, platform string, ok bool) {
	start, end, platform, ok := fastEnrollSpan(b)
	if !ok {
		return "", "", false
	}
	return string(b[start:end]), platform, true
}

// fastEnrollSpan is fastEnrollRequest with the id as its bounds in b, so
// that a caller may find it without a string.
func fastEnrollSpan(b []byte) (start, end int, platform string, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, 0, "", false
	}
	i = skipSpace(b, i+1)
	start, end, i, ok = fastMember(b, i, enrollKey)
	if !ok {
		return 0, 0, "", false
	}
	i = skipSpace(b, i)
	if i < len(b) && b[i] == ',' {
		var ps, pe int
		if ps, pe, i, ok = fastMember(b, skipSpace(b, i+1), platformKey); !ok {
			return 0, 0, "", false
		}
		// One of the platforms, as a constant: nothing allocated. Anything
		// else goes to encoding/json for the standard error.
		if platform = knownPlatform(b[ps:pe]); platform == "" {
			return 0, 0, "", false
		}
		i = skipSpace(b, i)
	}
	if i >= len(b) || b[i] != '}' {
		return 0, 0, "", false
	}
	if skipSpace(b, i+1) != len(b) {
		return 0, 0, "", false
	}
	return start, end, platform, true
}

// knownPlatform returns the platform constant equal to p, "" for none.
func knownPlatform(p []byte) string {
	switch string(p) {
	case assign.PlatformWeb:
		return assign.PlatformWeb
	case assign.PlatformIOS:
		return assign.PlatformIOS
	case assign.PlatformAndroid:
		return assign.PlatformAndroid
	case assign.PlatformOther:
		return assign.PlatformOther
	}
	return ""
}

// fastMember reads key : "plain string" at b[i:] and returns the string's
// bounds and the index after its closing quote; ok is false for anything
// else (escapes, control and non-ASCII bytes: left to encoding/json).
func fastMember(b []byte, i int, key []byte) (start, end, next int, ok bool) {
	if !bytes.HasPrefix(b[i:], key) {
		return 0, 0, 0, false
	}
	i = skipSpace(b, i+len(key))
	if i >= len(b) || b[i] != ':' {
		return 0, 0, 0, false
	}
	return fastString(b, skipSpace(b, i+1))
}

// fastString reads a "plain string" at b[i:] as fastMember does.
func fastString(b []byte, i int) (start, end, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, 0, 0, false
	}
	i++
	start = i
	for ; i < len(b) && b[i] != '"'; i++ {
		if b[i] == '\\' || b[i] < 0x20 || b[i] >= utf8.RuneSelf {
			return 0, 0, 0, false
		}
	}
	if i >= len(b) {
		return 0, 0, 0, false
	}
	return start, i, i + 1, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// decodeJSON decodes exactly one JSON object from body into v, refusing
// unknown fields, and turns every failure into an EINVALID error that names
// the field at fault when there is one.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return assign.Invalidf("", "The request body holds data after the JSON object.")
	}
	// encoding/json matches field names case-insensitively, so a
	// "MAXIMUM_SAMPLE_SIZE" passed DisallowUnknownFields: names must match
	// exactly.
	if name, ok := inexactKey(json.NewDecoder(bytes.NewReader(body)), reflect.TypeOf(v)); ok {
		return assign.Invalidf(name, "Unknown field %q.", name)
	}
	return nil
}

// inexactKey walks the next JSON value of dec, already known to decode into
// a value of type t, and returns the first object key that encoding/json
// matched to a field of t only case-insensitively. Values of types with no
// fixed field names (maps, interfaces) are not looked into.
func inexactKey(dec *json.Decoder, t reflect.Type) (string, bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	delim, isDelim := tok.(json.Delim)
	if !isDelim {
		return "", false // a scalar
	}
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = t.Elem()
	}
	var fields map[string]reflect.Type
	if t != nil && t.Kind() == reflect.Struct {
		fields = jsonFields(t, nil)
	}
	for dec.More() {
		var next reflect.Type
		if delim == '{' {
			tok, err := dec.Token()
			if err != nil {
				return "", false
			}
			key, _ := tok.(string)
			if fields != nil {
				ft, exact := fields[key]
				if !exact {
					return key, true // decoded, so matched some field, but not exactly
				}
				next = ft
			}
		} else {
			next = elem
		}
		if name, ok := inexactKey(dec, next); ok {
			return name, true
		}
	}
	_, _ = dec.Token() // the closing delimiter
	return "", false
}

// jsonFields adds the JSON names of t's fields (embedded structs' promoted
// ones included) to m, with their types.
func jsonFields(t reflect.Type, m map[string]reflect.Type) map[string]reflect.Type {
	if m == nil {
		m = map[string]reflect.Type{}
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				jsonFields(ft, m)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return assign.Invalidf("", "The request body is empty; a JSON object is required.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return assign.Invalidf("", "The request body is truncated JSON.")
	case errors.As(err, &syntax):
		return assign.Invalidf("", "The request body is malformed JSON at byte %d.", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return assign.Invalidf("", "The request body must be a JSON object.")
		}
		return assign.Invalidf(typ.Field, "%s must be %s, not %s.", typ.Field, jsonType(typ.Type.Kind().String()), typ.Value)
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return assign.Invalidf(name, "Unknown field %q.", name)
	}
	return assign.Invalidf("", "The request body is invalid JSON: %s.", err)
}

// jsonType names a Go kind the way a JSON client thinks of it.
func jsonType(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return fmt.Sprintf("of type %s", kind)
}
