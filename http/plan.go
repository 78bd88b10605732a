package http

import (
	"math"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// RoutePlan is GET /api/plan (admin): the sample an experiment needs.
const RoutePlan = "plan"

// planParams are the query parameters of GET /api/plan, each a field of
// stats.PlanInput of the same name.
var planParams = []string{"outcome", "baseline", "sd", "effect", "relative", "alpha", "power",
	"groups", "probabilities", "sampling_probability", "maximum_sample_size", "method"}

// handlePlan serves GET /api/plan: stats.MakePlan of the query's
// parameters, as `assignctl plan` prints it. Pure computation, no store.
//
//	GET /api/plan?baseline=0.11&effect=0.2&relative=true&sampling_probability=0.9
//	GET /api/plan?outcome=numeric&baseline=6.5&sd=20&maximum_sample_size=3000
//	GET /api/plan?baseline=0.1&effect=0.02&probabilities=0.2,0.4,0.4
//	GET /api/plan?baseline=0.105&effect=0.035&method=sequential
//
// outcome is binary (baseline: the control's rate) unless sd is given or
// outcome=numeric (baseline: the control's mean). effect is absolute unless
// relative=true. probabilities (comma-separated, the control first) or
// groups (equal groups; default 2). alpha 0.05 and power 0.8 by default.
// method is fixed (the default) or sequential (the mSPRT tuned for the
// plan's total; the answer then carries "sequential", the comparison with
// the fixed-horizon plan).
// Any other parameter, a value that is not a number or one MakePlan refuses
// is a 400 naming the parameter in "field".
func (s *Server) handlePlan(ctx *fasthttp.RequestCtx) {
	const route = RoutePlan
	if _, ok := s.admin(ctx, route); !ok {
		return
	}
	in, err := parsePlanQuery(ctx.QueryArgs())
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	p, err := stats.MakePlan(in)
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	s.writeJSON(ctx, route, fasthttp.StatusOK, p)
}

// parsePlanQuery reads the query into a PlanInput. Errors are EINVALID
// naming the parameter.
func parsePlanQuery(args *fasthttp.Args) (stats.PlanInput, error) {
	var in stats.PlanInput
	var err error
	args.VisitAll(func(k, v []byte) {
		if err != nil {
			return
		}
		key := string(k)
		known := false
		for _, p := range planParams {
			known = known || p == key
		}
		if !known {
			err = assign.Invalidf(key, "unknown parameter %q; known: %s", key, strings.Join(planParams, ", "))
		} else if len(args.PeekMulti(key)) > 1 {
			err = assign.Invalidf(key, "parameter %q given twice", key)
		}
	})
	if err != nil {
		return in, err
	}
	num := func(name string) float64 {
		v := args.Peek(name)
		if err != nil || len(v) == 0 {
			return 0
		}
		f, perr := strconv.ParseFloat(string(v), 64)
		if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			err = assign.Invalidf(name, "%s must be a number, got %q", name, v)
		}
		return f
	}
	in.Outcome = string(args.Peek("outcome"))
	in.Method = string(args.Peek("method"))
	in.Baseline = num("baseline")
	in.SD = num("sd")
	in.Effect = num("effect")
	in.Alpha = num("alpha")
	in.Power = num("power")
	in.SamplingProbability = num("sampling_probability")
	if err != nil {
		return in, err
	}
	// 0 means "the default" in PlanInput; given explicitly, it is wrong.
	for name, v := range map[string]float64{"alpha": in.Alpha, "power": in.Power, "sampling_probability": in.SamplingProbability} {
		if args.Has(name) && v == 0 {
			return in, assign.Invalidf(name, "%s must be above 0", name)
		}
	}
	if in.Outcome == "" {
		in.Outcome = stats.OutcomeBinary
		if args.Has("sd") {
			in.Outcome = stats.OutcomeNumeric
		}
	}
	if v := args.Peek("relative"); len(v) > 0 {
		b, perr := strconv.ParseBool(string(v))
		if perr != nil {
			return in, assign.Invalidf("relative", "relative must be true or false, got %q", v)
		}
		in.Relative = b
	}
	if v := args.Peek("groups"); len(v) > 0 {
		n, perr := strconv.Atoi(string(v))
		if perr != nil {
			return in, assign.Invalidf("groups", "groups must be an integer, got %q", v)
		}
		in.Groups = n
	}
	if v := args.Peek("maximum_sample_size"); len(v) > 0 {
		n, perr := strconv.ParseInt(string(v), 10, 64)
		if perr != nil {
			return in, assign.Invalidf("maximum_sample_size", "maximum_sample_size must be an integer, got %q", v)
		}
		in.MaximumSampleSize = n
	}
	if v := args.Peek("probabilities"); len(v) > 0 {
		for i, part := range strings.Split(string(v), ",") {
			f, perr := strconv.ParseFloat(strings.TrimSpace(part), 64)
			if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return in, assign.Invalidf("probabilities", "probabilities[%d] must be a number, got %q", i, part)
			}
			in.Probabilities = append(in.Probabilities, f)
		}
	}
	return in, nil
}
