"""Distances to Bézier curves, and their gradients with respect to the control points.

A quadratic ``B(t) = (1-t)^2 a + 2t(1-t) b + t^2 c`` is nearest to ``p`` where
``(B(t) - p) . B'(t) = 0``, a cubic equation in t, solved in closed form (Cardano's formula,
or its trigonometric form where it has three real roots) and clamped to [0, 1]: exact to
rounding (4e-14 px in float64, 2e-5 px in float32 against a refined numpy minimum). Where
the control points are nearly collinear and evenly spaced the closed form cancels badly, so
t starts instead from the projection onto the chord a-c and two Newton steps make it exact
(so the distance does not jump between the two ways).

What the solve needs of a quadratic that does not depend on the pixel is computed once,
in its frame (:func:`piece_frame`), so that a pixel adds only a few products. The renderer
solves pixels a row at a time (:func:`pieces_nearest`), in loops without branches that the
compiler vectorises, with a cube root from the float's bits; a single point
(:func:`quadratic_distance_grad`, :func:`cubic_distance_grad`) is solved with branches and
``pow`` (:func:`_piece_nearest`), which Taichi's autodiff can follow (it rejects bit casts
and indexing local vectors at run time).

By the envelope theorem the gradient only moves the nearest point: d distance / d P_k is
``w_k(t) (B(t) - p) / |B(t) - p|`` with ``w_k`` the Bernstein weights.

A cubic is drawn as CUBIC_PIECES quadratics, each approximating a quarter of it (the
midpoint approximation of each quarter's control points), which lies within
``sqrt(3)/36 |P0 - 3 P1 + 3 P2 - P3| / CUBIC_PIECES^3`` pixels of the cubic.
"""

import math

import numpy as np
import taichi as ti

CUBIC_PIECES = 4
STRAIGHT = 1e-4  # |a - 2b + c|^2 below this share of |b - a|^2: start from the chord
TINY = 1e-30  # squared lengths are taken to be at least this where divided by (finite in float32)
SQRT3 = math.sqrt(3.0)
EVERYWHERE = [-1e30, 1e30]  # a piece's x-span that holds every point (fast math assumes no infinities)
ROW_COLUMNS = 32  # most points one solve takes: a pixel row of the largest tile
VECTOR = 8  # a row's solves run over a multiple of this many points: the compiler's vectorised loop takes 8 a step
FAR_OFFSET = [1e15, 1e15]  # farther than any point a solve records (and its square finite in float32)


@ti.func
def cube_root(x):
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
def _power_cube_root(x):
    """Real cube root of ``x`` by ``pow``, which Taichi's autodiff can follow (it cannot
    follow :func:`cube_root`'s bit casts); magnitudes below TINY count as TINY there, so
    that the derivative stays finite."""
    size = ti.abs(x)
    return ti.select(size > 0.0, ti.math.sign(x) * ti.pow(ti.max(size, TINY), 1.0 / 3.0), 0.0 * x)


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
    kk = ti.select(solve, 1.0 / ti.max(bend.dot(bend), TINY), 0.0)
    kx = kk * along.dot(bend)
    ky0 = kk * 2.0 * along.dot(along) / 3.0
    ky_u = kk / 3.0 * bend
    q_u = kk * (along - kx * bend)
    pp0, q0 = ky0 - kx * kx, kx * (2.0 * kx * kx - 3.0 * ky0)
    chord_inv = ti.select(chord.dot(chord) > 0.0, 1.0 / ti.max(chord.dot(chord), TINY), 0.0)
    # Selects and one vector in the order of the FRAME_ constants, not branches and entries
    # written one by one: Taichi's autodiff warns of loads before stores in those.
    return ti.Vector([
        a[0], a[1], along[0], along[1], bend[0], bend[1], kx, pp0, ky_u[0], ky_u[1], q0, q_u[0], q_u[1],
        ti.select(solve, 1.0, 0.0), chord_inv, 0.25 * bend.norm(),
    ])  # fmt: skip


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
def _depressed(u, frame):
    """The framed quadratic's depressed cubic t^3 + pp t + q = 0 (in t shifted by kx) for
    ``p`` (u = a - p): pp, q and the discriminant h = q^2 + 4 pp^3 (three real roots where
    h < 0)."""
    pp = frame[FRAME_PP] + frame_vector(frame, FRAME_PP + 1).dot(u)
    q = frame[FRAME_Q] + frame_vector(frame, FRAME_Q + 1).dot(u)
    return pp, q, q * q + 4.0 * pp * pp * pp


@ti.func
def _cardano_t(frame, pp, q, h, cube_root: ti.template()):
    """The parameter in [0, 1] of the one real root where h >= 0, without branches:
    Cardano's t = cbrt(x0) + cbrt(x1) - kx, where x0 x1 = -pp^3, so one cube root (of the
    larger, well-conditioned x) gives the other as -pp / cbrt."""
    s = ti.sqrt(ti.max(h, 0.0))
    x = ti.select(q <= 0.0, 0.5 * (s - q), 0.5 * (-s - q))
    root = cube_root(x)
    nonzero = root != 0.0
    other = ti.select(nonzero, -pp / ti.select(nonzero, root, 1.0), 0.0)
    return ti.math.clamp(root + other - frame[FRAME_KX], 0.0, 1.0)


@ti.func
def _trig_roots(frame, pp, q):
    """Where h < 0 (three real roots, by the trigonometric form), the parameters in [0, 1]
    of the two roots that can be minima."""
    kx = frame[FRAME_KX]
    z = ti.sqrt(-pp)
    v = ti.acos(ti.math.clamp(q / (pp * z * 2.0), -1.0, 1.0)) / 3.0
    m, n = ti.cos(v), ti.sin(v) * SQRT3
    return ti.math.clamp((m + m) * z - kx, 0.0, 1.0), ti.math.clamp((-n - m) * z - kx, 0.0, 1.0)


@ti.func
def _trig_t(u, frame, pp, q):
    """The parameter in [0, 1] of the nearest point where h < 0: the nearer of the two roots
    that can be minima."""
    along, bend = frame_vector(frame, FRAME_ALONG), frame_vector(frame, FRAME_BEND)
    t0, t1 = _trig_roots(frame, pp, q)
    d0 = quadratic_at(u, along, bend, t0).norm_sqr()
    d1 = quadratic_at(u, along, bend, t1).norm_sqr()
    return t0 if d0 <= d1 else t1


@ti.func
def piece_minima(frame, p, cube_root: ti.template()):
    """The parameters in [0, 1] of the framed quadratic's points nearest to ``p`` locally:
    its nearest point twice, or, where the cubic of the nearest point has three real roots,
    the two roots that can be minima (each the nearest point of a part of the quadratic);
    solved with branches (``cube_root``: :func:`cube_root`, or :func:`_power_cube_root`
    where Taichi's autodiff must follow it)."""
    a, along, bend = frame_vector(frame, FRAME_A), frame_vector(frame, FRAME_ALONG), frame_vector(frame, FRAME_BEND)
    u = a - p
    t0, t1 = 0.0 * p[0], 0.0 * p[0]
    if frame[FRAME_SOLVE] > 0.0:
        pp, q, h = _depressed(u, frame)
        if h < 0.0:
            t0, t1 = _trig_roots(frame, pp, q)
        else:
            t0 = _cardano_t(frame, pp, q, h, cube_root)
            t1 = t0
    else:
        _, start = _chord_projection(u, frame)
        t0 = _newton(start, u, along, bend)
        t1 = t0
    return t0, t1


@ti.func
def _keep_nearer(nearest: ti.template(), c, j, t, offset, frame):
    """Record piece ``j``'s point B(t) (``offset`` = B(t) - p) at point ``c`` of ``nearest``
    (see :func:`pieces_nearest`) where it is nearer than the one recorded."""
    best, pieces, ts, offsets_x, offsets_y = ti.static(nearest)  # the caller's vectors, not copies
    squared = offset.norm_sqr()
    nearer = squared < best[c]
    best[c] = ti.select(nearer, squared, best[c])
    pieces[c] = ti.select(nearer, j, pieces[c])
    ts[c] = ti.select(nearer, t, ts[c])
    offsets_x[c] = ti.select(nearer, offset[0], offsets_x[c])
    offsets_y[c] = ti.select(nearer, offset[1], offsets_y[c])


@ti.func
def solve_row(frame, j, x0, y, c0, c1, keep: ti.template(), found: ti.template()):
    """The nearest point of the framed quadratic ``frame`` to each of the points (x0 + c, y)
    for c0 <= c <= c1, handed as ``keep(found, c, j, t, B(t) - p, frame)``.

    One loop over the points without branches, which the compiler vectorises, 8 points a
    step: it runs over a multiple of VECTOR points (the points past c1 get their true
    nearest point too, which the caller's ``keep`` must have room for); the rare points
    where the cubic has three real roots are left out of it and solved after it, where there
    can be any. The loop gathers no flag of those points (a reduction): with one, LLVM
    interleaves the vectorised loop (four times, 32 points a step, where the CPU has
    AVX-512), so that rows of 8 or 16 points ran in its scalar remainder, 3x slower.
    """
    a, along, bend = frame_vector(frame, FRAME_A), frame_vector(frame, FRAME_ALONG), frame_vector(frame, FRAME_BEND)
    if frame[FRAME_SOLVE] > 0.0:
        for c in range(c0, c0 + (c1 - c0 + VECTOR) // VECTOR * VECTOR):
            u = a - ti.Vector([x0 + c, y])
            pp, q, h = _depressed(u, frame)
            t = _cardano_t(frame, pp, q, h, cube_root)
            offset = ti.select(h < 0.0, ti.Vector(FAR_OFFSET), quadratic_at(u, along, bend, t))
            keep(found, c, j, t, offset, frame)
        # The points left out (h < 0) have pp < 0, and pp is affine along the row: where it is
        # positive at the row's first and last point, none was left out (so on every piece
        # that bends gently within the reach of its points).
        pp_first, _, _ = _depressed(a - ti.Vector([x0 + c0, y]), frame)
        pp_last, _, _ = _depressed(a - ti.Vector([x0 + c1, y]), frame)
        if ti.min(pp_first, pp_last) <= 0.0:
            for c in range(c0, c1 + 1):
                u = a - ti.Vector([x0 + c, y])
                pp, q, h = _depressed(u, frame)
                if h < 0.0:
                    t = _trig_t(u, frame, pp, q)
                    keep(found, c, j, t, quadratic_at(u, along, bend, t), frame)
    else:
        for c in range(c0, c1 + 1):
            u = a - ti.Vector([x0 + c, y])
            _, start = _chord_projection(u, frame)
            t = _newton(start, u, along, bend)
            keep(found, c, j, t, quadratic_at(u, along, bend, t), frame)


@ti.func
def pieces_nearest(frames: ti.template(), first: ti.template(), count: ti.template(), cutoff, x0, y, n, spans,
                   columns: ti.template()):  # fmt: skip
    """The nearest of ``count`` framed quadratics (FRAME_SIZE values each, from
    ``frames[first]`` on) to each of the points (x0 + c, y) for c < n <= ``columns``: per
    point (vectors of ``columns`` values) the squared distance (cutoff^2 where all are at
    least ``cutoff`` away), the piece's number (-1 then), its parameter t, and the offset
    B(t) - p's x and y. Piece j is solved (:func:`solve_row`) only at the points whose x
    lies in [spans[2j], spans[2j + 1]] (where it may come within ``cutoff``), over a
    multiple of VECTOR points (those past the span get their true distance to the piece,
    which is at least ``cutoff``), since a shorter loop would not be vectorised.
    """
    best = ti.Vector([cutoff * cutoff] * (columns + VECTOR))
    pieces, ts, offsets_x, offsets_y = ti.Vector([-1] * (columns + VECTOR)), best * 0.0, best * 0.0, best * 0.0
    found = ti.static((best, pieces, ts, offsets_x, offsets_y))  # the vectors themselves, not copies
    n = ti.min(n, columns)
    for j in range(count):  # not unrolled: the loop body compiles once
        frame = ti.Vector([frames[first + j * FRAME_SIZE + i] for i in ti.static(range(FRAME_SIZE))])
        c0 = ti.cast(ti.ceil(ti.math.clamp(spans[2 * j] - x0, 0.0, n)), ti.i32)
        c1 = ti.cast(ti.floor(ti.math.clamp(spans[2 * j + 1] - x0, -1.0, n - 1.0)), ti.i32)
        solve_row(frame, j, x0, y, c0, c1, _keep_nearer, found)
    return best, pieces, ts, offsets_x, offsets_y


@ti.func
def nearest_at(nearest: ti.template(), c):
    """Point ``c`` of :func:`pieces_nearest`'s result: its distance (the cutoff where no
    piece comes nearer), piece, parameter t and offset B(t) - p."""
    best, pieces, ts, offsets_x, offsets_y = ti.static(nearest)  # the caller's vectors, not copies
    return ti.sqrt(ti.max(best[c], 1e-30)), pieces[c], ts[c], ti.Vector([offsets_x[c], offsets_y[c]])


@ti.func
def piece_distance_grad(distance, piece, t, offset):
    """Gradients of the distance |offset| to ``piece`` (none where it is -1) with respect
    to its control points a, b, c: the envelope theorem moves only B(t)."""
    d_a, d_b, d_c = offset * 0.0, offset * 0.0, offset * 0.0
    if piece >= 0:
        away = offset / distance
        d_a, d_b, d_c = (1.0 - t) * (1.0 - t) * away, 2.0 * t * (1.0 - t) * away, t * t * away
    return d_a, d_b, d_c


@ti.func
def _piece_nearest(p, frame):
    """The parameter t of the framed quadratic's point nearest to the single point ``p``,
    and the offset B(t) - p: what :func:`pieces_nearest` finds for a row of points, solved
    with branches, in a form Taichi's autodiff can follow (see the module docstring)."""
    a, along, bend = frame_vector(frame, FRAME_A), frame_vector(frame, FRAME_ALONG), frame_vector(frame, FRAME_BEND)
    u = a - p
    t0, t1 = piece_minima(frame, p, _power_cube_root)
    t = t0 if quadratic_at(u, along, bend, t0).norm_sqr() <= quadratic_at(u, along, bend, t1).norm_sqr() else t1
    return t, quadratic_at(u, along, bend, t)


@ti.func
def _within(offset, cutoff):
    """The distance |offset| and piece 0, or ``cutoff`` and piece -1 where it is at least
    ``cutoff`` (as :func:`nearest_at` reports a point no piece comes near)."""
    squared = offset.norm_sqr()
    near = squared < cutoff * cutoff
    return ti.select(near, ti.sqrt(ti.max(squared, 1e-30)), cutoff), ti.select(near, 0, -1)


@ti.func
def quadratic_distance_grad(p, a, b, c, cutoff):
    """Distance from ``p`` to the quadratic Bézier a-b-c, and its gradients with respect
    to a, b and c; ``cutoff`` and zero gradients where the curve is at least ``cutoff``
    away (no further work: a stroke's coverage there is zero)."""
    t, offset = _piece_nearest(p, piece_frame(a, b, c))
    distance, piece = _within(offset, cutoff)
    d_a, d_b, d_c = piece_distance_grad(distance, piece, t, offset)
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


def _cubic_point_polynomials() -> list:
    """(CUBIC_PIECES, 3, 4): the weight of each of the cubic's control points in the point
    B(t) of each quadratic piece, as a polynomial in t: its coefficients of 1, t and t^2."""
    to_powers = np.array([[1.0, 0.0, 0.0], [-2.0, 2.0, 0.0], [1.0, -2.0, 1.0]])  # Bernstein -> powers of t
    return (to_powers @ CUBIC_PIECE_WEIGHTS).tolist()


_POINT_POLYNOMIALS = _cubic_point_polynomials()  # plain numbers, inlined into the kernels


@ti.func
def cubic_point_weights(piece, t):
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
        away, weights = offset / distance, cubic_point_weights(piece, t)
        g0, g1, g2, g3 = weights[0] * away, weights[1] * away, weights[2] * away, weights[3] * away
    return g0, g1, g2, g3


@ti.func
def cubic_distance_grad(p, p0, p1, p2, p3, cutoff):
    """Distance from ``p`` to the cubic Bézier p0..p3, drawn as CUBIC_PIECES quadratics,
    and its gradients with respect to the four control points; ``cutoff`` and zero
    gradients where it is at least ``cutoff`` away."""
    t, offset = _piece_nearest(p, piece_frame(*cubic_piece(p0, p1, p2, p3, 0)))
    piece = 0
    for j in ti.static(range(1, CUBIC_PIECES)):
        t_j, offset_j = _piece_nearest(p, piece_frame(*cubic_piece(p0, p1, p2, p3, j)))
        nearer = offset_j.norm_sqr() < offset.norm_sqr()
        t, offset, piece = ti.select(nearer, t_j, t), ti.select(nearer, offset_j, offset), ti.select(nearer, j, piece)
    distance, within = _within(offset, cutoff)
    g0, g1, g2, g3 = cubic_piece_distance_grad(distance, ti.select(within >= 0, piece, -1), t, offset)
    return distance, g0, g1, g2, g3
