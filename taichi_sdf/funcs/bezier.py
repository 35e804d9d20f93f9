"""Distances to Bézier curves, and their gradients with respect to the control points.

A quadratic ``B(t) = (1-t)^2 a + 2t(1-t) b + t^2 c`` is nearest to ``p`` where
``(B(t) - p) . B'(t) = 0``, a cubic equation in t, solved in closed form (Cardano's formula,
or its trigonometric form where it has three real roots) and clamped to [0, 1]: exact to
rounding (4e-14 px in float64, 2e-5 px in float32 against a refined numpy minimum). Where
the control points are nearly collinear and evenly spaced the closed form cancels badly, so
t starts instead from the projection onto the chord a-c and two Newton steps make it exact
(so the distance does not jump between the two ways).

What the solve needs of a quadratic that does not depend on the pixel is computed once,
in its frame (:func:`piece_frame`), so that a pixel adds only a few products.

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
EVERYWHERE = [-1e30, 1e30]  # a piece's x-span that holds every point (fast math assumes no infinities)


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


# A quadratic piece's frame: what the nearest-point solve needs of it, computed once per
# piece rather than once per pixel. With u = a - p (the only per-pixel input), the cubic
# t^3 + 3 kx t^2 + 3 ky t + kz = 0 of the closed form has ky, kz affine in u, and so are the
# depressed cubic's pp = ky - kx^2 and q = kx (2 kx^2 - 3 ky) + kz.
FRAME_A, FRAME_ALONG, FRAME_BEND = 0, 2, 4  # a, b - a, a - 2b + c (2 values each)
FRAME_KX, FRAME_PP, FRAME_Q = 6, 7, 10  # kx; pp0 and its slope in u (2); q0 and its slope (2)
FRAME_SOLVE, FRAME_CHORD_INV, FRAME_SAG = 13, 14, 15  # closed form (1) or chord start (0); 1/|c - a|^2; |bend|/4
FRAME_SIZE = 16


@ti.func
def piece_frame(a, b, c):
    """The frame (FRAME_SIZE values, see above) of the quadratic a-b-c."""
    along, bend = b - a, a - 2.0 * b + c
    chord = c - a
    solve = bend.dot(bend) > STRAIGHT * along.dot(along)
    kk = 1.0 / bend.dot(bend) if solve else 0.0 * a[0]
    kx = kk * along.dot(bend)
    ky0 = kk * 2.0 * along.dot(along) / 3.0
    ky_u = kk / 3.0 * bend
    q_u = kk * (along - kx * bend)
    frame = ti.Vector([0.0] * FRAME_SIZE) + 0.0 * a[0]
    for j in ti.static(range(2)):
        frame[FRAME_A + j], frame[FRAME_ALONG + j], frame[FRAME_BEND + j] = a[j], along[j], bend[j]
        frame[FRAME_PP + 1 + j], frame[FRAME_Q + 1 + j] = ky_u[j], q_u[j]
    frame[FRAME_KX] = kx
    frame[FRAME_PP] = ky0 - kx * kx
    frame[FRAME_Q] = kx * (2.0 * kx * kx - 3.0 * ky0)
    frame[FRAME_SOLVE] = 1.0 if solve else 0.0
    frame[FRAME_CHORD_INV] = 1.0 / chord.dot(chord) if chord.dot(chord) > 0.0 else 0.0
    frame[FRAME_SAG] = 0.25 * bend.norm()
    return frame


@ti.func
def frame_vector(frame, at: ti.template()):
    """The 2-vector of ``frame`` at ``at`` (FRAME_A, FRAME_ALONG, FRAME_BEND, ...)."""
    return ti.Vector([frame[at], frame[at + 1]])


@ti.func
def _chord_projection(u, frame):
    """The framed quadratic's chord c - a, and the parameter in [0, 1] of the projection of
    ``p`` onto it (u = a - p)."""
    chord = 2.0 * frame_vector(frame, FRAME_ALONG) + frame_vector(frame, FRAME_BEND)
    return chord, ti.math.clamp(-u.dot(chord) * frame[FRAME_CHORD_INV], 0.0, 1.0)


@ti.func
def quadratic_at(origin, along, bend, t):
    """``origin + B(t) - a`` for the quadratic with along = b - a and bend = a - 2b + c:
    its point B(t) for origin a, and B(t) - p for origin a - p."""
    return origin + (2.0 * along + bend * t) * t


@ti.func
def _newton(t, u, along, bend):
    """Two Newton steps towards a zero of (B(t) - p) . B'(t), clamped to [0, 1]."""
    for _ in ti.static(range(2)):
        offset = quadratic_at(u, along, bend, t)
        tangent = 2.0 * (along + t * bend)
        slope = tangent.dot(tangent) + 2.0 * offset.dot(bend)
        if slope > 0.0:
            t = ti.math.clamp(t - offset.dot(tangent) / slope, 0.0, 1.0)
    return t


@ti.func
def _closest_t(u, frame):
    """Parameter in [0, 1] of the point of the framed quadratic nearest to ``p`` (u = a - p)."""
    along, bend = frame_vector(frame, FRAME_ALONG), frame_vector(frame, FRAME_BEND)
    t = 0.0 * u[0]
    if frame[FRAME_SOLVE] > 0.0:
        kx = frame[FRAME_KX]
        pp = frame[FRAME_PP] + frame_vector(frame, FRAME_PP + 1).dot(u)
        q = frame[FRAME_Q] + frame_vector(frame, FRAME_Q + 1).dot(u)
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
            d0 = quadratic_at(u, along, bend, t0).norm_sqr()
            d1 = quadratic_at(u, along, bend, t1).norm_sqr()
            t = t0 if d0 <= d1 else t1
    else:
        _, start = _chord_projection(u, frame)
        t = _newton(start, u, along, bend)
    return t


@ti.func
def _within(u, frame, cutoff):
    """Whether the framed quadratic may come nearer to ``p`` (u = a - p) than ``cutoff``:
    the chord a-c does, less the curve's greatest offset from it, |a - 2b + c| / 4 (the
    curve minus the chord's point at the same t is -t(1 - t)(a - 2b + c))."""
    chord, t = _chord_projection(u, frame)
    reach = cutoff + frame[FRAME_SAG]
    return (u + t * chord).norm_sqr() < reach * reach


@ti.func
def pieces_nearest(p, frames: ti.template(), first: ti.template(), count: ti.template(), cutoff, spans):
    """The nearest of ``count`` framed quadratics (FRAME_SIZE values each, from
    ``frames[first]`` on) to ``p``: its distance (``cutoff`` where all are at least that
    far), number (-1 then), parameter t and offset B(t) - p. Piece j is only looked at
    where ``p``'s x lies in [spans[2j], spans[2j + 1]] (where it may come within
    ``cutoff``), and not solved where it cannot come nearer than the best so far."""
    best, nearest, best_t, best_offset = cutoff + 0.0 * p[0], -1, 0.0 * p[0], p * 0.0
    for j in ti.static(range(count)):
        frame = ti.Vector([frames[first + j * FRAME_SIZE + i] for i in ti.static(range(FRAME_SIZE))])
        u = frame_vector(frame, FRAME_A) - p
        if spans[2 * j] <= p[0] <= spans[2 * j + 1] and _within(u, frame, best):
            t = _closest_t(u, frame)
            offset = quadratic_at(u, frame_vector(frame, FRAME_ALONG), frame_vector(frame, FRAME_BEND), t)
            if offset.norm_sqr() < best * best:
                best, nearest, best_t, best_offset = safe_norm(offset), j, t, offset
    return best, nearest, best_t, best_offset


@ti.func
def piece_distance_grad(distance, nearest, t, offset):
    """Gradients of the distance |offset| to piece ``nearest`` (none where it is -1) with
    respect to its control points a, b, c: the envelope theorem moves only B(t)."""
    d_a, d_b, d_c = offset * 0.0, offset * 0.0, offset * 0.0
    if nearest >= 0:
        away = offset / distance
        d_a, d_b, d_c = (1.0 - t) * (1.0 - t) * away, 2.0 * t * (1.0 - t) * away, t * t * away
    return d_a, d_b, d_c


@ti.func
def quadratic_distance_grad(p, a, b, c, cutoff):
    """Distance from ``p`` to the quadratic Bézier a-b-c, and its gradients with respect
    to a, b and c; ``cutoff`` and zero gradients where the curve is at least ``cutoff``
    away (no further work: a stroke's coverage there is zero)."""
    frame = piece_frame(a, b, c)
    distance, nearest, t, offset = pieces_nearest(p, frame, 0, 1, cutoff, ti.Vector(EVERYWHERE))
    d_a, d_b, d_c = piece_distance_grad(distance, nearest, t, offset)
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
_PIECE_WEIGHTS_BY_ROW = CUBIC_PIECE_WEIGHTS.reshape(-1, 4).tolist()  # piece j's a, b, c: rows 3j, 3j + 1, 3j + 2


PIECE_VALUES = CUBIC_PIECES * FRAME_SIZE


@ti.func
def cubic_piece(p0, p1, p2, p3, j):
    """Control points a, b, c of quadratic piece ``j`` (of CUBIC_PIECES, any integer
    expression) of the cubic p0..p3."""
    weights = ti.Matrix(_PIECE_WEIGHTS_BY_ROW) + 0.0 * p0[0]  # indexed at run time
    a, b, c = p0 * 0.0, p0 * 0.0, p0 * 0.0
    for k in ti.static(range(4)):
        control = [p0, p1, p2, p3][k]
        a += weights[3 * j, k] * control
        b += weights[3 * j + 1, k] * control
        c += weights[3 * j + 2, k] * control
    return a, b, c


@ti.func
def cubic_pieces(p0, p1, p2, p3):
    """The frames of the CUBIC_PIECES quadratics that draw the cubic p0..p3, one after
    another in a flat vector of PIECE_VALUES."""
    pieces = ti.Vector([0.0] * PIECE_VALUES) + 0.0 * p0[0]
    for j in range(CUBIC_PIECES):  # not unrolled: the loop body compiles once
        a, b, c = cubic_piece(p0, p1, p2, p3, j)
        frame = piece_frame(a, b, c)
        for i in ti.static(range(FRAME_SIZE)):
            pieces[j * FRAME_SIZE + i] = frame[i]
    return pieces


def _cubic_point_polynomials() -> list:
    """(CUBIC_PIECES, 3, 4): the weight of each of the cubic's control points in the point
    B(t) of each quadratic piece, as a polynomial in t: its coefficients of 1, t and t^2."""
    to_powers = np.array([[1.0, 0.0, 0.0], [-2.0, 2.0, 0.0], [1.0, -2.0, 1.0]])  # Bernstein -> powers of t
    return (to_powers @ CUBIC_PIECE_WEIGHTS).tolist()


_POINT_POLYNOMIALS = _cubic_point_polynomials()  # plain numbers, inlined into the kernels


@ti.func
def _cubic_point_weights(piece, t):
    """The weights (4-vector) of the cubic's control points in the point B(t) of its
    quadratic ``piece``: by the envelope theorem, the distance's gradient with respect to
    control point k is its weight times the unit offset."""
    c = ti.Matrix(_POINT_POLYNOMIALS[0]) + 0.0 * t
    for k in ti.static(range(1, CUBIC_PIECES)):
        if piece == k:
            c = ti.Matrix(_POINT_POLYNOMIALS[k]) + 0.0 * t
    return ti.Vector([c[0, k] + t * (c[1, k] + t * c[2, k]) for k in ti.static(range(4))])


@ti.func
def cubic_piece_distance_grad(distance, piece, t, offset):
    """Gradients of the distance |offset| to the cubic's quadratic ``piece`` (none where it
    is -1) with respect to the cubic's four control points (see :func:`piece_distance_grad`)."""
    g0, g1, g2, g3 = offset * 0.0, offset * 0.0, offset * 0.0, offset * 0.0
    if piece >= 0:
        away, weights = offset / distance, _cubic_point_weights(piece, t)
        g0, g1, g2, g3 = weights[0] * away, weights[1] * away, weights[2] * away, weights[3] * away
    return g0, g1, g2, g3


@ti.func
def cubic_distance_grad(p, p0, p1, p2, p3, cutoff):
    """Distance from ``p`` to the cubic Bézier p0..p3, drawn as CUBIC_PIECES quadratics,
    and its gradients with respect to the four control points; ``cutoff`` and zero
    gradients where it is at least ``cutoff`` away."""
    spans = ti.Vector(EVERYWHERE * CUBIC_PIECES)
    pieces = cubic_pieces(p0, p1, p2, p3)
    distance, piece, t, offset = pieces_nearest(p, pieces, 0, CUBIC_PIECES, cutoff, spans)
    g0, g1, g2, g3 = cubic_piece_distance_grad(distance, piece, t, offset)
    return distance, g0, g1, g2, g3
