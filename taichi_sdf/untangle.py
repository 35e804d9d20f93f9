"""Tangled paths drawn again as the outline of what they fill.

A fit moves a path's points freely, so its contours can come to cross themselves or each
other (a twist where a simpler outline fills the same pixels), fold into slivers no wider
than a pixel, or collapse into contours of no area. None of that changes much in the
image, but it is what a person editing the SVG sees. A path is *tangled* where a contour
crosses itself or another of its contours (:func:`tangled`); :func:`reoutlined` traces
the boundary of the region it fills (its winding numbers under its fill rule, sampled
SAMPLES times a pixel each way, threads under half a pixel wide opened away) and fits
that boundary with cubics, as a fit starts a path from a region of the picture
(:func:`~taichi_sdf.init.region_contours`).

During a fit the index arrays stay (the optimiser's state is laid out by them), so
:class:`Untangling` redraws a tangled path within its own layout: each contour its count
of cubics, the largest boundaries first, contours left over collapsed to a point. After
the fit, :func:`simplified` may change the layout: it redraws the paths still tangled,
leaves out the contours that enclose no area and the paths that show nothing.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from taichi_sdf.init import contour_cubics, fitted_contour, shoelace, traced_boundaries
from taichi_sdf.kinds.path import Paths
from taichi_sdf.scene import Scene

SAMPLES = 4  # winding samples a pixel each way: a traced boundary within 1/8 px of the fill's
CURVE_POINTS = 16  # points a segment is sampled at to find crossings and fills
LEAST_AREA = 1.0  # pixels of area: a contour or region enclosing less is left out
FIT_TOLERANCE = 0.25  # pixels a redrawn cubic may miss the traced boundary by
SIMPLE_CUBICS = 8  # cubics a boundary redrawn after a fit may take: few enough to edit by hand
ERROR_SHARE = 0.01  # how much more squared error the simpler paths may cost after a fit (0.04 dB)
UNSEEN = 0.5 / 255  # a change of a pixel below half a level of an 8-bit image


def contour_polylines(group: Paths, i: int) -> list[np.ndarray]:
    """Path ``i``'s contours as closed polylines, (CURVE_POINTS k, 2) pixels each (the last
    point not repeated): each segment at CURVE_POINTS parameters from its start."""
    t = np.linspace(0.0, 1.0, CURVE_POINTS, endpoint=False)[:, None]
    polylines = []
    for contour in group.contours(i):
        sampled = []
        for controls in contour:
            degree = len(controls) - 1
            weights = [math.comb(degree, k) * t**k * (1 - t) ** (degree - k) for k in range(degree + 1)]
            sampled.append(sum(w * point for w, point in zip(weights, controls)))
        polylines.append(np.concatenate(sampled))
    return polylines


def crossings(first: np.ndarray, second: np.ndarray | None = None) -> int:
    """How many times the closed polyline ``first`` (m, 2) crosses itself (``second`` None:
    edges that do not share a point) or crosses ``second`` (n, 2): proper crossings, where
    each edge has the other's ends strictly on its two sides."""
    other = first if second is None else second
    a0, a1 = first[:, None], np.roll(first, -1, axis=0)[:, None]
    b0, b1 = other[None], np.roll(other, -1, axis=0)[None]
    hit = (_side(a0, a1, b0) * _side(a0, a1, b1) < 0) & (_side(b0, b1, a0) * _side(b0, b1, a1) < 0)
    if second is None:
        i, j = np.indices(hit.shape)
        hit &= (j > i + 1) & ~((i == 0) & (j == len(first) - 1))
    return int(hit.sum())


def _side(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Twice the signed area of the triangles p, q, r: which side of p-q each r lies on."""
    return (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])


def tangled(group: Paths, i: int) -> bool:
    """Whether a contour of path ``i`` crosses itself or another of its contours (one
    collapsed onto a point, or onto a line, crosses nothing)."""
    polylines = contour_polylines(group, i)
    if any(crossings(p) for p in polylines):
        return True
    return any(crossings(a, b) for k, a in enumerate(polylines) for b in polylines[k + 1 :])


def filled_samples(polylines: list[np.ndarray], rule: int, box: np.ndarray) -> np.ndarray:
    """Whether the closed ``polylines`` fill, under fill ``rule`` (0 nonzero, 1 even-odd),
    each of SAMPLES x SAMPLES sample points a pixel of ``box`` (x0, y0, x1, y1 whole
    pixels): (SAMPLES (y1 - y0), SAMPLES (x1 - x0)) bools, sample (r, c) at (x0 + (c + 0.5)
    / SAMPLES, y0 + (r + 0.5) / SAMPLES). Winding numbers count the edges crossing each row
    left of a sample (half-open in y, as the renderer counts)."""
    x0, y0, x1, y1 = box
    rows, columns = SAMPLES * (y1 - y0), SAMPLES * (x1 - x0)
    steps = np.zeros((rows, columns + 1), np.int64)
    for polyline in polylines:
        start, end = polyline, np.roll(polyline, -1, axis=0)
        # Edge e crosses the sample rows first[e] <= r < last[e]: its y from start to end, half-open.
        low, high = np.minimum(start[:, 1], end[:, 1]), np.maximum(start[:, 1], end[:, 1])
        first = np.ceil((low - y0) * SAMPLES - 0.5).astype(np.int64).clip(0, rows)
        last = np.ceil((high - y0) * SAMPLES - 0.5).astype(np.int64).clip(0, rows)
        counts = np.maximum(last - first, 0)
        edge = np.repeat(np.arange(len(polyline)), counts)
        r = first[edge] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        y = y0 + (r + 0.5) / SAMPLES
        a, b = start[edge], end[edge]
        x = a[:, 0] + (b[:, 0] - a[:, 0]) * (y - a[:, 1]) / (b[:, 1] - a[:, 1])
        column = np.ceil((x - x0) * SAMPLES - 0.5).astype(np.int64).clip(0, columns)  # the first sample right of it
        np.add.at(steps, (r, column), np.where(b[:, 1] > a[:, 1], 1, -1))
    winding = np.cumsum(steps[:, :-1], axis=1)
    return (winding % 2 != 0) if rule == 1 else (winding != 0)


def filled_area(polylines: list[np.ndarray], rule: int) -> float:
    """Square pixels that the closed ``polylines`` fill under fill ``rule``, sampled as
    :func:`filled_samples` samples them."""
    corners = np.concatenate(polylines)
    box = np.concatenate([np.floor(corners.min(axis=0)), np.ceil(corners.max(axis=0))]).astype(int)
    return float(filled_samples(polylines, rule, box).sum()) / SAMPLES**2


def reoutlined(group: Paths, i: int, width: int, height: int) -> list[np.ndarray]:
    """The boundaries of what path ``i`` fills within the picture (``width`` x ``height``
    pixels, and a pixel around it) as closed polylines in pixels (the last point not
    repeated), the largest first: each region's outer boundary turning with positive
    shoelace area, its holes the other way (:func:`~taichi_sdf.init.traced_boundaries`),
    regions and holes enclosing less than LEAST_AREA left out. Empty where it fills nothing."""
    used = group.segments[group.segment_range(i)]
    points = group.points[used[used >= 0]]
    x0, y0 = np.maximum(np.floor(points.min(axis=0)).astype(int), -1)
    x1, y1 = np.minimum(np.ceil(points.max(axis=0)).astype(int), [width + 1, height + 1])
    if x1 <= x0 or y1 <= y0:
        return []
    filled = filled_samples(contour_polylines(group, i), group.fill_rules[i], np.array([x0, y0, x1, y1]))
    mask = ndimage.binary_opening(filled)
    labels, count = ndimage.label(mask)
    boundaries = []
    for label in range(1, count + 1):
        boundaries += traced_boundaries(labels == label, np.array([x0, y0], float), 1.0 / SAMPLES, LEAST_AREA)
    return sorted(boundaries, key=lambda polyline: -abs(shoelace(polyline)))


def cubics_exactly(polyline: np.ndarray, count: int) -> np.ndarray:
    """``count`` closed cubics along the closed ``polyline`` (m, 2), (3 count, 2) points in
    the order of :func:`~taichi_sdf.init.fitted_contour`, which fits as many as it needs up
    to ``count``; the longest are then halved (the same curve) until there are ``count``."""
    cubics = contour_cubics(fitted_contour(polyline, FIT_TOLERANCE, cubics=count))
    while len(cubics) < count:
        longest = max(range(len(cubics)), key=lambda j: np.linalg.norm(np.diff(cubics[j], axis=0), axis=1).sum())
        cubics[longest : longest + 1] = _halves(cubics[longest])
    return np.concatenate([cubic[:3] for cubic in cubics])


def _halves(cubic: np.ndarray) -> list[np.ndarray]:
    """The cubic (4, 2) split at t = 1/2 (de Casteljau)."""
    p01, p12, p23 = (cubic[:-1] + cubic[1:]) / 2
    p012, p123 = (p01 + p12) / 2, (p12 + p23) / 2
    middle = (p012 + p123) / 2
    return [np.array([cubic[0], p01, p012, middle]), np.array([middle, p123, p23, cubic[3]])]


def same_fills(before: Paths, kept, after: Paths) -> Paths:
    """``after``, whose path j is path ``kept[j]`` of ``before`` drawn anew, with the linear
    fills they had: a path's fill is anchored and scaled by its points
    (:meth:`Paths.fill_frames`), so new points move it unless its colour and slopes follow
    (colours kept within [0, 1], as a fit keeps them)."""
    if after.slopes is None:
        return after
    anchors, sizes = before.fill_frames()
    new_anchors, new_sizes = after.fill_frames()
    kept = list(kept)
    slopes = before.slopes[kept]
    shift = (new_anchors - anchors[kept]) / sizes[kept, None]
    colours = np.clip(before.colours[kept] + np.einsum("ncd,nd->nc", slopes, shift), 0.0, 1.0)
    return after.with_parameters({"colours": colours, "slopes": slopes * (new_sizes / sizes[kept])[:, None, None]})


def _all_cubic(group: Paths, i: int) -> bool:
    return bool(np.all(group.control_counts()[group.segment_range(i)] == 4))


def _redrawn_in_layout(group: Paths, i: int, points: np.ndarray, width: int, height: int) -> None:
    """Write into ``points`` path ``i`` (all cubic) redrawn within its layout: its contours,
    in order, the largest boundaries of what it fills with their counts of cubics, the rest
    collapsed onto the first boundary's start (areas of none that draw nothing)."""
    from taichi_sdf.densify import path_layout

    boundaries = reoutlined(group, i, width, height)
    layout = path_layout(group)[i]
    rest = boundaries[0][0] if boundaries else group.points[layout[0][0]]
    for slot, indices in enumerate(layout):
        if slot < len(boundaries):
            points[indices] = cubics_exactly(boundaries[slot], len(indices) // 3)
        else:
            points[indices] = rest


@dataclass
class Untangling:
    """A ``relocate`` hook of :func:`~taichi_sdf.optim.fit` for a scene whose first group
    is :class:`Paths`: ``then`` (a :class:`~taichi_sdf.densify.Densifier`, or None) first,
    then every tangled path of cubics redrawn within its layout. Runs every ``then.every``
    steps (else 25)."""

    then: object = None

    @property
    def every(self) -> int:
        return getattr(self.then, "every", 25)

    def __call__(self, scene: Scene, image: np.ndarray, target: np.ndarray):
        from taichi_sdf.optim import Relocated

        relocated = scene if self.then is None else self.then(scene, image, target)
        moved = relocated.scene if isinstance(relocated, Relocated) else relocated
        group = moved.shapes[0]
        points = group.points.copy()
        for i in range(len(group)):
            if _all_cubic(group, i) and tangled(group, i):
                _redrawn_in_layout(group, i, points, scene.width, scene.height)
        if np.array_equal(points, group.points):
            return relocated
        redrawn = same_fills(group, range(len(group)), group.with_parameters({"points": points}))
        untangled = moved.replace(shapes=(redrawn,) + moved.shapes[1:])
        return Relocated(untangled, relocated.orders) if isinstance(relocated, Relocated) else untangled


def simplified(scene: Scene, target: np.ndarray, renderer) -> tuple[Scene, float]:
    """``scene`` (its first group :class:`Paths`) as a person editing its SVG would want it,
    and the mean squared error of its render (``renderer``'s, unclipped) against ``target``
    (height, width, 3). Path by path, first what :func:`_simpler` makes of it, kept where
    the error stays within ERROR_SHARE of the scene's; then the paths that show nothing
    (hidden, transparent, off the picture: leaving one out changes no pixel by more than
    UNSEEN) left out, one path at least kept."""
    group, rest = scene.shapes[0], scene.shapes[1:]
    paths = [group.contours(i) for i in range(len(group))]

    def with_paths(candidate: list) -> Scene:
        kept = [i for i, contours in enumerate(candidate) if contours]
        values = {name: np.asarray(value)[kept] for name, value in group.parameters().items() if name != "points"}
        drawn = Paths.from_contours([candidate[i] for i in kept], fill_rules=group.fill_rules[kept], **values)
        return scene.replace(shapes=(same_fills(group, kept, drawn),) + rest)

    image = renderer.render(scene)
    budget = np.mean((image - target) ** 2) * (1.0 + ERROR_SHARE)
    changed = False
    for i in range(len(group)):
        contours = _simpler(group, i, scene.width, scene.height)
        candidate = paths[:i] + [contours] + paths[i + 1 :]
        if contours is not None and any(candidate):
            drawn = renderer.render(with_paths(candidate))
            if np.mean((drawn - target) ** 2) <= budget:
                paths, image, changed = candidate, drawn, True
    for i in range(len(group)):
        candidate = paths[:i] + [[]] + paths[i + 1 :]
        if paths[i] and any(candidate):
            drawn = renderer.render(with_paths(candidate))
            if np.abs(drawn - image).max() <= UNSEEN:
                paths, image, changed = candidate, drawn, True
    return (with_paths(paths) if changed else scene), float(np.mean((image - target) ** 2))


def _simpler(group: Paths, i: int, width: int, height: int) -> list | None:
    """Path ``i``'s contours (as :meth:`Paths.contours` gives them) simpler, or None where
    they are as simple: a tangled path of cubics redrawn as the outline of what it fills
    (:func:`reoutlined`; each boundary in as few cubics as follow it, up to SIMPLE_CUBICS;
    no contour where it fills nothing), else without its contours that alone fill less
    than LEAST_AREA (collapsed, slivers)."""
    if _all_cubic(group, i) and tangled(group, i):
        boundaries = reoutlined(group, i, width, height)
        return [contour_cubics(fitted_contour(b, FIT_TOLERANCE, cubics=SIMPLE_CUBICS)) for b in boundaries]
    contours = group.contours(i)
    rule = group.fill_rules[i]
    kept = [c for c, p in zip(contours, contour_polylines(group, i)) if filled_area([p], rule) >= LEAST_AREA]
    return kept if len(kept) < len(contours) else None
