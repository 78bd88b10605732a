package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/assign-dev/assign/assign"
)

// hostile holds what a group name, id or admin name from the server could
// carry to act on a terminal: ESC (a colour and a title change), DEL, the C1
// CSI, U+2028, a bidi override, a bare carriage return and a byte that is
// not UTF-8.
var hostile = []string{
	"esc\x1b[31mred\x1b]0;pwned\x07",
	"del\x7f",
	"c1\u009b2J",
	"sep\u2028line",
	"bidi\u202eevil",
	"cr\rover",
	"bad\xffutf8",
	"tab\tnl\nend",
}

// TestTableOutput_EscapesControlCharacters checks that no table printed by
// assignctl passes a control character to the terminal, that each is shown
// escaped, and that JSON output keeps the exact names.
func TestTableOutput_EscapesControlCharacters(t *testing.T) {
	e := &assign.Experiment{
		ID: "exp", Status: assign.StatusRunning, MaxSampleSize: 10, SamplingProbability: 1,
		Winner: hostile[0], Layer: hostile[1], UpdatedBy: hostile[2],
		Stats: &assign.ExperimentStats{PerGroup: map[string]int64{}},
	}
	for _, name := range hostile {
		e.Groups = append(e.Groups, assign.Group{Name: name, Probability: 1.0 / float64(len(hostile))})
	}
	var show, list bytes.Buffer
	if err := writeExperiment(&show, OutputTable, e); err != nil {
		t.Fatal(err)
	}
	if err := writeExperiments(&list, OutputTable, []*assign.Experiment{e}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"show": show.String(), "list": list.String()} {
		mustBeTerminalSafe(t, name, out)
		for _, want := range []string{`esc\x1b[31mred`, `del\x7f`, `c1\u009b2J`, `sep\u2028line`, `bidi\u202eevil`, `cr\x0dover`, `bad\xffutf8`, `tab\x09nl\x0aend`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks the escaped %q:\n%s", name, want, out)
			}
		}
	}

	var js bytes.Buffer
	if err := writeExperiment(&js, OutputJSON, e); err != nil {
		t.Fatal(err)
	}
	var back assign.Experiment
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for i, g := range back.Groups {
		if want := strings.ToValidUTF8(hostile[i], "\uFFFD"); g.Name != want {
			t.Errorf("JSON group %d = %q, want %q", i, g.Name, want)
		}
	}
}

// TestTerminalWriter_SplitWrites checks that a character cut between two
// writes is neither escaped as invalid nor lost.
func TestTerminalWriter_SplitWrites(t *testing.T) {
	var out bytes.Buffer
	w := &terminalWriter{w: &out}
	s := "é\u2028\x1b€ok"
	for i := 0; i < len(s); i++ {
		if _, err := w.Write([]byte{s[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := out.String(), `é\u2028\x1b€ok`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func mustBeTerminalSafe(t *testing.T, name, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s: output is not valid UTF-8: %q", name, out)
	}
	for _, r := range out {
		if (unicode.IsControl(r) && r != '\n' && r != ' ') || r == '\u2028' || r == '\u2029' || bidiControl(r) {
			t.Errorf("%s: output carries %U raw:\n%q", name, r, out)
			return
		}
	}
}
