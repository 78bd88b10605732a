package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Report is what a run measured. Rates are per second of the whole run.
type Report struct {
	Target      string  `json:"target"`
	Mode        string  `json:"mode"` // "closed" (max throughput) or "open" (fixed rate)
	Connections int     `json:"connections"`
	TargetRate  float64 `json:"target_rate,omitempty"`
	Experiments int     `json:"experiments"`
	Users       int     `json:"users"`
	Returning   float64 `json:"returning_fraction"`

	Elapsed     float64          `json:"elapsed_s"`
	Sent        int64            `json:"sent"`
	OK          int64            `json:"ok"`     // answered with a decision
	Failed      int64            `json:"failed"` // every other request, by kind in Errors
	Errors      map[string]int64 `json:"errors"`
	Dropped     int64            `json:"dropped,omitempty"` // open loop: scheduled but never sent (the generator fell too far behind)
	Interrupted bool             `json:"interrupted,omitempty"`
	Rate        float64          `json:"rate"`    // answers (ok + failed) per second
	OKRate      float64          `json:"ok_rate"` // decisions per second

	// Latency of the decisions: from the intended send time in an open loop
	// (queueing included), from the send in a closed loop.
	Latency LatencySummary `json:"latency"`
	// Service is the open loop's latency from the actual send.
	Service *LatencySummary `json:"service_time,omitempty"`

	Decisions         map[string]int64 `json:"decisions"`        // enrolled, not_sampled, sample_full, ...
	Groups            map[string]int64 `json:"groups,omitempty"` // enrolled answers by group name
	NewRequests       int64            `json:"new_requests"`     // decisions for users on their first request
	ReturningRequests int64            `json:"returning_requests"`
	NewUsers          int64            `json:"new_users"`         // distinct users handed out
	Answered          int64            `json:"answered_users"`    // users with a first answer
	Sticky            int64            `json:"sticky_violations"` // answers that differ from the user's first
	Timeline          []int64          `json:"answers_per_second,omitempty"`
	GeneratorCPU      float64          `json:"generator_cpu_s"` // CPU time (user + system) this process spent during the run
	CPU               *CPUUsage        `json:"cpu,omitempty"`
	RedisCommands     *RedisCommands   `json:"redis_commands,omitempty"` // with RunConfig.RedisCommands
	Examples          []string         `json:"examples,omitempty"`

	Verify *Verification `json:"verify,omitempty"`
	Memory *RedisMemory  `json:"redis_memory,omitempty"`
}

// Correct reports whether the run and its verification found nothing wrong
// with the target's answers: no stickiness violation and, when verified,
// every invariant held. Errors such as 503 are not failures of correctness.
func (r *Report) Correct() bool {
	return r.Sticky == 0 && (r.Verify == nil || r.Verify.OK)
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	mode := fmt.Sprintf("closed loop, %d connections", r.Connections)
	if r.Mode == "open" {
		mode = fmt.Sprintf("open loop at %.0f/s, %d connections", r.TargetRate, r.Connections)
	}
	fmt.Fprintf(&b, "target      %s (%s)\n", r.Target, mode)
	fmt.Fprintf(&b, "population  %d experiments, %d users, %.0f%% of requests from returning users\n",
		r.Experiments, r.Users, 100*r.Returning)
	fmt.Fprintf(&b, "run         %.2fs, %d sent, %d decisions, %d failed", r.Elapsed, r.Sent, r.OK, r.Failed)
	if r.Dropped > 0 {
		fmt.Fprintf(&b, ", %d dropped (generator behind schedule)", r.Dropped)
	}
	if r.Interrupted {
		b.WriteString(", INTERRUPTED")
	}
	fmt.Fprintf(&b, "\nrate        %.0f answers/s, %.0f decisions/s; the generator used %.2f CPU-seconds (%.0f%% of one core)\n",
		r.Rate, r.OKRate, r.GeneratorCPU, 100*r.GeneratorCPU/r.Elapsed)
	if len(r.Errors) > 0 {
		b.WriteString("errors     ")
		for _, k := range sortedKeys(r.Errors) {
			fmt.Fprintf(&b, " %s=%d", k, r.Errors[k])
		}
		b.WriteString("\n")
	}
	writeLatency(&b, "latency    ", r.Latency)
	if r.Service != nil {
		writeLatency(&b, "service    ", *r.Service)
	}
	b.WriteString("decisions  ")
	for _, k := range sortedKeys(r.Decisions) {
		fmt.Fprintf(&b, " %s=%d", k, r.Decisions[k])
	}
	fmt.Fprintf(&b, " (new %d, returning %d)\n", r.NewRequests, r.ReturningRequests)
	if len(r.Groups) > 0 {
		b.WriteString("groups     ")
		for _, k := range sortedKeys(r.Groups) {
			fmt.Fprintf(&b, " %s=%d", k, r.Groups[k])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "users       %d new, %d with an answer; stickiness violations %d\n", r.NewUsers, r.Answered, r.Sticky)
	if c := r.CPU; c != nil && c.Wall > 0 {
		fmt.Fprintf(&b, "cpu         machine %.2f of %.0f cores busy;", c.Busy/c.Wall, c.Cores)
		for _, k := range sortedKeys(floatsAsInts(c.Processes)) {
			fmt.Fprintf(&b, " %s %.2f", k, c.Processes[k]/c.Wall)
		}
		b.WriteString("\n")
	}
	if c := r.RedisCommands; c != nil {
		fmt.Fprintf(&b, "redis       %d commands processed during the run, %.0f/s (those inside scripts included); %d script calls, %.0f/s\n",
			c.After-c.Before, c.PerSecond, c.ScriptCalls, c.ScriptCallsPerSecond)
	}
	if r.Verify != nil {
		r.Verify.writeText(&b)
	}
	if m := r.Memory; m != nil {
		fmt.Fprintf(&b, "memory      %d members: %.1f bytes each in member buckets, %.1f with their stream entries (%d buckets, %d B; streams %d B; configs %d B)\n",
			m.Members, m.PerMember, m.PerMemberWithStream, m.Buckets, m.MemberBytes, m.StreamBytes, m.ConfigBytes)
	}
	for _, e := range r.Examples {
		fmt.Fprintf(&b, "  ! %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLatency(b *strings.Builder, label string, l LatencySummary) {
	fmt.Fprintf(b, "%s p50 %.3fms  p90 %.3fms  p99 %.3fms  p99.9 %.3fms  max %.3fms  (mean %.3fms, n=%d)\n",
		label, l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean, l.Count)
}

func floatsAsInts(m map[string]float64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k := range m {
		out[k] = 0
	}
	return out
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
