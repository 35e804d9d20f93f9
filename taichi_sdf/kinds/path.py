"""Filled paths: closed outlines of line, quadratic and cubic Bézier segments, with holes and a
fill rule.

A group of paths shares its control points, ``points`` (P, 2) in pixels (the differentiable
geometry). Each segment lists the indices of its control points in a row of ``segments``
(S, 4), padded with -1: a line uses 2, a quadratic 3, a cubic 4. A contour is a run of
consecutive segments, each starting at the point where the one before it ends and the last
ending at the point where the first starts: contours are closed by index, so moving a point
moves both segments that meet there. ``contour_ends`` (C,) holds where each contour's run of
segments ends (exclusive, increasing, the last is S); a path is a run of contours,
``path_ends`` (N,) (the last is C). Paths may share points with each other (two paths along
one edge then leave no seam). :meth:`Paths.from_contours` builds a group from control point
coordinates, as SVG path data and glyph outlines give them.

The image model: a path fills F = {x : rule(w(x))}, w the winding number of x about its
contours and ``fill_rules`` (N,) choosing nonzero (w != 0) or even-odd (w odd) per path, as
SVG's ``fill-rule``. A cubic is drawn as the CUBIC_PIECES quadratic pieces that the cubic
strokes draw (within ``sqrt(3)/2304 |P0 - 3 P1 + 3 P2 - P3|`` pixels of it, see
:mod:`taichi_sdf.funcs.bezier`), for its distance and its winding alike. The coverage is the
smooth step of the signed distance to the boundary of F (negative inside), like every other
kind's; an edge across which the fill does not change (where two contours overlap under
nonzero, a contour drawn twice) is no boundary, so it leaves no line. Coverage, winding and
boundary are defined independently in :mod:`taichi_sdf.kinds.reference_path`.

The fill: ``colours`` (N, 3), optional ``slopes`` (N, 3, 2) for a linear fill and
``opacities`` (N,). A linear fill ``colour + slopes @ (p - anchor) / size`` is anchored at
the mean of the path's on-curve points (each segment's start point, so each contour's
vertices once) and given per their RMS distance from it (see :func:`fill_frames`): a circle
drawn as four cubics has its centre and radius, as a :class:`~taichi_sdf.kinds.circle.Circles`
circle has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from taichi_sdf.groups import ShapeGroup, set_fill
from taichi_sdf.kinds import reference_path
from taichi_sdf.kinds.base import Kind
from taichi_sdf.kinds.footprints import fill_attributes

FILL_RULES = ("nonzero", "evenodd")  # codes 0 and 1, named as SVG's fill-rule values
MAX_CONTROLS = 4  # control points of a cubic, the widest segment
# Added to the squared RMS size of a linear fill's frame (pixels^2), so that a path whose
# points all coincide has a finite frame rather than a division by zero.
FRAME_FLOOR = 1e-6


def _integers(value, name: str, ndim: int) -> np.ndarray:
    """``value`` as an int32 array of ``ndim`` dimensions, or ValueError naming ``name``."""
    array = np.asarray(value)
    if array.ndim != ndim or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be an integer array with {ndim} dimension(s), got {array.dtype} {array.shape}")
    if array.size and (array.min() < -(2**31) or array.max() >= 2**31):
        raise ValueError(f"{name} holds indices beyond 32 bits")
    return array.astype(np.int32).reshape(array.shape)


def _runs(ends: np.ndarray, count: int, name: str, what: str, of: str) -> None:
    """Check that ``ends`` cut ``count`` items into non-empty consecutive runs."""
    if len(ends) == 0:
        raise ValueError(f"{name} is empty: a group needs at least one {what}")
    starts = np.concatenate([[0], ends[:-1]])
    empty = np.nonzero(ends <= starts)[0]
    if len(empty):
        raise ValueError(f"{name} must increase: {what} {empty[0]} has no {of}")
    if ends[-1] != count:
        raise ValueError(f"{name} must end at the number of {of} ({count}), got {ends[-1]}")


def fill_rule_codes(fill_rules, n: int) -> np.ndarray:
    """(n,) int32 fill rule codes (0 nonzero, 1 even-odd) from one rule for all paths or one
    per path, each a name of :data:`FILL_RULES` or its code."""
    rules = np.asarray(fill_rules)
    if rules.ndim == 0:
        rules = np.full(n, rules.item(), dtype=rules.dtype)
    if rules.shape != (n,):
        raise ValueError(f"fill_rules must be one rule or one per path ({n}), got shape {rules.shape}")
    codes = np.empty(n, np.int32)
    for i, rule in enumerate(rules.tolist()):
        if rule in FILL_RULES:
            codes[i] = FILL_RULES.index(rule)
        elif isinstance(rule, int) and not isinstance(rule, bool) and 0 <= rule < len(FILL_RULES):
            codes[i] = rule
        else:
            raise ValueError(f"fill_rules[{i}] is {rule!r}; a fill rule is one of {FILL_RULES} (or its code 0, 1)")
    return codes


def _check_segments(segments: np.ndarray, n_points: int) -> np.ndarray:
    """The number of control points of each segment (S,), or ValueError naming the first
    segment that is not 2-4 point indices followed by -1 padding."""
    if segments.shape[1:] != (MAX_CONTROLS,):
        raise ValueError(f"segments must have shape (S, {MAX_CONTROLS}) (-1 padded), got {segments.shape}")
    used = segments >= 0
    counts = used.sum(axis=1)
    padded = used[:, :-1] < used[:, 1:]  # an index after a -1
    for j in np.nonzero(padded.any(axis=1) | (counts < 2))[0][:1]:
        if counts[j] < 2:
            raise ValueError(f"segments[{j}] has {counts[j]} control point(s); a segment needs 2 (line), "
                             "3 (quadratic) or 4 (cubic)")  # fmt: skip
        raise ValueError(f"segments[{j}] is {segments[j].tolist()}: the -1 padding must come after the points")
    if (segments < -1).any():
        raise ValueError(f"segments hold {segments.min()}: point indices are >= 0, padding is -1")
    if segments.size and segments.max() >= n_points:
        raise ValueError(f"segments refer to point {segments.max()}, but there are {n_points} points")
    return counts


def _check_closed(segments: np.ndarray, counts: np.ndarray, contour_ends: np.ndarray) -> None:
    """ValueError naming the first contour whose segments do not each start where the one
    before ends, the last ending where the first starts."""
    starts = segments[:, 0]
    ends = segments[np.arange(len(segments)), counts - 1]
    first = np.concatenate([[0], contour_ends[:-1]])
    following = np.arange(1, len(segments) + 1)  # the next segment in the same contour...
    following[contour_ends - 1] = first  # ...and the first after the last
    open_at = np.nonzero(ends != starts[following])[0]
    if len(open_at):
        j = int(open_at[0])
        contour = int(np.searchsorted(contour_ends, j, side="right"))
        k = int(following[j])
        if k == first[contour]:
            raise ValueError(f"contour {contour} is open: its last segment ({j}) ends at point {ends[j]}, "
                             f"not at point {starts[k]} where its first segment starts")  # fmt: skip
        raise ValueError(f"contour {contour} is open: segment {j} ends at point {ends[j]} "
                         f"but segment {k} starts at point {starts[k]}")  # fmt: skip


@dataclass(frozen=True)
class Paths(ShapeGroup):
    """N filled paths (see the module docstring): ``points`` (P, 2) shared control points in
    pixels, ``segments`` (S, 4) point indices padded with -1, ``contour_ends`` (C,) and
    ``path_ends`` (N,) the ends of the runs of segments and contours, ``colours`` (N, 3),
    ``fill_rules`` one of :data:`FILL_RULES` (or a code) for all paths or one per path,
    optional ``slopes`` (N, 3, 2) and ``opacities`` (N,)."""

    points: np.ndarray
    segments: np.ndarray
    contour_ends: np.ndarray
    path_ends: np.ndarray
    colours: np.ndarray
    fill_rules: np.ndarray | str = "nonzero"
    slopes: np.ndarray | None = None
    opacities: np.ndarray | None = None

    PARAMETERS: ClassVar = ("points", "colours", "slopes", "opacities")
    INDICES: ClassVar = ("segments", "contour_ends", "path_ends", "fill_rules")
    LENGTHS: ClassVar = ("points",)
    LEARNING_RATES: ClassVar = {"points": 1.0}

    def __post_init__(self):
        points = np.array(self.points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"points must have shape (P, 2), got {points.shape}")
        segments = _integers(self.segments, "segments", 2)
        contour_ends = _integers(self.contour_ends, "contour_ends", 1)
        path_ends = _integers(self.path_ends, "path_ends", 1)
        counts = _check_segments(segments, len(points))
        _runs(contour_ends, len(segments), "contour_ends", "contour", "segments")
        _runs(path_ends, len(contour_ends), "path_ends", "path", "contours")
        _check_closed(segments, counts, contour_ends)
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "contour_ends", contour_ends)
        object.__setattr__(self, "path_ends", path_ends)
        object.__setattr__(self, "fill_rules", fill_rule_codes(self.fill_rules, len(path_ends)))
        set_fill(self, len(path_ends))

    def __len__(self) -> int:
        return len(self.path_ends)

    @classmethod
    def from_contours(cls, paths: Sequence, colours, fill_rules="nonzero", slopes=None, opacities=None) -> Paths:
        """Paths from control point coordinates: ``paths`` holds per path its contours, per
        contour its segments, per segment its 2 (line), 3 (quadratic) or 4 (cubic) control
        points (x, y) in pixels, each segment starting where the one before it ends. A
        contour that does not end where it starts is closed by a line, as SVG's ``Z`` and a
        font's contours close. The other arguments are as :class:`Paths` takes them."""
        points, segments, contour_ends, path_ends = [], [], [], []
        for p, contours in enumerate(paths):
            for c, contour in enumerate(contours):
                where = f"path {p}, contour {c}"
                controls = [np.asarray(segment, dtype=np.float64) for segment in contour]
                if not controls:
                    raise ValueError(f"{where} has no segments")
                first = len(points)
                for k, control in enumerate(controls):
                    if control.ndim != 2 or control.shape[1] != 2 or not 2 <= len(control) <= MAX_CONTROLS:
                        raise ValueError(f"{where}, segment {k}: a segment is 2 to {MAX_CONTROLS} points (x, y), "
                                         f"got shape {control.shape}")  # fmt: skip
                    if k == 0:
                        points.append(control[0])
                    elif not np.array_equal(control[0], points[-1]):
                        raise ValueError(f"{where}, segment {k} starts at {control[0].tolist()}, "
                                         f"not where segment {k - 1} ends, {points[-1].tolist()}")  # fmt: skip
                    index = [len(points) - 1]
                    for point in control[1:]:
                        points.append(point)
                        index.append(len(points) - 1)
                    segments.append(index)
                if np.array_equal(points[-1], points[first]):  # closed: the last point is the first
                    points.pop()
                    segments[-1][-1] = first
                else:
                    segments.append([len(points) - 1, first])
                contour_ends.append(len(segments))
            path_ends.append(len(contour_ends))
        padded = [index + [-1] * (MAX_CONTROLS - len(index)) for index in segments]
        return cls(np.reshape(points, (-1, 2)), np.reshape(padded, (-1, MAX_CONTROLS)).astype(np.int32),
                   contour_ends, path_ends, colours, fill_rules, slopes, opacities)  # fmt: skip

    def control_counts(self) -> np.ndarray:
        """(S,) the number of control points of each segment: 2 line, 3 quadratic, 4 cubic."""
        return (self.segments >= 0).sum(axis=1)

    def segment_range(self, i: int) -> range:
        """The segments of path ``i`` (contiguous, in contour order)."""
        first_contour = 0 if i == 0 else self.path_ends[i - 1]
        start = 0 if first_contour == 0 else self.contour_ends[first_contour - 1]
        return range(int(start), int(self.contour_ends[self.path_ends[i] - 1]))

    def contours(self, i: int) -> list[list[np.ndarray]]:
        """Path ``i`` as from_contours takes it: per contour, per segment its (k, 2) control points."""
        first = 0 if i == 0 else int(self.path_ends[i - 1])
        result = []
        for c in range(first, int(self.path_ends[i])):
            start = 0 if c == 0 else int(self.contour_ends[c - 1])
            result.append([self.points[row[row >= 0]] for row in self.segments[start : self.contour_ends[c]]])
        return result

    def fill_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """Anchor (N, 2) and size (N,) of each linear fill: the mean of the path's segment
        start points and their RMS distance from it (see :data:`FRAME_FLOOR`)."""
        anchors, sizes = np.empty((len(self), 2)), np.empty(len(self))
        for i in range(len(self)):
            starts = self.points[self.segments[self.segment_range(i), 0]]
            anchors[i] = starts.mean(axis=0)
            sizes[i] = np.sqrt(np.mean(np.sum((starts - anchors[i]) ** 2, axis=1)) + FRAME_FLOOR)
        return anchors, sizes

    def fill_extent(self, i: int, anchor: np.ndarray, direction: np.ndarray) -> tuple[float, float]:
        """Least and greatest (p - anchor) . direction over the control points of path ``i``,
        which hold its outline (a Bézier curve lies in the hull of its control points)."""
        used = self.segments[self.segment_range(i)]
        along = (self.points[used[used >= 0]] - anchor) @ direction
        return along.min(), along.max()


def reference_coverage(group: Paths, i: int, points: np.ndarray, aa_width: float) -> np.ndarray:
    """Coverage of path ``i`` at (..., 2) pixel positions, in numpy (see :mod:`taichi_sdf.kinds.reference_path`)."""
    return reference_path.path_coverage(group, i, points, aa_width)


def svg_element(group: Paths, i: int, paint: str, number) -> str:
    """Path ``i`` as an SVG ``<path>``: a subpath per contour, its segments as L, Q and C."""
    commands = []
    for contour in group.contours(i):
        commands.append("M " + ",".join(number(v) for v in contour[0][0]))
        for controls in contour:
            commands.append(
                "LQC"[len(controls) - 2] + " " + " ".join(f"{number(x)},{number(y)}" for x, y in controls[1:])
            )
        commands.append("Z")
    rule = FILL_RULES[group.fill_rules[i]]
    return f'<path d="{" ".join(commands)}" fill-rule="{rule}" {fill_attributes(group, i, paint, number)}/>'


# The row's guide: the linear fill's anchor (2) and size, from the segment table.
FRAME_SIZE = 3
KIND = Kind("path", 7, Paths, (), FRAME_SIZE, *[None] * 8, reference_coverage, svg_element, segmented=True)
