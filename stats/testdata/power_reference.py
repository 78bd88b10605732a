from mpmath import mp, mpf, sqrt, quad, ncdf, gamma, exp, log, inf, findroot, erfc
mp.dps = 30
def zq(p):  # normal quantile
    return findroot(lambda z: ncdf(z) - p, 0)
def tq(p, df):
    # Student t quantile via the regularized incomplete beta
    from mpmath import betainc
    def cdf(t):
        x = df/(df+t*t)
        tail = betainc(df/2, mpf(1)/2, 0, x, regularized=True)/2
        return 1-tail if t > 0 else tail
    return findroot(lambda t: cdf(t)-p, 2)
def nct_upper(c, df, ncp):
    # P(T' > c), T' = (Z+ncp)/sqrt(V/df), V ~ chi2(df)
    k = mpf(df)
    f = lambda v: ncdf(ncp - c*sqrt(v/k)) * exp((k/2-1)*log(v) - v/2 - (k/2)*log(2) - mp.loggamma(k/2))
    return quad(f, [0, k/2, k, 2*k, 4*k+50, inf])
def t_power(n1, n2, delta, sd=1, alpha=mpf('0.05')):
    df = n1+n2-2
    ncp = delta/(sd*sqrt(mpf(1)/n1+mpf(1)/n2))
    return nct_upper(tq(1-alpha/2, df), df, ncp)
def p_power(n1, n2, p1, p2, alpha=mpf('0.05')):
    pb = (n1*p1+n2*p2)/(n1+n2)
    return ncdf((abs(p2-p1) - zq(1-alpha/2)*sqrt(pb*(1-pb)*(mpf(1)/n1+mpf(1)/n2)))/sqrt(p1*(1-p1)/n1+p2*(1-p2)/n2))
print("t power n=20 delta=1:", t_power(20, 20, 1))
n = findroot(lambda n: t_power(n, n, 1) - mpf('0.9'), 22)
print("t n power=.9 delta=1:", n)
print("prop power n=50 .5 .75:", p_power(50, 50, mpf('0.5'), mpf('0.75')))
print("prop n power=.9:", findroot(lambda n: p_power(n, n, mpf('0.5'), mpf('0.75')) - mpf('0.9'), 76))
print("prop p2 n=50 power=.9:", findroot(lambda p: p_power(50, 50, mpf('0.5'), p) - mpf('0.9'), mpf('0.8')))
# unequal allocation 1:2 (n2 = 2 n1), baseline 0.1 vs 0.12, power 0.8
print("prop 1:2 n1:", findroot(lambda n: p_power(n, 2*n, mpf('0.1'), mpf('0.12'), ) - mpf('0.8'), 2000))
print("t 1:2 n1 delta=0.5:", findroot(lambda n: t_power(n, 2*n, mpf('0.5')) - mpf('0.8'), 50))
print("t delta n=20 power=.9:", findroot(lambda d: t_power(20, 20, d) - mpf('0.9'), 1))
# MakePlan cases (TestMakePlan)
def bisect(f, lo, hi):
    lo, hi = mpf(lo), mpf(hi)
    for _ in range(120):
        mid = (lo+hi)/2
        if f(mid) < 0: lo = mid
        else: hi = mid
    return (lo+hi)/2
print("3 groups, 0.10 -> 0.12, alpha .05/2, power .8, n per group:", bisect(lambda n: p_power(n, n, mpf('0.1'), mpf('0.12'), mpf('0.025')) - mpf('0.8'), 10, 100000))
print("seed 0.11 +20% relative, 50/50, power .8, n per group:", bisect(lambda n: p_power(n, n, mpf('0.11'), mpf('0.132')) - mpf('0.8'), 10, 100000))
print("cap 3000 50/50 baseline 0.11, power .8: p2 =", bisect(lambda p: p_power(1500, 1500, mpf('0.11'), p) - mpf('0.8'), mpf('0.11'), mpf('0.5')))
print("cap 3000 50/50 sd 20, power .8: delta =", bisect(lambda d: t_power(1500, 1500, d, 20) - mpf('0.8'), mpf('0.001'), 20))
print("cap 3000 20/80 sd 20, power .8: delta =", bisect(lambda d: t_power(600, 2400, d, 20) - mpf('0.8'), mpf('0.001'), 20))
