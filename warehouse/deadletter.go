package warehouse

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Reasons a stream entry is dead-lettered (DeadLetter.Reason, and the reason
// label of assign_exporter_dead_letters_total).
const (
	// ReasonMalformed: the entry is not an event the exporter understands
	// (unknown type, missing field, bad time, bad JSON, a stream key that
	// names no experiment).
	ReasonMalformed = "malformed"
	// ReasonInvalidText: a text value holds a NUL byte or is not valid
	// UTF-8, which no warehouse table takes (CheckEnrollment,
	// CheckExperiment). Found before any write.
	ReasonInvalidText = "invalid_text"
	// ReasonRefused: the warehouse refused the row itself (an error for
	// which IsRefused holds), isolated by writing the batch in halves.
	ReasonRefused = "refused"
)

// Reasons lists every Reason, in a stable order.
var Reasons = []string{ReasonMalformed, ReasonInvalidText, ReasonRefused}

// DeadLetter is a stream entry the exporter could not turn into a row the
// warehouse accepts. It is written to the dead_letters table of the same
// warehouse, keyed by (Stream, EntryID) so a replay of the entry does not
// duplicate it, and its stream entry is acknowledged like the others.
type DeadLetter struct {
	Stream       string // the Redis stream key (Text-escaped)
	EntryID      string // the entry's id in the stream
	ExperimentID string // the experiment of the stream; "" when the key names none
	Reason       string // ReasonMalformed, ReasonInvalidText or ReasonRefused
	Error        string // why, as the exporter or the warehouse said it (Text-escaped)
	// Fields is the entry's fields as a JSON object (EncodeFields): lossless,
	// and text any warehouse column takes (valid UTF-8, no NUL).
	Fields string
	SeenAt time.Time // when it was first dead-lettered (a replay keeps the first)
}

// DeadLetterWriter is implemented by sinks that keep dead letters. Writing
// the same dead letter twice keeps the first.
type DeadLetterWriter interface {
	WriteDeadLetters(ctx context.Context, letters []DeadLetter) error
}

// DeadLetterReader reads the dead letters back and removes them
// (assign-exporter dead-letters, its replay, tests).
type DeadLetterReader interface {
	// ReadDeadLetters returns every dead letter, ordered by first_seen_at,
	// stream, entry_id.
	ReadDeadLetters(ctx context.Context) ([]DeadLetter, error)
	// DeleteDeadLetters removes the letters of the same stream and entry id
	// as letters; one not there is ignored.
	DeleteDeadLetters(ctx context.Context, letters []DeadLetter) error
}

// RefusedError is a write the warehouse refused because of the data in it,
// not because of the connection or the load: a row is invalid for the table
// (a PostgreSQL data exception, a constraint, an index row too large; a
// DuckDB conversion or constraint error). Writing the same rows again would
// fail again, so the exporter does not retry it: it writes the batch in
// halves until the rows refused alone are found, and dead-letters those.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// Refused wraps err as a RefusedError (nil stays nil).
func Refused(err error) error {
	if err == nil {
		return nil
	}
	return &RefusedError{Err: err}
}

// IsRefused reports whether err says the warehouse refused the data itself.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// CheckEnrollment checks what every warehouse table requires of text: valid
// UTF-8 without NUL bytes. PostgreSQL refuses both ("invalid byte sequence
// for encoding UTF8"), DuckDB stores invalid UTF-8 as NULL (a NOT NULL
// violation); a NUL is kept by DuckDB but not by PostgreSQL, so the rule is
// the same for every sink and a warehouse can move from one to the other.
func CheckEnrollment(r *EnrollmentRow) error {
	if err := checkText("experiment_id", r.ExperimentID); err != nil {
		return err
	}
	if err := checkText("user_id", r.UserID); err != nil {
		return err
	}
	return checkText("group_name", r.Group)
}

// CheckExperiment is CheckEnrollment for a configuration row, its groups and
// eligibility rules included (a NUL in JSON, \u0000, is refused by
// PostgreSQL's jsonb).
func CheckExperiment(r *ExperimentRow) error {
	for _, f := range []struct{ name, v string }{
		{"experiment_id", r.ExperimentID}, {"layer", r.Layer}, {"status", string(r.Status)},
		{"winner", r.Winner}, {"salt", r.Salt}, {"updated_by", r.UpdatedBy},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	for i, g := range r.Groups {
		if err := checkText(fmt.Sprintf("groups[%d].group_name", i), g.Name); err != nil {
			return err
		}
	}
	if len(r.Eligibility) > 0 {
		js, err := json.Marshal(r.Eligibility)
		if err != nil {
			return fmt.Errorf("eligibility: %w", err)
		}
		// json.Marshal writes a NUL (in a claim or a value) as \u0000 and
		// turns invalid UTF-8 into U+FFFD, so the escape is all to look for.
		if bytes.Contains(js, []byte(`\u0000`)) {
			return errors.New("eligibility holds a NUL byte")
		}
	}
	return nil
}

// checkText is ValidText with the field and byte offset of the problem.
func checkText(field, s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return fmt.Errorf("%s holds a NUL byte at byte %d", field, i)
		}
		if c >= utf8.RuneSelf {
			// The rest in one go: utf8.ValidString is fast, and NUL is ASCII.
			if !utf8.ValidString(s[i:]) {
				return fmt.Errorf("%s is not valid UTF-8", field)
			}
			if j := strings.IndexByte(s[i:], 0); j >= 0 {
				return fmt.Errorf("%s holds a NUL byte at byte %d", field, i+j)
			}
			return nil
		}
	}
	return nil
}

// ValidText reports whether s is valid UTF-8 without NUL bytes.
func ValidText(s string) bool { return checkText("", s) == nil }

// Text returns s as text every warehouse takes: unchanged when ValidText,
// else with each NUL written \x00 and each byte that is not UTF-8 written
// \xNN. For names and messages that are shown, not parsed back.
func Text(s string) string {
	if ValidText(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0 || (r == utf8.RuneError && size == 1):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// EncodeFields returns a stream entry's fields as a JSON object, names
// sorted: a value that is valid UTF-8 is a JSON string (a NUL or another
// control character escaped, as \u0000); any other value is an object
// {"hex": "<its bytes in hex>"}. So the text is lossless (DecodeFields gives
// the fields back) and holds no NUL and no invalid UTF-8. A non-string value
// is written with fmt's %v.
func EncodeFields(fields map[string]any) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONValue(&b, k, true)
		b.WriteByte(':')
		s, ok := fields[k].(string)
		if !ok {
			s = fmt.Sprint(fields[k])
		}
		writeJSONValue(&b, s, false)
	}
	b.WriteByte('}')
	return b.String()
}

func writeJSONValue(b *bytes.Buffer, s string, key bool) {
	if !utf8.ValidString(s) {
		if key {
			// Field names are the exporter's own (redisstore.Event*); a
			// foreign one that is not UTF-8 is named by its hex.
			s = "hex:" + hex.EncodeToString([]byte(s))
		} else {
			b.WriteString(`{"hex":"` + hex.EncodeToString([]byte(s)) + `"}`)
			return
		}
	}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a valid UTF-8 string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}

// DecodeFields is the inverse of EncodeFields.
func DecodeFields(text string) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf("dead letter fields: %w", err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		var h struct {
			Hex string `json:"hex"`
		}
		if err := json.Unmarshal(v, &h); err != nil {
			return nil, fmt.Errorf("dead letter field %s: %w", k, err)
		}
		b, err := hex.DecodeString(h.Hex)
		if err != nil {
			return nil, fmt.Errorf("dead letter field %s: %w", k, err)
		}
		out[k] = string(b)
	}
	return out, nil
}
