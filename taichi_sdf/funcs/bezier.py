"""Distances to Bézier curves, and their gradients with respect to the control points.

A quadratic ``B(t) = (1-t)^2 a + 2t(1-t) b + t^2 c`` is nearest to ``p`` where
``(B(t) - p) . B'(t) = 0``, a cubic equation in t, solved in closed form (Cardano's formula,
or its trigonometric form where it has three real roots) and clamped to [0, 1]: exact to
rounding (4e-14 px in float64, 2e-5 px in float32 against a refined numpy minimum). Where
the control points are nearly collinear and evenly spaced the closed form cancels badly, so
t starts instead from the projection onto the chord a-c and two Newton steps make it exact
(so the distance does not jump between the two ways).

By the envelope theorem the gradient only moves the nearest point: d distance / d P_k is
``w_k(t) (B(t) - p) / |B(t) - p|`` with ``w_k`` the Bernstein weights.

A cubic is drawn as CUBIC_PIECES quadratics, each approximating a quarter of it (the
midpoint approximation of each quarter's control points), which lies within
``sqrt(3)/36 |P0 - 3 P1 + 3 P2 - P3| / CUBIC_PIECES^3`` pixels of the cubic.
"""

import math

import numpy as np
import taichi as ti

from taichi_sdf.funcs.sdf import safe_norm

CUBIC_PIECES = 4
STRAIGHT = 1e-4  # |a - 2b + c|^2 below this share of |b - a|^2: start from the chord
SQRT3 = math.sqrt(3.0)


@ti.func
def _cube_root(x):
    """Real cube root of ``x`` (any sign), float32 or float64: a first guess from the bits
    and two Halley steps (see :func:`_positive_cube_root`). About a quarter of the cost of
    ``pow(x, 1/3)``, a library call that took a tenth of a cubic curve's time."""
    size = ti.abs(x)
    root = size
    if ti.static(x.ptr.get_rvalue_type() == ti.f32):
        root = _positive_cube_root(size, ti.f32, ti.i32, 0x2A5137A0)
    else:
        root = _positive_cube_root(size, ti.f64, ti.i64, 0x2A9F7893782DA1CE)
    return ti.math.sign(x) * root if size > 0.0 else 0.0 * x


@ti.func
def _positive_cube_root(x, real: ti.template(), bits: ti.template(), magic: ti.template()):
    """Cube root of ``x > 0``: the exponent divided by three in the bits (the mantissa
    follows linearly; Kahan's constants), within 4 %, then Halley's ``y (y^3 + 2x) /
    (2y^3 + x)`` twice, which cubes the relative error each time (4e-2, 1e-5, rounding)."""
    y = ti.bit_cast(ti.bit_cast(x, bits) // 3 + bits(magic), real)
    for _ in ti.static(range(2)):
        cube = y * y * y
        y *= (cube + 2.0 * x) / (2.0 * cube + x)
    return y


@ti.func
def _newton(t, a, b, c, p):
    """Two Newton steps towards a zero of (B(t) - p) . B'(t), clamped to [0, 1]."""
    for _ in ti.static(range(2)):
        offset = (1.0 - t) * (1.0 - t) * a + 2.0 * t * (1.0 - t) * b + t * t * c - p
        tangent = 2.0 * ((1.0 - t) * (b - a) + t * (c - b))
        curvature = 2.0 * (a - 2.0 * b + c)
        slope = tangent.dot(tangent) + offset.dot(curvature)
        if slope > 0.0:
            t = ti.math.clamp(t - offset.dot(tangent) / slope, 0.0, 1.0)
    return t


@ti.func
def _closest_t(p, a, b, c):
    """Parameter in [0, 1] of the point of the quadratic nearest to ``p``."""
    along = b - a
    bend = a - 2.0 * b + c
    from_p = a - p
    t = 0.0 * p[0]
    if bend.dot(bend) > STRAIGHT * along.dot(along):
        kk = 1.0 / bend.dot(bend)
        kx = kk * along.dot(bend)
        ky = kk * (2.0 * along.dot(along) + from_p.dot(bend)) / 3.0
        kz = kk * from_p.dot(along)
        pp = ky - kx * kx
        q = kx * (2.0 * kx * kx - 3.0 * ky) + kz
        h = q * q + 4.0 * pp * pp * pp
        if h >= 0.0:
            # Cardano: t = cbrt(x0) + cbrt(x1) - kx, where x0 x1 = -pp^3, so one cube root
            # (of the larger, well-conditioned x) gives the other as -pp / cbrt.
            h = ti.sqrt(h)
            x = 0.5 * (h - q) if q <= 0.0 else 0.5 * (-h - q)
            root = _cube_root(x)
            other = -pp / root if root != 0.0 else 0.0 * root
            t = ti.math.clamp(root + other - kx, 0.0, 1.0)
        else:
            z = ti.sqrt(-pp)
            v = ti.acos(ti.math.clamp(q / (pp * z * 2.0), -1.0, 1.0)) / 3.0
            m, n = ti.cos(v), ti.sin(v) * SQRT3
            t0 = ti.math.clamp((m + m) * z - kx, 0.0, 1.0)
            t1 = ti.math.clamp((-n - m) * z - kx, 0.0, 1.0)
            d0 = (from_p + (2.0 * along + bend * t0) * t0).norm_sqr()
            d1 = (from_p + (2.0 * along + bend * t1) * t1).norm_sqr()
            t = t0 if d0 <= d1 else t1
    else:
        chord = c - a
        if chord.dot(chord) > 0.0:
            t = ti.math.clamp((p - a).dot(chord) / chord.dot(chord), 0.0, 1.0)
        t = _newton(t, a, b, c, p)
    return t


@ti.func
def _within(p, a, b, c, cutoff):
    """Whether the quadratic a-b-c may come nearer to ``p`` than ``cutoff``: its control
    points' box does (per axis first, no square root), and so does the chord a-c less the
    curve's greatest offset from it, |a - 2b + c| / 4 (the curve minus the chord's point at
    the same t is -t(1 - t)(a - 2b + c))."""
    outside = ti.max(ti.min(a, b, c) - p, p - ti.max(a, b, c), 0.0)
    near = ti.max(outside[0], outside[1]) < cutoff
    if near:
        chord = c - a
        t = ti.math.clamp((p - a).dot(chord) / ti.max(chord.dot(chord), 1e-30), 0.0, 1.0)
        near = (p - a - t * chord).norm() - 0.25 * (a - 2.0 * b + c).norm() < cutoff
    return near


@ti.func
def quadratic_distance_grad(p, a, b, c, cutoff):
    """Distance from ``p`` to the quadratic Bézier a-b-c, and its gradients with respect
    to a, b and c; ``cutoff`` and zero gradients where the curve is at least ``cutoff``
    away (no further work: a stroke's coverage there is zero)."""
    distance, d_a, d_b, d_c = cutoff + 0.0 * p[0], p * 0.0, p * 0.0, p * 0.0
    if _within(p, a, b, c, cutoff):
        t = _closest_t(p, a, b, c)
        offset = (1.0 - t) * (1.0 - t) * a + 2.0 * t * (1.0 - t) * b + t * t * c - p
        distance = safe_norm(offset)
        away = offset / distance
        d_a, d_b, d_c = (1.0 - t) * (1.0 - t) * away, 2.0 * t * (1.0 - t) * away, t * t * away
    return distance, d_a, d_b, d_c


def _cubic_piece_weights() -> np.ndarray:
    """(CUBIC_PIECES, 3, 4): each piece's quadratic control points as weights of the
    cubic's four control points (de Casteljau subdivision, then the midpoint
    approximation Q1 = (3 S1 + 3 S2 - S0 - S3) / 4)."""
    weights = []
    for j in range(CUBIC_PIECES):
        u0, u1 = j / CUBIC_PIECES, (j + 1) / CUBIC_PIECES
        sub = []  # blossoms of the cubic: S_i = B(u0^(3-i), u1^i)
        for i in range(4):
            args = [u0] * (3 - i) + [u1] * i
            row = np.zeros(4)
            # The blossom of the Bernstein basis: sum over which arguments pick each point.
            for mask in range(8):
                picks = [(mask >> k) & 1 for k in range(3)]
                coef = np.prod([args[k] if picks[k] else 1.0 - args[k] for k in range(3)])
                row[sum(picks)] += coef
            sub.append(row)
        s0, s1, s2, s3 = sub
        weights.append([s0, (3.0 * s1 + 3.0 * s2 - s0 - s3) / 4.0, s3])
    return np.array(weights)


CUBIC_PIECE_WEIGHTS = _cubic_piece_weights()
_PIECE_WEIGHTS = CUBIC_PIECE_WEIGHTS.tolist()  # plain numbers, inlined into the kernels


PIECE_VALUES = 2 * (2 * CUBIC_PIECES + 1)  # a_0, b_0, a_1, b_1, ..., a_n, two coordinates each


@ti.func
def cubic_pieces(p0, p1, p2, p3):
    """The control points of the CUBIC_PIECES quadratics that draw the cubic p0..p3, as a
    flat vector of PIECE_VALUES: points a_0, b_0, a_1, ..., a_n (x, y each); piece j is
    (a_j, b_j, a_j+1)."""
    pieces = ti.Vector([0.0] * PIECE_VALUES) + 0.0 * p0[0]
    for j in ti.static(range(CUBIC_PIECES)):
        for r in ti.static(range(3 if j == CUBIC_PIECES - 1 else 2)):
            w = _PIECE_WEIGHTS[j][r]
            point = w[0] * p0 + w[1] * p1 + w[2] * p2 + w[3] * p3
            pieces[4 * j + 2 * r], pieces[4 * j + 2 * r + 1] = point[0], point[1]
    return pieces


@ti.func
def pieces_distance_grad(p, pieces, cutoff):
    """Distance from ``p`` to the quadratic pieces of :func:`cubic_pieces`, the nearest
    piece's number and the gradients with respect to its three control points; ``cutoff``,
    piece -1 and zero gradients where every piece is at least ``cutoff`` away. A piece that
    cannot come nearer than the best piece so far (see :func:`_within`) is not solved."""
    best, nearest = cutoff + 0.0 * p[0], -1
    d_a, d_b, d_c = p * 0.0, p * 0.0, p * 0.0
    for j in ti.static(range(CUBIC_PIECES)):
        a = ti.Vector([pieces[4 * j], pieces[4 * j + 1]])
        b = ti.Vector([pieces[4 * j + 2], pieces[4 * j + 3]])
        c = ti.Vector([pieces[4 * j + 4], pieces[4 * j + 5]])
        distance, da, db, dc = quadratic_distance_grad(p, a, b, c, best)
        if distance < best:
            best, nearest, d_a, d_b, d_c = distance, j, da, db, dc
    return best, nearest, d_a, d_b, d_c


@ti.func
def piece_grad_to_cubic(piece, d_a, d_b, d_c):
    """Gradients with respect to the cubic's four control points from those with respect
    to the control points of its quadratic ``piece``."""
    w = ti.Matrix(_PIECE_WEIGHTS[0]) + 0.0 * d_a[0]
    for k in ti.static(range(1, CUBIC_PIECES)):
        if piece == k:
            w = ti.Matrix(_PIECE_WEIGHTS[k]) + 0.0 * d_a[0]
    g0 = w[0, 0] * d_a + w[1, 0] * d_b + w[2, 0] * d_c
    g1 = w[0, 1] * d_a + w[1, 1] * d_b + w[2, 1] * d_c
    g2 = w[0, 2] * d_a + w[1, 2] * d_b + w[2, 2] * d_c
    g3 = w[0, 3] * d_a + w[1, 3] * d_b + w[2, 3] * d_c
    return g0, g1, g2, g3


@ti.func
def cubic_distance_grad(p, p0, p1, p2, p3, cutoff):
    """Distance from ``p`` to the cubic Bézier p0..p3, drawn as CUBIC_PIECES quadratics,
    and its gradients with respect to the four control points; ``cutoff`` and zero
    gradients where it is at least ``cutoff`` away."""
    best, piece, d_a, d_b, d_c = pieces_distance_grad(p, cubic_pieces(p0, p1, p2, p3), cutoff)
    g0, g1, g2, g3 = piece_grad_to_cubic(piece, d_a, d_b, d_c)
    return best, g0, g1, g2, g3
