"""What a (tile, path) entry computes at its pixels: winding numbers, the signed distance to
the boundary of what the path fills, the coverage and its gradient.

An entry is a tile of one path with the path's segments that come near the tile (``refs``,
global rows of the segment table, from ``first`` to ``end``) and a winding ``base``: the
winding number at the tile's corner less what those segments add there, so that anywhere
in the tile's reach the winding number is the base plus what its own segments add
(:mod:`taichi_sdf.funcs.winding`). The outline is ``outline = (pieces (B S, PIECES_SIZE),
the pieces table of :mod:`taichi_sdf.funcs.winding` in pixels, segment_points (S,) each
segment's number of control points, refs (R,))``.

Per pixel the signed distance is to the *boundary* of the filled region: the nearest point
of the outline counts only where the fill differs on its two sides. Most pixels take the
fast way: their nearest piece is nearest at a point strictly inside it, no other comes as
near, so nothing lies between pixel and point and crossing the piece there changes the
winding number by one; the fill rule on either side decides without counting. The others
(near corners, ties, edges inside the fill) look at every candidate point in reach: each
piece's local minima and ends, and where pieces meet (:mod:`taichi_sdf.funcs.intersect`),
and take the nearest where the fill differs a hair to either side of the arcs there. The
numpy reference (:mod:`taichi_sdf.kinds.reference_path`) defines the same distance apart.

The gradient of the coverage reaches the control points of the segment(s) that the nearest
boundary point lies on: by the envelope theorem at a piece's own point, by the implicit
function theorem where two pieces meet.
"""

from dataclasses import dataclass

import taichi as ti

from taichi_sdf.funcs.bezier import (
    CUBIC_PIECES,
    FRAME_ALONG,
    FRAME_BEND,
    ROW_COLUMNS,
    VECTOR,
    cube_root,
    cubic_point_weights,
    frame_vector,
    piece_frame,
    piece_minima,
    solve_row,
)
from taichi_sdf.funcs.coverage import coverage, coverage_slope
from taichi_sdf.funcs.intersect import MEETINGS, meeting_grad, meetings, tangent
from taichi_sdf.funcs.winding import (
    SEGMENT_SIZE,
    crossing_signs,
    end_steps,
    filled,
    load_piece,
    load_turn,
    piece_crossings,
    piece_heights,
    piece_row_span,
    segment_heights,
    segment_piece_count,
    segment_winding,
)

NONE, POINT, MEETING = 0, 1, 2  # what the nearest boundary point is: none in reach, a piece's point, a meeting


@dataclass(frozen=True)
class Tolerances:
    """Lengths in pixels, by float type: ``side`` + ``side_scale`` |q| is how far to either
    side of an arc at q its two fills are read (well above rounding at q, well below any
    feature); an arc's end is looked at ``NUDGE`` sides along it; distances within ``tie``
    (1 + d) of each other are a tie."""

    side: float
    side_scale: float
    tie: float


TOLERANCES = {"f32": Tolerances(1e-4, 1e-5, 1e-4), "f64": Tolerances(1e-7, 1e-12, 1e-9)}
NUDGE = 8.0


@ti.func
def _points(outline: ti.template(), s):
    """How many control points global segment ``s`` has."""
    segment_points = ti.static(outline[1])
    return segment_points[s % segment_points.shape[0]]


@ti.func
def _point(a, b, c, t):
    return a + (2.0 * (b - a) + ((a + c) - 2.0 * b) * t) * t


@ti.func
def winding_at(outline: ti.template(), first, end, base, x0, q):
    """The winding number at ``q`` (within the entry's reach)."""
    refs = ti.static(outline[2])
    winding = base
    for r in range(first, end):
        winding += segment_winding(outline[0], refs[r], q, x0)
    return winding


@ti.func
def _keep_two(found: ti.template(), c, j, t, offset, frame):
    """Record piece ``j``, its parameter and which way it crosses from the point towards
    its nearest point (the sign of offset x tangent, :func:`pixel_coverage`'s fast test) at
    point ``c`` where it is nearer than the one recorded, and keep the second nearest
    distance (for ties)."""
    best, second, pieces, ts, turns = ti.static(found)  # the caller's vectors, not copies
    squared = offset.norm_sqr()
    nearer = squared < best[c]
    direction = frame_vector(frame, FRAME_ALONG) + t * frame_vector(frame, FRAME_BEND)  # half the tangent
    turn = offset[0] * direction[1] - offset[1] * direction[0]
    second[c] = ti.select(nearer, best[c], ti.min(second[c], squared))
    best[c] = ti.select(nearer, squared, best[c])
    pieces[c] = ti.select(nearer, j, pieces[c])
    ts[c] = ti.select(nearer, t, ts[c])
    turns[c] = ti.select(nearer, ti.select(turn > 0.0, 1, ti.select(turn < 0.0, -1, 0)), turns[c])


@ti.func
def path_row(outline: ti.template(), first, end, base, x0, y, first_column, count, rule, cutoff):
    """What the pixels (x0 + c + 0.5, y), first_column <= c < count <= ROW_COLUMNS, of a
    tile's row share: the winding number just left of them (``start``), the step in it at
    each (``steps[c]``, a vector of ints: the sum of the signs of the crossings between
    pixel c - 1 and pixel c, those left of the first pixel at ``first_column``; the
    caller sums them along the row), per pixel the nearest piece within ``cutoff``
    (``found``: the squared distances of the nearest and the second nearest, the piece as
    (ref - first) CUBIC_PIECES + j, -1 where none, its parameter t and its turn), and the
    columns c_first .. c_last that fill rule ``rule`` may cover: left (right) of every
    crossing and piece in reach a pixel has the winding number left (right) of the row, so
    where that one is not filled it is not covered. ``x0`` is the tile's left side,
    ``base`` the entry's winding base."""
    refs = ti.static(outline[2])
    steps = ti.Vector([0] * (ROW_COLUMNS + 1))  # [count]: the crossings right of every pixel
    best = ti.Vector([cutoff * cutoff] * (ROW_COLUMNS + VECTOR))
    second, ts = best, best * 0.0
    pieces, turns = ti.Vector([-1] * (ROW_COLUMNS + VECTOR)), ti.Vector([0] * (ROW_COLUMNS + VECTOR))
    found = ti.static((best, second, pieces, ts, turns))  # the vectors themselves, not copies
    start, past = base, 0  # past: what the crossings add across the row
    events_first, events_last = count, first_column - 1  # the columns of the crossings and pieces in reach
    for r in range(first, end):
        s = refs[r]
        start += end_steps(outline[0], s, x0, y)
        # A piece neither crosses the row nor comes near it unless its heights come within the
        # cutoff: tested for the segment's pieces together, then for each.
        lowest, highest = segment_heights(outline[0], s)
        tested = 0
        if lowest - cutoff <= y <= highest + cutoff:
            tested = segment_piece_count(outline[0], s)
        for j in range(tested):
            low, high = piece_heights(outline[0], s, j)
            if not low - cutoff <= y <= high + cutoff:
                continue
            a, b, c = load_piece(outline[0], s, j)
            # Out of reach right of the row's pixels a piece changes nothing there; out of
            # reach left of them, only the winding number left of them.
            if ti.max(a[0], b[0], c[0]) + cutoff < x0 + first_column:
                start += crossing_signs(a, c, *load_turn(outline[0], s, j), y).sum()
            elif ti.min(a[0], b[0], c[0]) - cutoff <= x0 + count:
                xs, signs = piece_crossings(a, b, c, *load_turn(outline[0], s, j), y)
                for k in ti.static(range(2)):
                    if signs[k] != 0:  # the first pixel whose centre lies right of the crossing
                        column = ti.floor(ti.math.clamp(xs[k] - x0 - 0.5, first_column - 1.0, count - 1.0))
                        after = ti.cast(column, ti.i32) + 1
                        steps[after] += signs[k]
                        if after < count:
                            past += signs[k]
                            events_first, events_last = ti.min(events_first, after), ti.max(events_last, after)
                lo, hi = piece_row_span(a, b, c, y, cutoff)
                c0 = ti.cast(ti.ceil(ti.math.clamp(lo - x0 - 0.5, 0.0, count)), ti.i32)
                c1 = ti.cast(ti.floor(ti.math.clamp(hi - x0 - 0.5, -1.0, count - 1.0)), ti.i32)
                if c0 <= c1:
                    piece = (r - first) * CUBIC_PIECES + j
                    solve_row(piece_frame(a, b, c), piece, x0 + 0.5, y, c0, c1, _keep_two, found)
                    events_first, events_last = ti.min(events_first, c0), ti.max(events_last, c1)
    c_first = first_column if filled(start, rule) else ti.max(first_column, events_first)
    c_last = count - 1 if filled(start + past, rule) else events_last
    return start, steps, found, c_first, c_last  # the caller sums the steps as it walks the row


@ti.func
def _side(q, tolerances: ti.template()):
    return tolerances.side + tolerances.side_scale * ti.max(ti.abs(q[0]), ti.abs(q[1]))


@ti.func
def _arc_differs(outline: ti.template(), first, end, base, x0, rule, a, b, c, t, tolerances: ti.template()):
    """Whether the fill differs to the two sides of the quadratic a-b-c at parameter ``t``."""
    q, direction = _point(a, b, c, t), tangent(a, b, c, t)
    length = direction.norm()
    fills = 0
    if length > 0.0:
        normal = ti.Vector([-direction[1], direction[0]]) * (_side(q, tolerances) / length)
        for side in range(2):  # not unrolled: the winding count compiles once
            if filled(winding_at(outline, first, end, base, x0, q + normal * (1.0 - 2.0 * side)), rule):
                fills += 1
    return fills == 1


@ti.func
def _nudged(a, b, c, t, towards, tolerances: ti.template()):
    """A parameter NUDGE sides from ``t`` along the quadratic, towards 1 (``towards`` > 0)
    or 0, at most half the piece away."""
    speed = tangent(a, b, c, t).norm()
    step = ti.min(0.5, NUDGE * _side(_point(a, b, c, t), tolerances) / ti.max(speed, 1e-30))
    return ti.math.clamp(t + ti.select(towards > 0, step, -step), 0.0, 1.0)


@ti.func
def _within(a, b, c, p, reach):
    """Whether the box of the quadratic's control points comes within ``reach`` of ``p``."""
    gap = ti.max(ti.min(a, b, c) - p, p - ti.max(a, b, c), 0.0)
    return gap.norm_sqr() < reach * reach


@ti.func
def _numbered_piece(outline: ti.template(), first, piece):
    """The quadratic piece numbered ``piece`` as :func:`path_row` numbers them, and whether
    its segment has one of that number (a line or a quadratic has one piece)."""
    refs = ti.static(outline[2])
    s = refs[first + piece // CUBIC_PIECES]
    a, b, c = load_piece(outline[0], s, piece % CUBIC_PIECES)
    return a, b, c, piece % CUBIC_PIECES < segment_piece_count(outline[0], s)


@ti.func
def nearest_boundary(outline: ti.template(), first, end, base, x0, rule, p, cutoff, tolerances: ti.template()):
    """The distance from ``p`` to the nearest point of the fill's boundary within ``cutoff``
    (``cutoff`` where none is), looking at every candidate point (see the module docstring),
    and what that point is: NONE, POINT or MEETING; the piece (numbered as :func:`path_row`
    numbers them) and its parameter t; for a MEETING the other piece and its s.

    One loop body for every candidate, each costly function called at one place in it
    (Taichi inlines every call): first each piece's two local minima and two ends, then,
    where a nearer candidate had the same fill to both sides (an edge inside the fill), the
    arcs beside every point where two pieces within reach meet, MEETINGS * 4 steps a pair."""
    best, kind = cutoff, NONE
    piece, t_best, other, s_best = 0, 0.0 * p[0], 0, 0.0 * p[0]
    rejected = cutoff  # the nearest candidate whose two sides are filled alike
    n_pieces = (end - first) * CUBIC_PIECES
    sides = MEETINGS * 4
    ts, ss, count = ti.Vector([0.0] * MEETINGS) + 0.0 * p[0], ti.Vector([0.0] * MEETINGS) + 0.0 * p[0], 0
    a, b, c = ti.Vector([0.0, 0.0]) + 0.0 * p[0], ti.Vector([0.0, 0.0]) + 0.0 * p[0], ti.Vector([0.0, 0.0]) + 0.0 * p[0]
    a2, b2, c2 = a, b, c
    for phase in range(2):
        steps = n_pieces * 4
        if phase == 1:
            steps = n_pieces * n_pieces * sides if rejected < best else 0
        for step in range(steps):
            one, two, side = step // 4, step // 4, 0
            if phase == 1:
                one, two, side = step // sides // n_pieces, step // sides % n_pieces, step % sides
            if side == 0:  # a new piece, or a new pair: their control points, and where they meet
                a, b, c, exists = _numbered_piece(outline, first, one)
                a2, b2, c2, exists2 = _numbered_piece(outline, first, two)
                count = 0
                if phase == 1 and one < two and exists and exists2:
                    if _within(a, b, c, p, best) and _within(a2, b2, c2, p, best):
                        ts, ss, count = meetings(a, b, c, a2, b2, c2, _side(p, tolerances))
                elif phase == 0 and exists and _within(a, b, c, p, best):
                    count = 1
            # The candidate: a point of the first piece at t, bounding the fill where the arc
            # of (pa, pb, pc) at ``at`` has different fills to its two sides.
            pa, pb, pc, t, at, s = a, b, c, 0.0 * p[0], -1.0 + 0.0 * p[0], 0.0 * p[0]
            if phase == 0 and count > 0:  # each piece's two local minima and two ends
                t0, t1 = piece_minima(piece_frame(a, b, c), p, cube_root)
                t = ti.select(step % 4 == 0, t0, ti.select(step % 4 == 1, t1, ti.select(step % 4 == 2, 0.0, 1.0)))
                at = t  # the arc there, or just inside the piece at an end
                if t <= 0.0 or t >= 1.0:
                    at = _nudged(a, b, c, t, ti.select(t <= 0.0, 1, -1), tolerances)
            elif phase == 1 and side // 4 < count:  # beside a meeting, on the first piece or the second, either way
                on_second, towards = side % 4 >= 2, 1 - 2 * (side % 2)
                t, s = ts[side // 4], ss[side // 4]
                along = ti.select(on_second, s, t)
                if (towards > 0 and along < 1.0) or (towards < 0 and along > 0.0):
                    pa, pb, pc = ti.select(on_second, a2, a), ti.select(on_second, b2, b), ti.select(on_second, c2, c)
                    at = _nudged(pa, pb, pc, along, towards, tolerances)
            distance = (_point(a, b, c, t) - p).norm()
            if at >= 0.0 and distance < best:
                if _arc_differs(outline, first, end, base, x0, rule, pa, pb, pc, at, tolerances):
                    best, kind, piece, t_best, other, s_best = distance, POINT + phase, one, t, two, s
                else:
                    rejected = ti.min(rejected, distance)
    return best, kind, piece, t_best, other, s_best


@ti.func
def pixel_state(found: ti.template(), c, winding, rule):
    """Of pixel number ``c`` of a row that :func:`path_row` described (``found``), whose
    winding number is ``winding``: whether a piece comes within the cutoff (else its
    coverage is 1 where it is filled, 0 elsewhere, with no gradient) and whether it is
    filled."""
    # ``found`` is the caller's vectors themselves (a template, indexed in place; unpacked,
    # only by ti.static): a plain unpacking copied them all at every pixel, a third of the
    # time on paths.
    return found[2][c] >= 0, filled(winding, rule)


@ti.func
def pixel_coverage(outline: ti.template(), first, end, base, x0, rule, found: ti.template(), c, winding, p, aa_width,
                   tolerances: ti.template()):  # fmt: skip
    """Coverage at pixel ``p``, number ``c`` of a row that :func:`path_row` described (with
    cutoff ``aa_width``; ``found``) where a piece comes within the cutoff (see
    :func:`pixel_state`) and the winding number is ``winding``, its signed distance
    (negative inside; +-aa_width where no boundary is in reach) and the nearest boundary
    point as :func:`nearest_boundary` gives it."""
    best, second, pieces, ts, turns = ti.static(found)  # the caller's vectors, not copies (see pixel_state)
    inside = filled(winding, rule)
    nearest, t = ti.sqrt(best[c]), ts[c]
    distance, kind, piece, other, s = aa_width, NONE, 0, 0, t
    fast = False
    # Crossing the piece from the point towards its nearest point changes the winding number by the turn.
    alone = ti.sqrt(second[c]) - nearest > tolerances.tie * (1.0 + nearest)
    if 0.0 < t < 1.0 and turns[c] != 0 and alone and filled(winding + turns[c], rule) != inside:
        fast, distance, kind, piece = True, nearest, POINT, pieces[c]
    if not fast:
        distance, kind, piece, t, other, s = nearest_boundary(
            outline, first, end, base, x0, rule, p, aa_width, tolerances
        )
    signed = -distance if inside else distance
    return coverage(signed, aa_width), signed, kind, piece, t, other, s


@ti.func
def control_weights(points, piece, t):
    """The weights (4-vector) of a segment's control points in the point at ``t`` of its
    quadratic ``piece`` (a line's midpoint control splits between its ends)."""
    weights = ti.Vector([0.0] * 4) + 0.0 * t
    if points == 2:
        weights[0], weights[1] = 1.0 - t, t
    elif points == 3:
        weights[0], weights[1], weights[2] = (1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t
    else:
        weights = cubic_point_weights(piece, t)
    return weights


@ti.func
def _spread(weights, v):
    """A segment vector holding ``weights[k] * v`` at control point k."""
    spread = ti.Vector([0.0] * SEGMENT_SIZE) + 0.0 * v[0]
    for k in ti.static(range(4)):
        spread[2 * k], spread[2 * k + 1] = weights[k] * v[0], weights[k] * v[1]
    return spread


@ti.func
def coverage_grad(outline: ti.template(), first, p, signed, kind, piece, t, other, s, aa_width):
    """The gradient of the coverage with respect to the control points of the segment(s)
    that the nearest boundary point lies on: (ref, a segment vector) for the first piece's
    segment and for the other's (a MEETING; else a zero vector)."""
    refs = ti.static(outline[2])
    ref, ref2 = first + piece // CUBIC_PIECES, first + other // CUBIC_PIECES
    grad, grad2 = ti.Vector([0.0] * SEGMENT_SIZE) + 0.0 * p[0], ti.Vector([0.0] * SEGMENT_SIZE) + 0.0 * p[0]
    if kind != NONE and signed != 0.0:
        # d coverage / d distance: the signed distance is -distance inside.
        slope = coverage_slope(signed, aa_width) * ti.select(signed < 0.0, -1.0, 1.0)
        points = _points(outline, refs[ref])
        a, b, c = load_piece(outline[0], refs[ref], piece % CUBIC_PIECES)
        away = (_point(a, b, c, t) - p) / ti.abs(signed)
        if kind == POINT:
            grad = _spread(control_weights(points, piece % CUBIC_PIECES, t), slope * away)
        else:
            points2 = _points(outline, refs[ref2])
            a2, b2, c2 = load_piece(outline[0], refs[ref2], other % CUBIC_PIECES)
            on_first, on_second = meeting_grad(a, b, c, a2, b2, c2, t, s, away)
            grad = _spread(control_weights(points, piece % CUBIC_PIECES, t), slope * on_first)
            grad2 = _spread(control_weights(points2, other % CUBIC_PIECES, s), slope * on_second)
    return ref, grad, ref2, grad2
