"""Starting scenes for a fit: where to put the primitives and what colour to give them.

Each ``init_*`` builds a scene of one kind for a target picture (height, width, 3) in
[0, 1], denser where the picture has detail (the smoothed gradient of its luminance).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage import measure

from taichi_sdf.config import RenderConfig, check_primitive_count
from taichi_sdf.densify import Densifier, circle_contours, mean_in_disk, unmovable
from taichi_sdf.drawing import PEN_WIDTH, Reseeder, drawing_target, init_pen
from taichi_sdf.scene import Circles, Ellipses, Paths, Rectangles, Scene, Triangles
from taichi_sdf.stroke3 import scene_from_stroke3


def detail_map(target: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """Smoothed gradient magnitude of the target's luminance, (height, width)."""
    grey = target @ np.array([0.299, 0.587, 0.114])
    magnitude = ndimage.gaussian_gradient_magnitude(grey, sigma)
    return ndimage.gaussian_filter(magnitude, 2 * sigma)


def init_circles(target: np.ndarray, n: int, fill: str = "linear", seed: int = 0, detail: float = 0.9) -> Scene:
    """A starting scene of ``n`` circles for ``target`` (height, width, 3).

    Centres are drawn with probability ``(1 - detail) * uniform + detail * (image detail)``,
    radii so that each circle covers about twice its share of the area around it (smaller
    where circles are dense), colours are the target's mean under each circle, slopes start
    at zero and the background at the target's mean colour. They are ordered largest
    first, so that in the depth-ordered modes the small ones (detail) lie on top.
    """
    if n <= 0:
        raise ValueError(f"the number of circles must be positive, got {n}")
    centres, radii, colours = _detail_disks(target, n, np.random.default_rng(seed), detail)
    slopes = np.zeros((n, 3, 2)) if fill == "linear" else None
    return _scene(target, Circles(centres, radii, colours, slopes))


def init_ellipses(target: np.ndarray, n: int, fill: str = "linear", seed: int = 0, detail: float = 0.9) -> Scene:
    """A starting scene of ``n`` ellipses for ``target`` (height, width, 3): placed, sized,
    coloured and ordered as :func:`init_circles` places its circles, each with the area of
    its circle, ELONGATION times as long as wide, along the picture's edges where it has
    any (see :func:`edge_angles`)."""
    if n <= 0:
        raise ValueError(f"the number of ellipses must be positive, got {n}")
    rng = np.random.default_rng(seed)
    centres, radii, colours = _detail_disks(target, n, rng, detail)
    stretch = math.sqrt(ELONGATION)
    semi_axes = np.stack([radii * stretch, radii / stretch], axis=1)
    slopes = np.zeros((n, 3, 2)) if fill == "linear" else None
    return _scene(target, Ellipses(centres, semi_axes, edge_angles(target, centres, rng), colours, slopes))


def init_rects(target: np.ndarray, n: int, fill: str = "linear", seed: int = 0, detail: float = 0.9) -> Scene:
    """A starting scene of ``n`` rectangles with sharp corners for ``target`` (height,
    width, 3), as :func:`init_ellipses` starts ellipses: each with the area of its
    circle, ELONGATION times as long as wide, along the picture's edges."""
    if n <= 0:
        raise ValueError(f"the number of rectangles must be positive, got {n}")
    rng = np.random.default_rng(seed)
    centres, radii, colours = _detail_disks(target, n, rng, detail)
    side, stretch = radii * math.sqrt(math.pi), math.sqrt(ELONGATION)
    sizes = np.stack([side * stretch, side / stretch], axis=1)
    slopes = np.zeros((n, 3, 2)) if fill == "linear" else None
    return _scene(target, Rectangles(centres, sizes, edge_angles(target, centres, rng), colours, slopes))


MIN_SEGMENTS = 4  # cubics per contour at least: a circle within 0.03 % of its radius, each side free to bend
# and at most, by default: more follow an outline closer but tangle sooner and cost time (logo,
# 32 paths: at most 4 29.7 dB, 6 30.2 dB at 1.7x the CPU, 12 32.0 dB at 3.2x; see SHORTEST_CUBIC)
MAX_SEGMENTS = 4
FIT_TOLERANCE = 1.5  # pixels a cubic may miss its traced arc by: a traced boundary is a pixel's staircase
# A tile's pixels near a tangle (a loop, a hole crossing its outline) look at every pair of
# the tile's pieces, so short cubics, which tangle soonest under 1 px steps, cost most.
SHORTEST_CUBIC = 12.0  # pixels of traced boundary: a cubic split no shorter
# A smaller hole (pixels of area) is filled: one of radius 3 px would turn inside out in a few 1 px steps.
LEAST_HOLE = 30
MOST_HOLES = 8  # holes per path at most (the largest)


def init_paths(target: np.ndarray, n: int, fill: str = "linear", seed: int = 0, detail: float = 0.9) -> Scene:
    """A starting scene of ``n`` filled paths for ``target`` (height, width, 3), each of
    closed contours of cubics with points of their own, as few cubics as follow the outline
    (so that the SVG stays editable), under the nonzero rule.

    As LIVE and Optimize & Reduce start a path, each follows the outline of a region of the
    picture: the regions of one colour (:func:`colour_regions`) whose mean colour takes most
    error off the background (the largest region's colour), larger ones further back, each
    path its region's outer boundary and its holes (see :func:`region_contours`); paths
    beyond the regions found start under them as the circles of :func:`init_circles`
    (placed, sized and coloured as it places circles), one contour of
    :data:`MIN_SEGMENTS` cubics turned at random."""
    if n <= 0:
        raise ValueError(f"the number of paths must be positive, got {n}")
    rng = np.random.default_rng(seed)
    outlines, region_colours, background = colour_regions(target, n)
    rest = n - len(outlines)
    centres, radii, colours = _detail_disks(target, rest, rng, detail) if rest else (np.zeros((0, 2)), [], [])
    counts = np.full(MIN_SEGMENTS, 4)
    circles = circle_contours(counts, centres, np.reshape(radii, -1), rng.uniform(0, 0.5 * np.pi, rest))
    colours = np.concatenate([np.reshape(colours, (-1, 3)), np.reshape(region_colours, (-1, 3))])
    slopes = np.zeros((n, 3, 2)) if fill == "linear" else None
    paths = cubic_paths([[circle] for circle in circles] + outlines, colours, slopes)
    return _scene(target, paths).replace(background=background)


def cubic_paths(contours: list[list[np.ndarray]], colours: np.ndarray, slopes: np.ndarray | None) -> Paths:
    """Paths (nonzero rule) from, per path, its closed contours of cubics, each (3 k, 2)
    points in pixels as :func:`circle_contours` orders them (each cubic's start, then its
    two handles; the last cubic ends at the first point), every point a path's own."""
    return Paths.from_contours(
        [[contour_cubics(points) for points in path] for path in contours], colours, "nonzero", slopes
    )


def contour_cubics(points: np.ndarray) -> list[np.ndarray]:
    """The closed contour of (3 k, 2) points in the order of :func:`circle_contours` as its
    k cubics, (4, 2) control points each, as :meth:`Paths.from_contours` takes them."""
    closed = np.vstack([points, points[:1]])
    return [closed[j : j + 4] for j in range(0, len(points), 3)]


def colour_regions(target: np.ndarray, count: int, levels: int = 6, least: int = 12) -> tuple[list, list, np.ndarray]:
    """Outlines of up to ``count`` regions of ``target`` (height, width, 3): connected pixels
    of one colour quantised to ``levels`` per channel, at least ``least`` of them, ranked by
    what painting them in their mean colour takes off the squared error of a background of
    the largest region's colour (area times the squared difference of the two colours), the
    largest region itself left to the background. Returns, largest region first, each
    region's contours (:func:`region_contours`), each region's mean colour (3,), and the
    background's (3,)."""
    codes = np.minimum((target * levels).astype(int), levels - 1) @ [levels * levels, levels, 1]
    found = []  # (area, code, label, mean colour)
    for code in np.unique(codes):
        labels, k = ndimage.label(codes == code)
        index = np.arange(1, k + 1)
        areas = ndimage.sum_labels(np.ones(labels.shape), labels, index)
        colours = np.stack([ndimage.mean(target[..., c], labels, index) for c in range(3)], axis=1)
        found += [(area, code, i + 1, colour) for i, (area, colour) in enumerate(zip(areas, colours))]
    found.sort(key=lambda region: -region[0])
    background = found[0][3]
    gains = [area * np.sum((colour - background) ** 2) for area, _, _, colour in found[1:]]
    ranked = [found[1 + i] for i in np.argsort(gains, kind="stable")[::-1] if found[1 + i][0] >= least]
    chosen = sorted(ranked[:count], key=lambda region: -region[0])
    outlines, colours = [], []
    for _, code, label, colour in chosen:
        outlines.append(region_contours(ndimage.label(codes == code)[0] == label))
        colours.append(colour)
    return outlines, colours, background


def region_contours(mask: np.ndarray, cubics: int = MAX_SEGMENTS) -> list[np.ndarray]:
    """The outline of the connected region ``mask`` (height, width) bools as closed contours
    of cubics, each (3 k, 2) points in pixels (see :func:`fitted_contour`): its outer
    boundary first, then its holes of at least :data:`LEAST_HOLE` pixels, largest first (at
    most :data:`MOST_HOLES`), turning as :func:`traced_boundaries` turns them, so that under
    the nonzero rule (and even-odd alike) they are holes. Each contour has at most
    ``cubics`` cubics."""
    boundaries = traced_boundaries(mask, np.zeros(2), 1.0, LEAST_HOLE)
    return [fitted_contour(contour, cubics=cubics) for contour in boundaries[: 1 + MOST_HOLES]]


def traced_boundaries(mask: np.ndarray, origin: np.ndarray, scale: float, least: float) -> list[np.ndarray]:
    """The boundaries of the connected region ``mask`` (height, width) bools, traced between
    its cells' centres, as closed polylines (m, 2) (the last point not repeated): its outer
    boundary first, turning as :func:`circle_contours` turns (positive shoelace area in x,
    y), then its holes enclosing at least ``least`` square pixels, largest first, turning
    the other way. Cell (r, c) spans ``origin + scale * [c, c + 1] x [r, r + 1]`` pixels."""
    traced = [contour[:-1, ::-1] - 0.5 for contour in measure.find_contours(np.pad(mask, 1).astype(float), 0.5)]
    traced = [origin + scale * contour for contour in traced]
    areas = np.array([shoelace(contour) for contour in traced])
    order = np.argsort(-np.abs(areas), kind="stable")
    outer = traced[order[0]] if areas[order[0]] > 0 else traced[order[0]][::-1]
    holes = [traced[i] if areas[i] < 0 else traced[i][::-1] for i in order[1:] if abs(areas[i]) >= least]
    return [outer] + holes


def shoelace(polygon: np.ndarray) -> float:
    """Signed area of the closed polygon (m, 2), positive when it turns from +x towards +y."""
    x, y = polygon.T
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def fitted_contour(outline: np.ndarray, tolerance: float = FIT_TOLERANCE, cubics: int = MAX_SEGMENTS) -> np.ndarray:
    """Closed cubics along the closed polyline ``outline`` (m, 2) pixels (its last point
    not repeated), (3 k, 2) points in the order of :func:`circle_contours`: first
    :data:`MIN_SEGMENTS` arcs of equal length from its sharpest turn, then, while a cubic
    misses its arc by more than ``tolerance`` pixels and there are fewer than ``cubics``,
    the worst of those at least twice :data:`SHORTEST_CUBIC` long split where it misses
    most (so cuts land on corners), no part shorter than that. Each cubic is fitted to its
    arc by least squares with its ends fixed."""
    edges = np.roll(outline, -1, axis=0) - outline
    turning = np.abs(np.angle(np.exp(1j * np.diff(np.arctan2(edges[:, 1], edges[:, 0]), prepend=0.0))))
    outline = np.roll(outline, -int(np.argmax(ndimage.uniform_filter1d(turning, 3, mode="wrap"))), axis=0)
    closed = np.vstack([outline, outline[:1]])
    length = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))])
    cuts = list(np.searchsorted(length, np.linspace(0, length[-1], MIN_SEGMENTS + 1)))
    cuts[-1] = len(closed) - 1
    fits = [_fitted_cubic(closed[a : max(b, a + 1) + 1]) for a, b in itertools.pairwise(cuts)]
    while len(fits) < cubics:
        splittable = [length[b] - length[a] >= 2 * SHORTEST_CUBIC for a, b in itertools.pairwise(cuts)]
        worst = max(range(len(fits)), key=lambda j: fits[j][1] if splittable[j] else 0.0)
        if not splittable[worst] or fits[worst][1] <= tolerance:
            break
        a, b = cuts[worst], cuts[worst + 1]
        least = int(np.searchsorted(length, length[a] + SHORTEST_CUBIC))
        most = int(np.searchsorted(length, length[b] - SHORTEST_CUBIC, side="right")) - 1
        split = min(max(a + fits[worst][2], least), most)
        cuts.insert(worst + 1, split)
        fits[worst : worst + 1] = [_fitted_cubic(closed[a : split + 1]), _fitted_cubic(closed[split : b + 1])]
    return np.concatenate([controls[:3] for controls, _, _ in fits])


def _fitted_cubic(arc: np.ndarray) -> tuple[np.ndarray, float, int]:
    """The cubic (4, 2) from ``arc``'s first to its last point (m, 2) nearest its points by
    least squares at chord-length parameters, how far it misses the farthest of them
    (pixels) and that point's index; an arc of 4 points or fewer (too few to split) counts
    as met."""
    start, end = arc[0], arc[-1]
    chord = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(arc, axis=0), axis=1))])
    t = chord / max(chord[-1], 1e-12)
    basis = np.stack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3], axis=1)
    if len(arc) <= 4:  # too few points to bend it or split it: a straight cubic
        return np.array([start, (2 * start + end) / 3, (start + 2 * end) / 3, end]), 0.0, 0
    rest = arc - np.outer(basis[:, 0], start) - np.outer(basis[:, 3], end)
    handles = np.linalg.lstsq(basis[:, 1:3], rest, rcond=None)[0]
    controls = np.vstack([start, handles, end])
    misses = np.linalg.norm(basis @ controls - arc, axis=1)
    return controls, float(misses.max()), int(np.argmax(misses))


ELONGATION = 1.5  # length over width of a starting ellipse or rectangle: enough to give its angle a gradient


def _detail_disks(target: np.ndarray, n: int, rng: np.random.Generator, detail: float) -> tuple:
    """Centres (n, 2), radii (n,) and mean colours (n, 3) of ``n`` disks placed by the
    picture's detail, largest first (see :func:`init_circles`)."""
    height, width = target.shape[:2]
    weights = detail_map(target).ravel()
    total = weights.sum()
    # A picture without detail (a constant one) spreads the detailed share uniformly too.
    detailed = weights / total if total > 0 else np.full(weights.size, 1.0 / weights.size)
    density = (1 - detail) / weights.size + detail * detailed
    density /= density.sum()
    pixels = rng.choice(density.size, size=n, p=density)
    rows, cols = np.divmod(pixels, width)
    centres = np.stack([cols, rows], axis=1) + rng.uniform(0, 1, (n, 2))
    radii = np.sqrt(2.0 / (math.pi * n * density[pixels]))
    radii = np.clip(radii, 2.0, 0.5 * max(width, height))
    order = np.argsort(-radii, kind="stable")  # large ones at the back, details on top
    centres, radii = centres[order], radii[order]
    return centres, radii, np.array([mean_in_disk(target, c, r) for c, r in zip(centres, radii)])


def edge_angles(target: np.ndarray, centres: np.ndarray, rng: np.random.Generator, sigma: float = 3.0) -> np.ndarray:
    """(n,) angles in radians of the picture's edges at (n, 2) pixel positions: the
    direction across the luminance's gradient, from its structure tensor smoothed over
    ``sigma`` pixels; random where the picture has no direction there (flat, or a corner)."""
    grey = ndimage.gaussian_filter(target @ np.array([0.299, 0.587, 0.114]), 1.0)
    gx, gy = ndimage.sobel(grey, axis=1), ndimage.sobel(grey, axis=0)
    tensor = [ndimage.gaussian_filter(product, sigma) for product in (gx * gx, gx * gy, gy * gy)]
    rows = np.clip(centres[:, 1].astype(int), 0, grey.shape[0] - 1)
    cols = np.clip(centres[:, 0].astype(int), 0, grey.shape[1] - 1)
    xx, xy, yy = (component[rows, cols] for component in tensor)
    across = 0.5 * np.arctan2(2.0 * xy, xx - yy)  # the gradient's direction
    coherent = np.hypot(xx - yy, 2.0 * xy) > 0.2 * (xx + yy)
    return np.where(coherent, across + 0.5 * math.pi, rng.uniform(0, math.pi, len(centres)))


def _scene(target: np.ndarray, group) -> Scene:
    """A scene of the target's size holding ``group``, on the target's mean colour."""
    height, width = target.shape[:2]
    return Scene(width, height, target.reshape(-1, 3).mean(axis=0), (group,))


def init_mesh(
    target: np.ndarray, n: int, fill: str = "linear", seed: int = 0, jitter: float = 0.25, detail: float = 0.7
) -> Scene:
    """A triangle mesh of about ``n`` faces covering ``target`` (as Diff2DRaster.jl fits).

    A grid of cells, two triangles each, whose columns and rows are spaced more densely
    where the target has detail (``detail`` of the spacing follows it, the rest is
    uniform), interior vertices jittered by ``jitter`` of a cell; vertices are shared, so
    the mesh stays watertight while it moves. Face colours are the target's (lightly
    blurred) colour at each centroid.
    """
    if n <= 0:
        raise ValueError(f"the number of triangles must be positive, got {n}")
    height, width = target.shape[:2]
    columns, rows = _grid_shape(n // 2, width / height)
    weights = detail_map(target)
    grid_x = _quantiles(weights.sum(axis=0), columns, detail)
    grid_y = _quantiles(weights.sum(axis=1), rows, detail)
    xs, ys = np.meshgrid(grid_x, grid_y)
    vertices = np.stack([xs.ravel(), ys.ravel()], axis=1)
    interior = (xs.ravel() > 0) & (xs.ravel() < width) & (ys.ravel() > 0) & (ys.ravel() < height)
    # Jitter by a fraction of the local cell, so no vertex crosses its neighbours.
    cell = np.stack(np.meshgrid(np.gradient(grid_x), np.gradient(grid_y)), axis=-1).reshape(-1, 2)
    rng = np.random.default_rng(seed)
    vertices[interior] += rng.uniform(-jitter, jitter, (interior.sum(), 2)) * cell[interior]
    faces = []
    for r in range(rows):
        for c in range(columns):
            v = r * (columns + 1) + c
            corners = [v, v + 1, v + columns + 2, v + columns + 1]
            if rng.uniform() < 0.5:  # alternate diagonals so the mesh has no grain
                faces += [[corners[0], corners[1], corners[2]], [corners[0], corners[2], corners[3]]]
            else:
                faces += [[corners[0], corners[1], corners[3]], [corners[1], corners[2], corners[3]]]
    faces = np.array(faces)
    colours = _sample(ndimage.gaussian_filter(target, (1.0, 1.0, 0)), vertices[faces].mean(axis=1))
    slopes = np.zeros((len(faces), 3, 2)) if fill == "linear" else None
    return Scene(width, height, target.reshape(-1, 3).mean(axis=0), (Triangles(vertices, faces, colours, slopes),))


def _grid_shape(cells: int, aspect: float) -> tuple[int, int]:
    """(columns, rows) with columns * rows <= cells, as many cells as possible, and cells
    as square as possible for the image's ``aspect`` (width / height)."""
    best = (1, 1)
    for columns in range(1, cells + 1):
        rows = cells // columns
        if rows == 0:
            break
        score = (columns * rows, -abs(math.log(columns / rows / aspect)))
        if score > (best[0] * best[1], -abs(math.log(best[0] / best[1] / aspect))):
            best = (columns, rows)
    return best


def _quantiles(profile: np.ndarray, cells: int, detail: float) -> np.ndarray:
    """``cells + 1`` positions from 0 to len(profile) spaced by the mixture density
    ``(1 - detail) * uniform + detail * profile``."""
    density = (1 - detail) / len(profile) + detail * profile / max(profile.sum(), 1e-12)
    cdf = np.concatenate([[0.0], np.cumsum(density)])
    cdf /= cdf[-1]
    return np.interp(np.linspace(0, 1, cells + 1), cdf, np.arange(len(profile) + 1.0))


def _sample(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Nearest-pixel colours of ``image`` at (N, 2) pixel positions."""
    height, width = image.shape[:2]
    cols = np.clip(points[:, 0].astype(int), 0, width - 1)
    rows = np.clip(points[:, 1].astype(int), 0, height - 1)
    return image[rows, cols]


@dataclass(frozen=True)
class ShapeRecipe:
    """How a fit of one shape starts by default: count, steps, compositing mode, anti-aliasing
    band (pixels), loss, annealing factor of the band (see :func:`~taichi_sdf.optim.fit`)
    and what it draws."""

    n: int
    steps: int
    mode: str
    aa_width: float
    description: str
    loss: str = "mse"
    anneal: float = 1.0


# A mesh tiles the picture, so a wide band blends neighbouring faces into soft low-poly
# shading, which fits a photo better than hard facets (27.5 dB at 1 px, 28.1 dB at 3 px).
# Paths fit an SVG, which viewers draw with edges about a pixel wide (a box filter): a 0.6 px
# band draws them alike (on fontawesomefree icons 37-43 dB at 0.6 against 34-37 at 1.0).
# Pen drawings composite ink as soft-or and match a blurred pyramid, with edges that start
# soft (strokes then feel the ink around them) and sharpen.
SHAPES = {
    "circle": ShapeRecipe(256, 800, "over", 1.0, "anti-aliased circles"),
    "ellipse": ShapeRecipe(256, 800, "over", 1.0, "rotated ellipses"),
    "rect": ShapeRecipe(256, 800, "over", 1.0, "rotated rectangles"),
    "triangle": ShapeRecipe(450, 400, "over", 1.0, "free triangles (each with its own corners)"),
    "mesh": ShapeRecipe(450, 600, "mean", 3.0, "a triangle mesh (shared vertices)"),
    "path": ShapeRecipe(64, 500, "over", 0.6, "filled closed paths of cubic Bezier segments"),
    "curve": ShapeRecipe(800, 300, "softor", 1.0, "a pen drawing in cubic Bezier strokes", "pyramid", 3.0),
    "segment": ShapeRecipe(1000, 300, "softor", 1.0, "a pen drawing in straight strokes", "pyramid", 3.0),
}
PEN_SHAPES = ("curve", "segment")
# Placed like circles, densified.
DISK_SHAPES = {"circle": init_circles, "ellipse": init_ellipses, "rect": init_rects, "path": init_paths}
ANY_PICTURE_TAKES = 1024  # shapes, even one of fewer pixels (a fit of a tiny picture is cheap)


@dataclass(frozen=True)
class Start:
    """Where a fit starts: the scene, the image it is fitted to (a drawing's is
    :func:`~taichi_sdf.drawing.drawing_target` of the photo), learning rates that differ
    from the defaults, and the ``relocate`` hook of :func:`~taichi_sdf.optim.fit` if any."""

    scene: Scene
    target: np.ndarray
    learning_rates: dict[str, float]
    relocate: Callable[[Scene, np.ndarray, np.ndarray], Scene] | None = None


def starting_scene(
    shape: str,
    target: np.ndarray,
    n: int,
    seed: int = 0,
    fill: str = "linear",
    mode: str = "over",
    aa_width: float = 1.0,
    resume: Scene | np.ndarray | None = None,
) -> Start:
    """How a fit of ``n`` ``shape``s (a key of :data:`SHAPES`) to ``target`` (height,
    width, 3) starts, to be rendered in ``mode`` with an anti-aliasing band of
    ``aa_width`` pixels. In depth-ordered modes every shape learns an opacity; circles,
    ellipses, rectangles and free triangles move where the error is
    (:class:`~taichi_sdf.densify.Densifier`); pen drawings keep black ink of one width on
    white and re-seed strokes they give up on.

    ``resume`` starts from that instead of a new scene: a scene of the picture's size
    holding one group of the shape's kind (an earlier fit's ``params.npz``, an imported
    SVG; a triangle fit frees a mesh's faces), or, for the pen shapes, a stroke-3 sketch
    (N, 3), placed in the picture. ValueError names what does not fit."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose from {', '.join(SHAPES)}")
    check_count(n, target.shape[1], target.shape[0])
    if isinstance(resume, np.ndarray) and shape not in PEN_SHAPES:
        raise ValueError(f"a stroke-3 sketch starts a fit of {' or '.join(PEN_SHAPES)}, not of {shape}s")
    if shape in PEN_SHAPES:
        scene = init_pen(target, n, kind=shape, seed=seed)
        if resume is not None:
            scene = _resumed(resume, scene, curves=shape == "curve")
        rates = {"colours": 0.0, "widths": 0.0, "background": 0.0, "points": 0.2}
        return Start(scene, drawing_target(target), rates, Reseeder(target, seed=seed))
    relocate = None
    if shape in ("mesh", "triangle"):
        scene = init_mesh(target, n, fill=fill, seed=seed)
        if resume is not None:
            scene = _resumed(resume, scene)
        if shape == "triangle":  # free triangles, whatever the start shares (a mesh's vertices)
            scene = scene.replace(shapes=(scene.shapes[0].unshared(),))
            relocate = Densifier(RenderConfig(mode=mode, aa_width=aa_width), seed=seed)
    else:
        scene = DISK_SHAPES[shape](target, n, fill=fill, seed=seed)
        if resume is not None:
            scene = _resumed(resume, scene)
        if unmovable(scene.shapes[0]) is None:  # resumed paths that share points fit where they are
            relocate = Densifier(RenderConfig(mode=mode, aa_width=aa_width), seed=seed)
            if shape == "path":  # and are redrawn where they tangle
                from taichi_sdf.untangle import Untangling  # (it draws with this module's contours)

                relocate = Untangling(relocate)
    group = scene.shapes[0]
    if mode != "mean" and group.opacities is None:
        scene = scene.replace(shapes=(group.with_parameters({"opacities": np.ones(len(group))}),))
    return Start(scene, target, {}, relocate)


def check_count(n: int, width: int, height: int) -> None:
    """ValueError, before anything is allocated, for a fit of ``n`` shapes that a
    ``width`` x ``height`` picture cannot use: more shapes than pixels (any picture takes
    :data:`ANY_PICTURE_TAKES`), or more than this machine's memory holds."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"the number of shapes must be a positive integer, got {n!r}")
    most = max(width * height, ANY_PICTURE_TAKES)
    if n > most:
        raise ValueError(f"{n} shapes for a {width}x{height} picture: more shapes than pixels (at most {most})")
    check_primitive_count(n)


def _resumed(resume, started: Scene, curves: bool = False) -> Scene:
    """``resume`` (a scene, or a stroke-3 sketch to place) checked against the scene the fit
    would start from otherwise: the same size and kind."""
    if isinstance(resume, np.ndarray):
        return scene_from_stroke3(resume, started.width, started.height, pen_width=PEN_WIDTH, curves=curves)
    if (resume.width, resume.height) != (started.width, started.height):
        raise ValueError(f"the scene to resume is {resume.width}x{resume.height}, the picture {started.width}x"
                         f"{started.height}")  # fmt: skip
    if [type(group) for group in resume.shapes] != [type(group) for group in started.shapes]:
        held = ", ".join(type(group).__name__ for group in resume.shapes)
        raise ValueError(f"the scene to resume holds {held}, not one group of {type(started.shapes[0]).__name__}")
    resume.check_values()
    return resume
