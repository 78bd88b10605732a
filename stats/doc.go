// Package stats computes the results of an experiment: per-group summaries,
// comparisons of every group against a control (difference and relative lift
// with confidence intervals, two-proportion z-test or Welch t-test, Holm
// correction) and a sample-ratio-mismatch check of the group sizes.
//
// It is pure computation: no I/O, no clock, no randomness. The caller (the
// warehouse adapter behind `assignctl results`) aggregates the outcome per
// group, fills an Input and renders the Report, which marshals to JSON as is.
//
// Methods, so that every number can be checked against a textbook:
//
//   - Binary outcome, difference of rates: Wald interval with the unpooled
//     standard error sqrt(p1(1-p1)/n1 + p2(1-p2)/n2), as R's
//     prop.test(correct = FALSE) prints it.
//   - Binary outcome, p-value: two-sided two-proportion z-test with the pooled
//     standard error; z² equals the X-squared of prop.test(correct = FALSE).
//     When an expected cell count of the 2×2 table is below 5 (Cochran's
//     rule) the normal approximation does not hold: two-sided Fisher's exact
//     test instead, as R's fisher.test (FisherExact), named in Test, the
//     verdict and Note.
//   - Binary outcome, relative lift p2/p1 - 1: the delta method on the log of
//     the risk ratio (Katz et al., 1978), se = sqrt(1/x2 - 1/n2 + 1/x1 - 1/n1),
//     interval exp(log(p2/p1) ± z·se) - 1.
//   - Numeric outcome: Welch's t-test and interval with the Welch–Satterthwaite
//     degrees of freedom, as R's t.test(var.equal = FALSE); relative lift
//     m2/m1 - 1 (only for a positive control mean) with Fieller's (1954)
//     interval for the ratio of two independent means, with the same t
//     quantile, so that it excludes 0 exactly when Welch's p < α; undefined
//     (NoteRatioUnbounded) when the control mean is not distinguishable
//     from 0. coverage_test.go measures every printed interval on
//     revenue-like data.
//   - Multiplicity: Holm (1979) step-down adjusted p-values, as R's
//     p.adjust(method = "holm"), applied when there are two or more comparisons.
//     Confidence intervals are not adjusted.
//     BenjaminiHochberg (R's method = "BH", false discovery rate) is
//     available to callers; Analyze does not use it.
//   - Sample ratio mismatch: Pearson's chi-square goodness-of-fit of the group
//     sizes against the configured probabilities, df = k - 1 over the groups
//     with a positive probability, flagged when p < SRMThreshold. When the
//     probabilities changed over time, Input.ExpectedShares gives the expected
//     split instead (package results weighs each period by its enrollments).
//   - Power and sample size (MakePlan, Comparison.DetectableEffect): R's
//     power.prop.test (Fleiss, pooled under H0) and power.t.test (noncentral
//     t) with strict = FALSE, generalised to unequal groups; several
//     treatment groups are planned at alpha/(groups-1). See power.go.
//   - Sequential testing (Input.Method = MethodSequential, Comparison.Sequential,
//     computed for every comparison): the normal-mixture mSPRT of Johari et
//     al., "Always Valid Inference" (Operations Research, 2022), with the
//     mixing variance tuned for the planned sample (Howard et al., Annals of
//     Statistics, 2021): an always-valid p-value and confidence sequence on
//     the difference (unpooled variance for rates, pooled for means), valid
//     however often the data are looked at. Holm applies to its p-values
//     too. See sequential.go.
//   - Variance reduction (CUPED, for callers): Deng et al. (WSDM 2013)
//     from per-group moments of the outcome and a pre-enrollment covariate,
//     theta pooled within the groups (the coefficient of x in
//     y ~ group + x); the adjusted summaries go to CompareNumeric. See
//     cuped.go.
//
// A comparison is significant when its (Holm-adjusted) p-value, fixed or
// always-valid according to Input.Method, is below
// 1 - confidence level, and never under a sample ratio mismatch: then every
// verdict starts with "unreliable: sample ratio mismatch" (Unreliable).
// Because the z-test uses the pooled standard error and the interval the
// unpooled one, near the boundary the interval may touch 0 while p < α, or
// the reverse; the verdict follows the p-value.
//
// Undefined numbers (a rate of an empty group, a test without variance) are
// NaN in Go and null in JSON; see Float.
package stats
