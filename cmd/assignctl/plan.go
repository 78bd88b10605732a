package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/assign-dev/assign/stats"
)

// PlanCommand computes the users an experiment needs to detect an effect,
// or the effect a given cap can detect. Pure computation: it talks to
// neither assignd nor the warehouse.
type PlanCommand struct {
	*Main
	Globals
	in             stats.PlanInput
	mean           float64
	baseline       string
	effect         string
	relative       string
	groups         multiFlag
	names          []string
	nGroups        int
	outcomeNumeric bool
}

func (c *PlanCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("plan", &c.Globals, c.Main)
	fs.StringVar(&c.baseline, "baseline", "", "binary outcome: the control's conversion `rate`, 0.11 or 11%")
	fs.Float64Var(&c.mean, "mean", 0, "numeric outcome: the control's `mean` (needed for a relative effect)")
	fs.Float64Var(&c.in.SD, "sd", 0, "numeric outcome: the standard deviation per user (makes the outcome numeric)")
	fs.StringVar(&c.effect, "effect", "", "minimum detectable effect, absolute: a rate difference (0.02 or 2pp) or a difference of means")
	fs.StringVar(&c.relative, "relative-effect", "", "minimum detectable effect relative to the baseline: 0.1 or 10%")
	fs.Float64Var(&c.in.Alpha, "alpha", stats.DefaultAlpha, "two-sided significance `level` of the experiment (divided among the comparisons)")
	fs.Float64Var(&c.in.Power, "power", stats.DefaultPower, "the `power` wanted for each comparison")
	fs.IntVar(&c.nGroups, "groups", 0, "`number` of equal groups, the control included (default 2)")
	fs.Var(&c.groups, "group", "group `name=probability`, repeated, the control first (unequal allocation; instead of --groups)")
	fs.Float64Var(&c.in.SamplingProbability, "sampling", 1, "the experiment's sampling `probability`: users who must reach the screen = enrolled / sampling")
	fs.Int64Var(&c.in.MaximumSampleSize, "max", 0, "the reverse: the effect detectable with this maximum sample size (enrolled `users`)")
	fs.StringVar(&c.in.Method, "method", stats.MethodFixed, "the `test` planned for: fixed (the fixed-horizon test) or sequential (the mSPRT results runs while the experiment runs)")
	return fs
}

// ParseFlags implements Command.
func (c *PlanCommand) ParseFlags(args []string) error {
	args, err := parse(c.flagSet(), args)
	if err != nil {
		return err
	} else if err := exactArgs(args); err != nil {
		return err
	}
	// 0 means "the default" to stats.MakePlan; given, it is wrong.
	switch {
	case c.in.Alpha == 0:
		return usageErrorf("--alpha must be in (0, 1), e.g. 0.05")
	case c.in.Power == 0:
		return usageErrorf("--power must be in (0, 1), e.g. 0.8")
	case c.in.SamplingProbability == 0:
		return usageErrorf("--sampling must be in (0, 1]")
	case c.in.Method != stats.MethodFixed && c.in.Method != stats.MethodSequential:
		return usageErrorf("--method must be fixed or sequential, got %q", c.in.Method)
	}
	c.outcomeNumeric = c.in.SD != 0
	if c.outcomeNumeric {
		if c.baseline != "" {
			return usageErrorf("--baseline is a rate (binary outcome); for a numeric one give --mean and --sd")
		}
		c.in.Outcome, c.in.Baseline = stats.OutcomeNumeric, c.mean
	} else {
		if c.mean != 0 {
			return usageErrorf("--mean needs --sd (numeric outcome)")
		}
		if c.baseline == "" {
			return usageErrorf("give --baseline (a conversion rate), or --mean and --sd (a numeric outcome)")
		}
		c.in.Outcome = stats.OutcomeBinary
		if c.in.Baseline, err = parseAmount("--baseline", c.baseline, "%"); err != nil {
			return err
		}
	}
	switch {
	case c.effect != "" && c.relative != "":
		return usageErrorf("give --effect or --relative-effect, not both")
	case c.effect != "":
		suffix := "pp"
		if c.outcomeNumeric {
			suffix = ""
		}
		if c.in.Effect, err = parseAmount("--effect", c.effect, suffix); err != nil {
			return err
		}
	case c.relative != "":
		c.in.Relative = true
		if c.in.Effect, err = parseAmount("--relative-effect", c.relative, "%"); err != nil {
			return err
		}
	case c.in.MaximumSampleSize == 0:
		return usageErrorf("give --effect or --relative-effect (the users needed), or --max (the effect detectable)")
	}
	if len(c.groups) > 0 {
		if c.nGroups != 0 {
			return usageErrorf("give --groups or --group, not both")
		}
		groups, err := parseGroups(c.groups)
		if err != nil {
			return err
		}
		for _, g := range groups {
			c.names = append(c.names, g.Name)
			c.in.Probabilities = append(c.in.Probabilities, g.Probability)
		}
	} else {
		c.in.Groups = c.nGroups
	}
	return nil
}

// parseAmount reads a number, or one with the suffix ("%" or "pp"), which
// means hundredths.
func parseAmount(flagName, s, suffix string) (float64, error) {
	t, scale := strings.TrimSpace(s), 1.0
	if suffix != "" {
		if v, ok := strings.CutSuffix(t, suffix); ok {
			t, scale = strings.TrimSpace(v), 0.01
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, usageErrorf("%s %q is not a number", flagName, s)
	}
	return f * scale, nil
}

// planOutput is the JSON of a plan: the stats.Plan with the group names.
type planOutput struct {
	*stats.Plan
	Groups []planGroupOutput `json:"groups"`
}

type planGroupOutput struct {
	Name string `json:"name"`
	stats.PlanGroup
}

// Run implements Command.
func (c *PlanCommand) Run(ctx context.Context) error {
	format, err := c.format(c.Main)
	if err != nil {
		return err
	}
	p, err := stats.MakePlan(c.in)
	if err != nil {
		return err
	}
	out := planOutput{Plan: p}
	for i, g := range p.Groups {
		name := "control"
		if i < len(c.names) {
			name = c.names[i]
		} else if i > 0 {
			name = fmt.Sprintf("treatment %d", i)
		}
		out.Groups = append(out.Groups, planGroupOutput{Name: name, PlanGroup: g})
	}
	switch format {
	case OutputJSON:
		return writeJSON(c.Stdout, out)
	case OutputCSV:
		var rows [][]string
		method := stats.MethodFixed
		if p.Sequential != nil {
			method = stats.MethodSequential
		}
		for _, g := range out.Groups {
			rows = append(rows, []string{g.Name, fullFloat(g.Probability), strconv.FormatInt(g.Users, 10), strconv.FormatInt(g.BeforeSampling, 10),
				fullFloat(float64(p.Effect)), fullFloat(float64(p.RelativeEffect)), strconv.FormatInt(p.Total, 10), strconv.FormatInt(p.TotalBeforeSampling, 10), method})
		}
		return writeCSV(c.Stdout, []string{"group", "probability", "users", "before_sampling", "effect", "relative_effect", "total", "total_before_sampling", "method"}, rows)
	}
	return writePlanTable(c.Stdout, out)
}

func writePlanTable(w io.Writer, out planOutput) error {
	p := out.Plan
	binary := p.Outcome == stats.OutcomeBinary
	seq := p.Sequential
	fmt.Fprintf(w, "Method:   %s\n", p.Method)
	level := "alpha " + strconv.FormatFloat(p.Alpha, 'g', 6, 64) + " (two-sided)"
	if len(p.Groups) > 2 {
		level += fmt.Sprintf(", %s per comparison (%d comparisons with the control, Bonferroni)", strconv.FormatFloat(p.ComparisonAlpha, 'g', 6, 64), len(p.Groups)-1)
	}
	atTotal := ""
	if seq != nil {
		atTotal = " at the total"
	}
	fmt.Fprintf(w, "Level:    %s, power %s%%%s\n", level, strconv.FormatFloat(p.Power*100, 'g', 6, 64), atTotal)
	var effect string
	if binary {
		fmt.Fprintf(w, "Baseline: %s conversion rate\n", pct(p.Baseline))
		effect = pp(float64(p.Effect)) + " pp"
		if p.RelativeEffect.Valid() {
			effect += " (" + signedPct(float64(p.RelativeEffect)) + "), to " + pct(float64(p.Target))
		}
	} else {
		fmt.Fprintf(w, "Baseline: mean %s, sd %s per user\n", sig(p.Baseline), sig(float64(p.SD)))
		effect = signedSig(float64(p.Effect))
		if p.RelativeEffect.Valid() {
			effect += " (" + signedPct(float64(p.RelativeEffect)) + "), to " + sig(float64(p.Target))
		}
	}
	if !p.Effect.Valid() {
		effect = "none: too few users for this power"
	}
	switch {
	case p.Reverse && seq != nil:
		fixedEffect := signedSig(float64(seq.FixedEffect))
		if binary {
			fixedEffect = pp(float64(seq.FixedEffect)) + " pp"
		}
		fmt.Fprintf(w, "Effect:   %s, the smallest the sequential test detects with %d users", effect, p.Total)
		if seq.Ratio.Valid() {
			fmt.Fprintf(w, " (%s× the fixed-horizon test's %s)", fixed(float64(seq.Ratio), 2), fixedEffect)
		}
		fmt.Fprintln(w)
	case p.Reverse:
		fmt.Fprintf(w, "Effect:   %s, the smallest detectable with %d users\n", effect, p.Total)
	default:
		fmt.Fprintf(w, "Effect:   %s (minimum detectable)\n", effect)
	}
	fmt.Fprintln(w)
	t := newTable(w)
	fmt.Fprintln(t, "GROUP\tPROBABILITY\tUSERS\tBEFORE SAMPLING")
	for _, g := range out.Groups {
		fmt.Fprintf(t, "%s\t%s\t%d\t%d\n", termText(g.Name), fullFloat(g.Probability), g.Users, g.BeforeSampling)
	}
	fmt.Fprintf(t, "TOTAL\t\t%d\t%d\n", p.Total, p.TotalBeforeSampling)
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if p.Reverse {
		fmt.Fprintf(w, "With a maximum sample size of %d", p.Total)
	} else {
		fmt.Fprintf(w, "Set the maximum sample size to %d (assignctl create --max %d)", p.Total, p.Total)
	}
	if p.SamplingProbability < 1 {
		fmt.Fprintf(w, "; with sampling %s, %d eligible users must reach the screen", fullFloat(p.SamplingProbability), p.TotalBeforeSampling)
	}
	fmt.Fprintln(w, ".")
	if seq != nil && !p.Reverse {
		fmt.Fprintf(w, "The sequential test needs %s× the fixed-horizon sample (%d users) for the freedom to look at any time; results tunes it for the cap, so set the cap to this total.\n",
			fixed(float64(seq.Ratio), 2), seq.FixedTotal)
	}
	return nil
}

// Usage implements Command.
func (c *PlanCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl plan --baseline RATE (--effect D | --relative-effect R | --max N) [flags]
       assignctl plan --mean M --sd SD (--effect D | --relative-effect R | --max N) [flags]

Plans an experiment's sample: the users needed per group and in total to
detect a minimum effect with the given power, enrolled (the maximum sample
size to set) and before sampling (enrolled / sampling probability: the
eligible users who must reach the screen); or, with --max, the smallest
effect that many users detect. Every count is rounded up.

A binary outcome (--baseline, the control's conversion rate) is planned for
the two-proportion z-test that results runs (pooled under H0, Fleiss; R's
power.prop.test with equal groups); a numeric one (--mean, --sd) for the
two-sample t-test (noncentral t; R's power.t.test, statsmodels'
TTestIndPower with unequal groups). With more than two groups every group is
compared with the control (the first) at alpha / (groups - 1), the first
step of results' Holm correction, and the total is what the hardest
comparison needs.

--method sequential plans for the sequential test (mSPRT) that results
runs while the experiment runs: the total at which that test, its mixture
tuned for that very total (results tunes it for the cap), has the power at
the total; with --max, the effect it detects at that cap. The output says
how much more than the fixed-horizon plan that is. The default stays
fixed: the fixed-horizon plan is what the cap must hold at least, for the
one look at the end; the sequential test needs more users for the freedom
to look at any time and stop early.

Examples:

	assignctl plan --baseline 11% --relative-effect 20% --sampling 0.9
	assignctl plan --baseline 0.11 --effect 2pp --group old_journey=0.5 --group new_journey=0.5
	assignctl plan --mean 6.5 --sd 20 --max 3000
	assignctl plan --baseline 10.5% --effect 3.5pp --sampling 0.9 --method sequential

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}
