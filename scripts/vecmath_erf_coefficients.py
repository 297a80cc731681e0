#!/usr/bin/env python3
"""Derives the polynomial coefficients of the vectorised erf in Sources/CBackpropKernels/vecmath_template.h.

Minimax (Remez exchange, absolute error) fits computed with mpmath at 60 digits, then rounded to double:
  |x| < 1:       erf(x) = x + x*R(x^2),       R(z) ~ erf(sqrt z)/sqrt z - 1  on z in [0, 1]
  1 <= |x| < 6:  erf(x) = 1 - exp(-x^2 + U(x)), U(x) ~ log(erfc(x)) + x^2, one polynomial in (x - c) per piece
Prints C initialisers and the error each fit reaches after rounding its coefficients to double.
Run: python3 scripts/vecmath_erf_coefficients.py  (needs mpmath)
"""
from mpmath import mp, mpf, erf, erfc, log, sqrt, matrix, lu_solve, cos, pi

mp.dps = 60


def remez(f, a, b, degree, iterations=12, grid=4000):
    """Coefficients c[0..degree] minimising max |sum c_j t^j - f(t)| on [a, b]."""
    n = degree + 2
    ref = [(a + b) / 2 - (b - a) / 2 * cos(pi * i / (n - 1)) for i in range(n)]
    xs = [a + (b - a) * mpf(i) / grid for i in range(grid + 1)]
    fx = [f(x) for x in xs]
    for _ in range(iterations):
        A = matrix(n, n)
        rhs = matrix(n, 1)
        for i, x in enumerate(ref):
            for j in range(degree + 1):
                A[i, j] = x ** j
            A[i, degree + 1] = (-1) ** i
            rhs[i] = f(x)
        sol = lu_solve(A, rhs)
        c = [sol[j] for j in range(degree + 1)]
        err = [sum(c[j] * x ** j for j in range(degree + 1)) - v for x, v in zip(xs, fx)]
        # New reference: the largest |err| in each run of one sign, keeping n alternating extrema.
        runs = []
        start = 0
        for i in range(1, len(err) + 1):
            if i == len(err) or (err[i] > 0) != (err[start] > 0):
                k = max(range(start, i), key=lambda t: abs(err[t]))
                runs.append(k)
                start = i
        while len(runs) > n:
            # Drop the smaller end.
            if abs(err[runs[0]]) < abs(err[runs[-1]]):
                runs.pop(0)
            else:
                runs.pop()
        if len(runs) < n:
            break
        ref = [xs[k] for k in runs]
    return c


def rounded_error(f, a, b, coefficients, samples=3000):
    cs = [mpf(float(c)) for c in coefficients]
    worst = 0
    for i in range(samples + 1):
        t = a + (b - a) * mpf(i) / samples
        p = mpf(0)
        for c in reversed(cs):
            p = p * t + c
        worst = max(worst, abs(p - f(t)))
    return worst


def show(name, coefficients, error):
    print(f"// {name}: max abs error after rounding 2^{float(log(error, 2)):.1f}")
    print("{" + ", ".join(float(c).hex() for c in coefficients) + "}")


def small(z):
    if z == 0:
        return 2 / sqrt(pi) - 1
    x = sqrt(z)
    return erf(x) / x - 1


c = remez(small, mpf(0), mpf(1), 12)
show("R on z in [0, 1]", c, rounded_error(small, mpf(0), mpf(1), c))

for lo, hi, degree in [(1, 2, 15), (2, mpf(3.5), 15), (mpf(3.5), 6, 15)]:
    centre = (mpf(lo) + hi) / 2
    u = lambda t, centre=centre: log(erfc(t + centre)) + (t + centre) ** 2
    c = remez(u, mpf(lo) - centre, mpf(hi) - centre, degree)
    show(f"U on [{float(lo)}, {float(hi)}] in x - {float(centre)}", c,
         rounded_error(u, mpf(lo) - centre, mpf(hi) - centre, c))
