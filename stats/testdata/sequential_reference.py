# Reference values of the always-valid p-value and confidence sequence of the
# normal-mixture mSPRT (stats/sequential.go, TestSequential_References),
# written from the papers, not from the Go code, at 40 digits:
#   Johari, Koomen, Pekelis, Walsh, "Always Valid Inference: Continuous
#   Monitoring of A/B Tests", Operations Research 70(3), 2022: the mixture
#   likelihood ratio of N(theta, V) data against H0 theta = 0 under the
#   mixture theta ~ N(0, tau^2) is the integral below (computed by
#   quadrature, not by its closed form), p = min(1, 1/Lambda);
#   the confidence sequence {theta0 : Lambda(theta0) < 1/alpha}, found by
#   root finding on the same integral.
#   Howard, Ramdas, McAuliffe, Sekhon, Annals of Statistics 49(2), 2021:
#   tau^2 = s^2 rho^2, rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / N.
# Run: python3 stats/testdata/sequential_reference.py
from mpmath import mp, mpf, sqrt, exp, log, quad, npdf, inf, findroot
mp.dps = 40

def lam(d, V, tau2, theta0=0):
    # integral of N(d; theta, V) dN(theta; theta0, tau2) / N(d; theta0, V)
    f = lambda t: npdf(d, t, sqrt(V)) * npdf(t, theta0, sqrt(tau2))
    s = sqrt(tau2)
    return quad(f, [theta0 - 40*s, d - 10*sqrt(V), d, d + 10*sqrt(V), theta0 + 40*s]) / npdf(d, theta0, sqrt(V))

def case(name, d, V, n, horizon, level):
    alpha = 1 - mpf(level)
    l = -2*log(alpha)
    tau2 = V*n*(l + log(l+1))/horizon
    L = lam(d, V, tau2)
    p = min(mpf(1), 1/L)
    g = lambda t0: log(lam(d, V, tau2, t0)) - log(1/alpha)
    w0 = 3*sqrt(V)
    lo = findroot(g, d - w0)
    hi = findroot(g, d + w0)
    print(f"{name}: tau2={mp.nstr(tau2, 20)} p={mp.nstr(p, 20)} lower={mp.nstr(lo, 20)} upper={mp.nstr(hi, 20)}")

# binary: control 100/1000, treatment 130/1000 (unpooled variance), N = 10000, 95%
p1, p2 = mpf(100)/1000, mpf(130)/1000
case("binary1", p2-p1, p1*(1-p1)/1000 + p2*(1-p2)/1000, 2000, 10000, '0.95')
# binary: control 500/5000, treatment 560/5000, N = 20000, 90%
p1, p2 = mpf(500)/5000, mpf(560)/5000
case("binary2", p2-p1, p1*(1-p1)/5000 + p2*(1-p2)/5000, 10000, 20000, '0.90')
# numeric: control n=400 mean 10 M2 39900, treatment n=420 mean 12.5 M2 46000,
# pooled variance, N = 2000, 95%
sp2 = (mpf(39900) + 46000)/(400 + 420 - 2)
case("numeric", mpf('2.5'), sp2*(mpf(1)/400 + mpf(1)/420), 820, 2000, '0.95')
