"""Where two quadratic Bézier pieces meet, and how that point moves with their control points.

A quadratic a-b-c lies on the parabola ``L1(X)^2 = 4 L0(X) L2(X)``, where L0, L1, L2 are its
triangle's barycentric coordinates of X times the triangle's doubled area (affine in X:
the curve's point at s has barycentric coordinates (1-s)^2, 2s(1-s), s^2), or, where its
control points are collinear, on its line. Putting the other piece's point at t into that
gives a quartic (a quadratic) in t, whose roots in [0, 1] are found by sign changes at
SAMPLES steps and bisection, each checked to lie on the curve's own [0, 1] and polished by
Newton steps on the pair of equations. Two roots closer than 1/SAMPLES of the piece (a
grazing meeting) can be missed: the lens between them is a hair thin. Where an end of one
piece lies on the other is checked apart (the quartic has a root there that rounding may
put either side of the end).
"""

import taichi as ti

SAMPLES = 32  # sign changes looked for at this many steps of [0, 1]
BISECTIONS = 40  # halvings of a step: 2^-45 of the piece
MEETINGS = 8  # at most 4 crossings of two quadratics and 4 ends of one on the other


@ti.func
def _cross(u, v):
    return u[0] * v[1] - u[1] * v[0]


@ti.func
def _rot(v):
    """The vector g with g . X = cross(X, v)."""
    return ti.Vector([v[1], -v[0]])


@ti.func
def _affine_on(g, h, a, along, bend):
    """Coefficients (1, t, t^2) of g . P(t) + h for P(t) = a + 2 along t + bend t^2."""
    return ti.Vector([g.dot(a) + h, 2.0 * g.dot(along), g.dot(bend)])


@ti.func
def _times(u, v):
    """The product of two quadratics given by coefficients (1, t, t^2): a quartic (5)."""
    return ti.Vector([u[0] * v[0], u[0] * v[1] + u[1] * v[0], u[0] * v[2] + u[1] * v[1] + u[2] * v[0],
                      u[1] * v[2] + u[2] * v[1], u[2] * v[2]])  # fmt: skip


@ti.func
def _straight(a, b, c):
    """Whether the quadratic's control points are (nearly) collinear: its parabola is then
    too thin to stand for it, and its line does."""
    return ti.abs(_cross(b - a, c - a)) <= 1e-6 * ((b - a).norm_sqr() + (c - b).norm_sqr())


@ti.func
def _implicit_on(a, b, c, a2, b2, c2):
    """The quartic (coefficients of 1 .. t^4) that vanishes where the quadratic a-b-c meets
    the parabola (or line, where :func:`_straight`) of a2-b2-c2."""
    along, bend = b - a, (a + c) - 2.0 * b
    quartic = ti.Vector([0.0] * 5) + 0.0 * a[0]
    if _straight(a2, b2, c2):
        direction = c2 - a2 if (c2 - a2).norm_sqr() > 0.0 else b2 - a2
        line = _affine_on(_rot(direction), -_cross(a2, direction), a, along, bend)  # cross(X - a2, direction)
        quartic[0], quartic[1], quartic[2] = line[0], line[1], line[2]
    else:
        l0 = _affine_on(_rot(b2 - c2), _cross(b2, c2), a, along, bend)
        l1 = _affine_on(_rot(c2 - a2), _cross(c2, a2), a, along, bend)
        l2 = _affine_on(_rot(a2 - b2), _cross(a2, b2), a, along, bend)
        quartic = _times(l1, l1) - 4.0 * _times(l0, l2)
    return quartic


@ti.func
def _value(quartic, t):
    return (((quartic[4] * t + quartic[3]) * t + quartic[2]) * t + quartic[1]) * t + quartic[0]


@ti.func
def _parameter_on(point, a, b, c):
    """The parameter s of a point of the parabola of the quadratic a-b-c (of its line, where
    it is straight): with barycentric coordinates (1-s)^2, 2s(1-s), s^2, s = L1 / 2 + L2."""
    s = 0.0 * point[0]
    if _straight(a, b, c):
        chord = c - a
        s = (point - a).dot(chord) / ti.max(chord.norm_sqr(), 1e-30)
    else:
        l1, l2 = _cross(c - point, a - point), _cross(a - point, b - point)
        s = (0.5 * l1 + l2) / _cross(b - a, c - a)
    return s


@ti.func
def _point(a, b, c, t):
    return a + (2.0 * (b - a) + ((a + c) - 2.0 * b) * t) * t


@ti.func
def tangent(a, b, c, t):
    """B'(t) of the quadratic a-b-c."""
    return 2.0 * ((b - a) + ((a + c) - 2.0 * b) * t)


@ti.func
def _polish(a, b, c, a2, b2, c2, t, s):
    """Three Newton steps on P(t) = Q(s), staying in [0, 1]^2."""
    for _ in range(3):  # not unrolled: the step compiles once
        gap = _point(a, b, c, t) - _point(a2, b2, c2, s)
        d_t, d_s = tangent(a, b, c, t), tangent(a2, b2, c2, s)
        det = _cross(d_s, d_t)  # of [d_t, -d_s]
        if det != 0.0:
            t = ti.math.clamp(t - (-d_s[1] * gap[0] + d_s[0] * gap[1]) / det, 0.0, 1.0)
            s = ti.math.clamp(s - (-d_t[1] * gap[0] + d_t[0] * gap[1]) / det, 0.0, 1.0)
    return t, s


@ti.func
def meetings(a, b, c, a2, b2, c2, tolerance):
    """Up to MEETINGS points where the quadratics P = a-b-c and Q = a2-b2-c2 meet: where they
    cross, and where an end of one lies on the other; their parameters t (on P) and s (on
    Q), and how many. A candidate whose two points lie more than ``tolerance`` apart after
    polishing is none."""
    quartic = _implicit_on(a, b, c, a2, b2, c2)
    ts, ss = ti.Vector([0.0] * MEETINGS) + 0.0 * a[0], ti.Vector([0.0] * MEETINGS) + 0.0 * a[0]
    found = 0
    low_value = _value(quartic, 0.0 * a[0])
    for k in range(SAMPLES + 4):  # the steps of [0, 1], then the four ends
        t, s, candidate = 0.0 * a[0], 0.0 * a[0], False
        if k < SAMPLES:
            low, high = ti.cast(k, a.element_type()) / SAMPLES, ti.cast(k + 1, a.element_type()) / SAMPLES
            high_value = _value(quartic, high)
            if low_value * high_value < 0.0:
                for _ in range(BISECTIONS):
                    middle = 0.5 * (low + high)
                    if (_value(quartic, middle) < 0.0) == (low_value < 0.0):
                        low = middle
                    else:
                        high = middle
                t = 0.5 * (low + high)
                s = _parameter_on(_point(a, b, c, t), a2, b2, c2)
                if -0.01 <= s <= 1.01:
                    t, s = _polish(a, b, c, a2, b2, c2, t, ti.math.clamp(s, 0.0, 1.0))
                    candidate = True
            low_value = high_value
        else:  # an end of P on Q, or of Q on P
            end = ti.cast((k - SAMPLES) % 2, a.element_type())
            if k - SAMPLES < 2:
                t, s = end, _parameter_on(_point(a, b, c, end), a2, b2, c2)
            else:
                t, s = _parameter_on(_point(a2, b2, c2, end), a, b, c), end
            candidate = True
        close = (_point(a, b, c, t) - _point(a2, b2, c2, s)).norm() <= tolerance
        if candidate and close and found < MEETINGS and 0.0 <= s <= 1.0 and 0.0 <= t <= 1.0:
            ts[found], ss[found] = t, s
            found += 1
    return ts, ss, found


@ti.func
def meeting_grad(a, b, c, a2, b2, c2, t, s, away):
    """How the meeting point X = P(t) = Q(s) of two quadratics moves: the gradients of
    ``away . X`` (``away`` a fixed vector) with respect to P's control points and Q's, as the
    Bernstein weights at t (at s) times a vector each: X moves with P along Q's tangent and
    with Q along P's, by the implicit function theorem on P(t) - Q(s) = 0."""
    d_t, d_s = tangent(a, b, c, t), tangent(a2, b2, c2, s)
    det = _cross(d_s, d_t)
    row = ti.Vector([-d_s[1], d_s[0]]) / ti.select(det != 0.0, det, 1.0)  # dt = row . (dQ - dP)
    along = away.dot(d_t) * row
    if det == 0.0:
        along *= 0.0
    return away - along, along
