"""The numpy reference of a filled path (float64, brute force): its pieces, winding numbers,
the boundary of what it fills, and its coverage.

Written to be obviously correct rather than fast, and independent of the Taichi kernels:

* **Pieces.** Every segment becomes quadratic pieces (a, b, c): a line (a, midpoint, c), a
  quadratic itself, a cubic the CUBIC_PIECES pieces of :mod:`taichi_sdf.funcs.bezier`.
* **Winding** by a ray to the left: each piece is cut where its y turns into parts along
  which y only rises or only falls; a part from y0 to y1 crosses the line at height y iff
  min(y0, y1) <= y < max(y0, y1) (half-open, so shared end points, vertices on the ray and
  horizontal parts count exactly once or not at all), at the x found by bisection in t; it
  adds +1 going down (y growing), -1 going up, where it crosses left of the point.
* **Boundary.** Each piece is cut at every parameter where another piece of the path meets
  it (the roots of a resultant, and the other pieces' end points lying on it), so that along
  each sub-arc the fill on either side stays the same; a sub-arc is boundary iff the fill
  rule differs at the two points a hair (:data:`SIDE_STEP`) to either side of its midpoint.
* **Coverage**: the smooth step of the signed distance to the union of the boundary sub-arcs
  (exact: the least of |B(t) - p| over the roots of its derivative and the sub-arc's ends),
  negative where the winding number is filled.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.polynomial import polynomial

from taichi_sdf.funcs.bezier import CUBIC_PIECE_WEIGHTS
from taichi_sdf.kinds.reference_sdf import coverage, quadratic_parameters, quadratic_point

SIDE_STEP = 1e-7  # pixels to either side of a sub-arc where its two fills are read
ON_CURVE = 1e-9  # pixels: an end point this near a piece meets it
BISECTIONS = 64  # steps finding where a part crosses a line: [0, 1] halved below float64 rounding


def pieces(controls: np.ndarray) -> np.ndarray:
    """The quadratic pieces (n, 3, 2) of a segment with (k, 2) control points, k = 2, 3, 4."""
    if len(controls) == 2:
        a, c = controls
        return np.array([[a, 0.5 * (a + c), c]])
    if len(controls) == 3:
        return controls[None].astype(np.float64)
    return CUBIC_PIECE_WEIGHTS @ controls


def path_pieces(group, i: int) -> np.ndarray:
    """All quadratic pieces (n, 3, 2) of path ``i`` of a :class:`~taichi_sdf.kinds.path.Paths`
    group, contour after contour (a contour's pieces follow each other end to start)."""
    return np.concatenate([pieces(controls) for contour in group.contours(i) for controls in contour])


def filled(winding: np.ndarray, rule: int) -> np.ndarray:
    """Whether a winding number is filled under rule 0 (nonzero) or 1 (even-odd)."""
    return winding % 2 == 1 if rule == 1 else winding != 0


def _monotone_parts(piece: np.ndarray) -> list[tuple[float, float, float, float]]:
    """(t0, t1, y0, y1) of the parts of a quadratic along which y is monotone: one, or two cut
    at the parameter where y turns (the cut's y computed once, shared by both)."""
    (_, ya), (_, yb), (_, yc) = piece
    if (yb - ya) * (yc - yb) < 0.0:  # y turns inside (0, 1)
        turn = (ya - yb) / ((ya + yc) - 2.0 * yb)
        y_turn = quadratic_point(*piece, turn)[1]
        return [(0.0, turn, ya, y_turn), (turn, 1.0, y_turn, yc)]
    return [(0.0, 1.0, ya, yc)]


def winding_numbers(points: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Winding number (int, (...)) of each of the (..., 2) ``points`` about the closed
    contours whose quadratic pieces are ``path`` (n, 3, 2), by the ray to the left."""
    flat = points.reshape(-1, 2)
    winding = np.zeros(len(flat), np.int64)
    for piece in path:
        for t0, t1, y0, y1 in _monotone_parts(piece):
            if y0 == y1:
                continue  # a horizontal part crosses no line
            crossed = np.nonzero((min(y0, y1) <= flat[:, 1]) & (flat[:, 1] < max(y0, y1)))[0]
            low, high = np.full(len(crossed), t0), np.full(len(crossed), t1)
            rising = y1 > y0
            for _ in range(BISECTIONS):  # the t in [t0, t1] where the part reaches the point's height
                middle = 0.5 * (low + high)
                below = (quadratic_point(*piece, middle)[:, 1] < flat[crossed, 1]) == rising
                low, high = np.where(below, middle, low), np.where(below, high, middle)
            left = quadratic_point(*piece, low)[:, 0] < flat[crossed, 0]
            winding[crossed[left]] += 1 if rising else -1
    return winding.reshape(points.shape[:-1])


def _resultant_roots(piece: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Parameters in [0, 1] of ``piece`` at which it may meet ``other`` (a superset: every
    real root of the resultant eliminating other's parameter s from piece(t) = other(s))."""
    a, b, c = piece
    along, bend = 2.0 * (b - a), (a + c) - 2.0 * b
    oa, ob, oc = other
    o_along, o_bend = 2.0 * (ob - oa), (oa + oc) - 2.0 * ob
    # other(s) - piece(t) = o_bend s^2 + o_along s + k(t), k(t) = oa - a - along t - bend t^2 (per axis).
    k = [polynomial.Polynomial([oa[j] - a[j], -along[j], -bend[j]]) for j in range(2)]
    cross = o_bend[0] * o_along[1] - o_bend[1] * o_along[0]
    if cross == 0.0:  # other is straight (or a point): piece(t) on its line
        direction = o_along if o_along @ o_along > 0.0 else o_bend
        equation = direction[0] * k[1] - direction[1] * k[0]
    else:  # Sylvester resultant of two quadratics in s
        equation = (o_bend[0] * k[1] - o_bend[1] * k[0]) ** 2 - cross * (o_along[0] * k[1] - o_along[1] * k[0])
    coefficients = np.trim_zeros(equation.coef, "b")
    if len(coefficients) < 2 or not np.all(np.isfinite(coefficients)):
        return np.zeros(0)  # no equation in t (other lies along piece): its ends say where they part
    roots = np.roots(coefficients[::-1])
    real = roots[np.abs(roots.imag) <= 1e-7 * (1.0 + np.abs(roots.real))].real
    return np.clip(real[(real >= -1e-9) & (real <= 1.0 + 1e-9)], 0.0, 1.0)


def _points_on(piece: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Parameters at which ``piece`` passes within ON_CURVE of any of the (m, 2) ``ends``."""
    tolerance = ON_CURVE * (1.0 + np.abs(ends).max())
    ends = ends[np.all((ends >= piece.min(axis=0) - tolerance) & (ends <= piece.max(axis=0) + tolerance), axis=1)]
    found = [np.zeros(0)]
    for t in quadratic_parameters(ends, *piece) if len(ends) else ():
        found.append(t[np.linalg.norm(quadratic_point(*piece, t) - ends, axis=1) <= tolerance])
    return np.concatenate(found)


def _boxes_meet(piece: np.ndarray, other: np.ndarray) -> bool:
    """Whether the boxes of two pieces' control points meet (else the pieces cannot)."""
    return bool(np.all(piece.min(axis=0) <= other.max(axis=0)) and np.all(other.min(axis=0) <= piece.max(axis=0)))


def boundary_arcs(path: np.ndarray, rule: int) -> list[tuple[int, float, float]]:
    """The sub-arcs (piece index, t0, t1) of ``path``'s pieces across which the fill
    changes: the boundary of the region the path fills."""
    ends = np.concatenate([path[:, 0], path[:, 2]])
    arcs, sides = [], []
    for index, piece in enumerate(path):
        cuts = [np.array([0.0, 1.0]), _points_on(piece, ends)]
        cuts += [
            _resultant_roots(piece, other) for j, other in enumerate(path) if j != index and _boxes_meet(piece, other)
        ]
        cuts = np.unique(np.concatenate(cuts))
        a, b, c = piece
        for t0, t1 in itertools.pairwise(cuts):
            middle = 0.5 * (t0 + t1)
            tangent = 2.0 * ((b - a) + ((a + c) - 2.0 * b) * middle)
            length = np.linalg.norm(tangent)
            if t1 - t0 <= 1e-12 or length == 0.0:
                continue  # no length: its ends belong to the arcs beside it
            normal = np.array([-tangent[1], tangent[0]]) / length
            q = quadratic_point(a, b, c, middle)
            arcs.append((index, float(t0), float(t1)))
            sides.append([q + SIDE_STEP * normal, q - SIDE_STEP * normal])
    if not arcs:
        return []
    fills = filled(winding_numbers(np.array(sides), path), rule)
    return [arc for arc, (one, other) in zip(arcs, fills) if one != other]


def boundary_distance(points: np.ndarray, path: np.ndarray, arcs: list, reach: float = np.inf) -> np.ndarray:
    """Distance from each of the (..., 2) ``points`` to the union of the boundary ``arcs``
    of ``path``'s pieces; inf where none comes within ``reach``."""
    flat = points.reshape(-1, 2)
    best = np.full(len(flat), np.inf)
    for index in sorted({arc[0] for arc in arcs}):
        piece = path[index]
        near = np.nonzero(np.all((flat > piece.min(axis=0) - reach) & (flat < piece.max(axis=0) + reach), axis=1))[0]
        if len(near) == 0:
            continue
        parameters = quadratic_parameters(flat[near], *piece)
        for _, t0, t1 in (arc for arc in arcs if arc[0] == index):
            for t in parameters:  # clamped to the sub-arc: its nearest point is among them
                distance = np.linalg.norm(quadratic_point(*piece, np.clip(t, t0, t1)) - flat[near], axis=1)
                best[near] = np.minimum(best[near], distance)
    return best.reshape(points.shape[:-1])


def signed_distance(group, i: int, points: np.ndarray, reach: float = np.inf) -> np.ndarray:
    """Signed distance (pixels, negative inside) from (..., 2) ``points`` to the boundary of
    what path ``i`` of ``group`` fills; +-inf where the boundary is not within ``reach``."""
    path = path_pieces(group, i)
    rule = int(group.fill_rules[i])
    distance = boundary_distance(points, path, boundary_arcs(path, rule), reach)
    return np.where(filled(winding_numbers(points, path), rule), -distance, distance)


def path_coverage(group, i: int, points: np.ndarray, aa_width: float) -> np.ndarray:
    """Coverage of path ``i`` of ``group`` at (..., 2) pixel positions."""
    return coverage(signed_distance(group, i, points, reach=aa_width), aa_width)
