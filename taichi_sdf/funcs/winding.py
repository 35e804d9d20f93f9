"""Winding numbers about closed outlines of quadratic pieces, counted along horizontal lines.

An outline's segment has 2 (line), 3 (quadratic) or 4 (cubic) control points in a vector of
``SEGMENT_SIZE`` values (x0, y0, x1, y1, ..., zero-padded); it is drawn as quadratic pieces
(:func:`segment_pieces`): a line as (a, midpoint, c), a quadratic as itself, a cubic as the
CUBIC_PIECES pieces of :mod:`taichi_sdf.funcs.bezier`, kept in a row of a *pieces table*
(PIECES_SIZE values a segment: each piece's a, b, c, where its y turns and the heights it
spans, then the segment's piece count and heights) that the other functions read.

The winding number at p counts the pieces crossing the ray to the left of p: a piece is cut
where its y turns into parts along which y only rises or only falls, and a part from height
y0 to y1 crosses the line at height y iff ``min(y0, y1) <= y < max(y0, y1)`` (half-open: a
shared end point, a vertex on the line and a horizontal part count exactly once or not at
all), adding +1 going down (y growing) and -1 going up where it crosses left of p. The
numpy reference (:mod:`taichi_sdf.kinds.reference_path`) counts by the same rule.

Counting only near a place: split the ray at x0. The pieces far from a box [x0, x1] x [y0,
y1] (touching none of it) each stay on one side of it across its heights, so what they add
left of x0 changes with the height only at their end points there; along a closed outline
the end points of two such pieces cancel, and what is left is the step at the end point
that such a piece shares with a piece near the box. :func:`end_steps` gives those steps from
the near pieces' side, so that the winding number anywhere in the box is the one at its
corner (x0, y0) plus what the near segments add (see :func:`near_winding`).
"""

import taichi as ti

from taichi_sdf.funcs.bezier import CUBIC_PIECES, cubic_piece

SEGMENT_SIZE = 8  # a segment's control points, 2 values each, zero-padded
PIECE_SIZE = 10  # a quadratic piece's a, b, c, the t and y where its y turns (see monotone_turn), its least and most y
SEGMENT_AT = CUBIC_PIECES * PIECE_SIZE  # where a row's segment values start: its piece count, least and most y
PIECES_SIZE = SEGMENT_AT + 3
FAR = 1e30  # no bound


@ti.func
def filled(winding, rule):
    """Whether a winding number is filled under fill rule 0 (nonzero) or 1 (even-odd)."""
    return (winding % 2 != 0) if rule == 1 else (winding != 0)


@ti.func
def control_point(segment, k):
    """Control point ``k`` (a run-time integer) of a segment vector."""
    return ti.Vector([segment[2 * k], segment[2 * k + 1]])


@ti.func
def piece_count(points):
    """How many quadratic pieces draw a segment of ``points`` control points."""
    return CUBIC_PIECES if points == 4 else 1


@ti.func
def segment_pieces(segment, points):
    """The pieces table row (PIECES_SIZE values, see the module docstring) of a segment of
    ``points`` control points (a line: (a, midpoint, c); a quadratic: itself)."""
    p0, p1 = control_point(segment, 0), control_point(segment, 1)
    p2, p3 = control_point(segment, 2), control_point(segment, 3)
    row = ti.Vector([0.0] * PIECES_SIZE) + 0.0 * segment[0]
    count = piece_count(points)
    lowest, highest = FAR + 0.0 * segment[0], -FAR + 0.0 * segment[0]
    for j in range(count):
        a, b, c = p0, 0.5 * (p0 + p1), p1
        if points == 3:
            a, b, c = p0, p1, p2
        elif points == 4:
            a, b, c = cubic_piece(p0, p1, p2, p3, j)
        t_turn, y_turn = monotone_turn(a, b, c)
        low, high = ti.min(a[1], y_turn, c[1]), ti.max(a[1], y_turn, c[1])
        for i in ti.static(range(2)):
            row[PIECE_SIZE * j + i], row[PIECE_SIZE * j + 2 + i], row[PIECE_SIZE * j + 4 + i] = a[i], b[i], c[i]
        row[PIECE_SIZE * j + 6], row[PIECE_SIZE * j + 7] = t_turn, y_turn
        row[PIECE_SIZE * j + 8], row[PIECE_SIZE * j + 9] = low, high
        lowest, highest = ti.min(lowest, low), ti.max(highest, high)
    row[SEGMENT_AT], row[SEGMENT_AT + 1], row[SEGMENT_AT + 2] = count, lowest, highest
    return row


@ti.func
def load_piece(pieces: ti.template(), s, j):
    """Control points a, b, c of piece ``j`` of segment ``s`` of a pieces table."""
    at = PIECE_SIZE * j
    a = ti.Vector([pieces[s, at], pieces[s, at + 1]])
    b = ti.Vector([pieces[s, at + 2], pieces[s, at + 3]])
    c = ti.Vector([pieces[s, at + 4], pieces[s, at + 5]])
    return a, b, c


@ti.func
def load_turn(pieces: ti.template(), s, j):
    """Where piece ``j`` of segment ``s`` turns in y (t, y: :func:`monotone_turn`)."""
    return pieces[s, PIECE_SIZE * j + 6], pieces[s, PIECE_SIZE * j + 7]


@ti.func
def piece_heights(pieces: ti.template(), s, j):
    """The lowest and the highest y of the points of piece ``j`` of segment ``s``."""
    return pieces[s, PIECE_SIZE * j + 8], pieces[s, PIECE_SIZE * j + 9]


@ti.func
def segment_piece_count(pieces: ti.template(), s):
    """How many quadratic pieces segment ``s`` of a pieces table has."""
    return ti.cast(pieces[s, SEGMENT_AT], ti.i32)


@ti.func
def segment_heights(pieces: ti.template(), s):
    """The lowest and the highest y of segment ``s``'s points."""
    return pieces[s, SEGMENT_AT + 1], pieces[s, SEGMENT_AT + 2]


@ti.func
def segment_ends(pieces: ti.template(), s):
    """The first and the last point of segment ``s`` (its first piece's a, its last one's c)."""
    last = PIECE_SIZE * (segment_piece_count(pieces, s) - 1) + 4
    return ti.Vector([pieces[s, 0], pieces[s, 1]]), ti.Vector([pieces[s, last], pieces[s, last + 1]])


@ti.func
def _part_parameter(a, along, bend, t0, t1, y):
    """The t in [t0, t1] where the quadratic (a, along = b - a, bend = a - 2b + c), monotone
    in y there and reaching height ``y``, does: the root of bend_y t^2 + 2 along_y t + a_y -
    y (the nearer to ``y`` of the two forms of the quadratic formula that do not cancel),
    then one Newton step."""
    qa, qb, qc = bend[1], along[1], a[1] - y
    root = ti.sqrt(ti.max(qb * qb - qa * qc, 0.0))
    q = -(qb + ti.select(qb >= 0.0, root, -root))
    first = ti.math.clamp(ti.select(qa != 0.0, q / ti.select(qa != 0.0, qa, 1.0), t0), t0, t1)
    second = ti.math.clamp(ti.select(q != 0.0, qc / ti.select(q != 0.0, q, 1.0), t0), t0, t1)
    miss_first = ti.abs((qa * first + 2.0 * qb) * first + qc)
    miss_second = ti.abs((qa * second + 2.0 * qb) * second + qc)
    t = ti.select(miss_first <= miss_second, first, second)
    slope = 2.0 * (qa * t + qb)
    step = ti.select(slope != 0.0, ((qa * t + 2.0 * qb) * t + qc) / ti.select(slope != 0.0, slope, 1.0), 0.0)
    return ti.math.clamp(t - step, t0, t1)


@ti.func
def monotone_turn(a, b, c):
    """Where the quadratic's y turns (t and y there; 1 and c_y where it does not): its parts
    along which y only rises or only falls are [0, turn] and [turn, 1]."""
    t_turn, y_turn = 1.0 + 0.0 * a[0], c[1]
    if (b[1] - a[1]) * (c[1] - b[1]) < 0.0:  # y turns inside (0, 1): two parts
        t_turn = (a[1] - b[1]) / ((a[1] + c[1]) - 2.0 * b[1])
        y_turn = a[1] + (2.0 * (b[1] - a[1]) + ((a[1] + c[1]) - 2.0 * b[1]) * t_turn) * t_turn
    return t_turn, y_turn


@ti.func
def piece_crossings(a, b, c, t_turn, y_turn, y):
    """Where the quadratic a-b-c, turning in y at (t_turn, y_turn) (:func:`monotone_turn`),
    crosses the line at height ``y`` (the half-open rule of this module's docstring): the x
    and sign (+1 down, -1 up, 0 none) of each of its (at most two) y-monotone parts."""
    along, bend = b - a, (a + c) - 2.0 * b
    x = ti.Vector([0.0, 0.0]) + 0.0 * y
    sign = crossing_signs(a, c, t_turn, y_turn, y)
    for k in ti.static(range(2)):
        if sign[k] != 0:
            t0, t1 = (0.0 * y, t_turn) if ti.static(k == 0) else (t_turn, 1.0 + 0.0 * y)
            t = _part_parameter(a, along, bend, t0, t1, y)
            x[k] = a[0] + (2.0 * along[0] + bend[0] * t) * t
    return x, sign


@ti.func
def crossing_signs(a, c, t_turn, y_turn, y):
    """The signs (+1 down, -1 up, 0 none) with which the two y-monotone parts of the
    quadratic from a to c, turning in y at (t_turn, y_turn), cross the line at height ``y``
    (see :func:`piece_crossings`), without where."""
    sign = ti.Vector([0, 0])
    for k in ti.static(range(2)):
        t0, t1 = (0.0 * y, t_turn) if ti.static(k == 0) else (t_turn, 1.0 + 0.0 * y)
        y0, y1 = (a[1], y_turn) if ti.static(k == 0) else (y_turn, c[1])
        if ti.min(y0, y1) <= y < ti.max(y0, y1) and t0 < t1:
            sign[k] = 1 if y1 > y0 else -1
    return sign


@ti.func
def piece_row_span(a, b, c, y, reach):
    """An x-interval (lo, hi; empty, lo > hi, where none) holding every point of the line at
    height ``y`` within ``reach`` of the quadratic a-b-c: each of its points lies within
    |a - 2b + c| / 4 (its sag) of its chord a-c's point at the same t, so the chord's points
    within ``reach`` + sag of that height, grown by as much, hold them."""
    grown = reach + 0.25 * ((a + c) - 2.0 * b).norm()
    lo, hi = FAR + 0.0 * y, -FAR + 0.0 * y
    rise = c[1] - a[1]
    t0, t1 = 0.0 * y, 1.0 + 0.0 * y
    if rise != 0.0:  # the chord's t where it is within ``grown`` of the height
        ta, tb = (y - grown - a[1]) / rise, (y + grown - a[1]) / rise
        t0, t1 = ti.max(0.0, ti.min(ta, tb)), ti.min(1.0, ti.max(ta, tb))
    elif ti.abs(a[1] - y) > grown:
        t1 = -1.0  # a level chord out of reach
    if t0 <= t1:
        xa, xb = a[0] + (c[0] - a[0]) * t0, a[0] + (c[0] - a[0]) * t1
        lo, hi = ti.min(xa, xb) - grown, ti.max(xa, xb) + grown
    return lo, hi


@ti.func
def end_steps(pieces: ti.template(), s, x0, y):
    """What segment ``s``'s far neighbours add left of x0 at height ``y`` (see the module
    docstring): -1 from its start point's height on, where its start lies left of x0, and
    +1 from its end point's height on, where its end does."""
    start, end = segment_ends(pieces, s)
    step = 0
    if start[0] < x0 and y >= start[1]:
        step -= 1
    if end[0] < x0 and y >= end[1]:
        step += 1
    return step


@ti.func
def segment_winding(pieces: ti.template(), s, p, x0):
    """What segment ``s``, near a box with left side x0, adds to the winding number at
    ``p``: its crossings left of p and its :func:`end_steps`."""
    total = end_steps(pieces, s, x0, p[1])
    for j in range(segment_piece_count(pieces, s)):
        a, b, c = load_piece(pieces, s, j)
        t_turn, y_turn = load_turn(pieces, s, j)
        x, sign = piece_crossings(a, b, c, t_turn, y_turn, p[1])
        for k in ti.static(range(2)):
            if x[k] < p[0]:
                total += sign[k]
    return total
