package http

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
)

// DescribeChanges fills each change's What with what it changed from the
// version before it, in words: the first known version is the creation (or,
// when the warehouse lacks the earlier ones, the configuration then).
func DescribeChanges(changes []ExperimentChange) {
	for i := range changes {
		c := &changes[i]
		if i == 0 {
			verb := "created"
			if c.Version != 1 {
				verb = "configuration at version " + strconv.FormatInt(c.Version, 10)
			}
			c.What = []string{verb + ": " + describeConfig(c)}
			continue
		}
		c.What = diffChange(&changes[i-1], c)
	}
}

func describeConfig(c *ExperimentChange) string {
	parts := []string{
		"status " + string(c.Status),
		"cap " + strconv.FormatInt(c.MaxSampleSize, 10),
		"sampling probability " + num(c.SamplingProbability),
		"groups " + describeGroups(c.Groups),
	}
	if len(c.Eligibility) > 0 {
		parts = append(parts, "eligibility "+describeRules(c.Eligibility))
	}
	if c.Layer != "" {
		parts = append(parts, "layer "+c.Layer)
	}
	if c.Winner != "" {
		parts = append(parts, "rolled out "+c.Winner)
	}
	if c.StartAt != nil {
		parts = append(parts, "starts "+when(c.StartAt))
	}
	if c.EndAt != nil {
		parts = append(parts, "ends "+when(c.EndAt))
	}
	return strings.Join(parts, ", ")
}

func diffChange(prev, c *ExperimentChange) []string {
	var what []string
	if prev.Status != c.Status {
		what = append(what, fmt.Sprintf("status %s → %s", prev.Status, c.Status))
	}
	if prev.SamplingProbability != c.SamplingProbability {
		what = append(what, fmt.Sprintf("sampling probability %s → %s", num(prev.SamplingProbability), num(c.SamplingProbability)))
	}
	if prev.MaxSampleSize != c.MaxSampleSize {
		what = append(what, fmt.Sprintf("cap %d → %d", prev.MaxSampleSize, c.MaxSampleSize))
	}
	if g0, g1 := describeGroups(prev.Groups), describeGroups(c.Groups); g0 != g1 {
		what = append(what, fmt.Sprintf("groups %s → %s", g0, g1))
	}
	if r0, r1 := describeRules(prev.Eligibility), describeRules(c.Eligibility); r0 != r1 {
		what = append(what, fmt.Sprintf("eligibility %s → %s", r0, r1))
	}
	if prev.Layer != c.Layer {
		what = append(what, fmt.Sprintf("layer %q → %q", prev.Layer, c.Layer))
	}
	switch {
	case prev.Winner == c.Winner:
	case c.Winner == "":
		what = append(what, "rollout of "+prev.Winner+" undone")
	case prev.Winner == "":
		what = append(what, "rolled out "+c.Winner+" to every eligible user")
	default:
		what = append(what, fmt.Sprintf("rollout %s → %s", prev.Winner, c.Winner))
	}
	if w0, w1 := when(prev.StartAt), when(c.StartAt); w0 != w1 {
		what = append(what, "start "+w0+" → "+w1)
	}
	if w0, w1 := when(prev.EndAt), when(c.EndAt); w0 != w1 {
		what = append(what, "end "+w0+" → "+w1)
	}
	if len(what) == 0 {
		what = []string{"no change of the configuration (written again, e.g. by a restore)"}
	}
	return what
}

func describeGroups(groups []assign.Group) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = g.Name + " " + num(g.Probability)
	}
	return strings.Join(parts, " / ")
}

func describeRules(rules []assign.Rule) string {
	if len(rules) == 0 {
		return "everyone"
	}
	parts := make([]string, len(rules))
	for i, r := range rules {
		switch {
		case r.In != nil:
			parts[i] = r.Claim + " in " + jsonText(r.In)
		case r.NotEquals != nil:
			parts[i] = r.Claim + " ≠ " + jsonText(r.NotEquals)
		default:
			parts[i] = r.Claim + " = " + jsonText(r.Equals)
		}
	}
	return strings.Join(parts, " and ")
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// when is a schedule bound in words: its UTC time, or "none".
func when(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
