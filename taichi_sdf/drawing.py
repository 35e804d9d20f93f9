"""Pen drawings of photos: the picture a drawing is fitted to, strokes that start along the
photo's contours, and the re-seeding of strokes that a fit gives up on.

A drawing is dark ink on white paper. Its target (:func:`drawing_target`) is the photo's
edges (where a person draws a contour) plus a little of its darkest tones (where they
shade); strokes are seeded where that ink is and traced along the edges
(:func:`trace_contours`), so they follow contours from the first step instead of hatching;
:class:`Reseeder` moves strokes that faded out, collapsed or stretched away to where ink
is still missing.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from taichi_sdf.scene import CubicCurves, Scene, Strokes

LUMINANCE = np.array([0.299, 0.587, 0.114])
# The pen's width in pixels of the image a drawing is made at: a drawing fitted to a photo, a
# stroke-3 sketch rendered on its own (256 px on its longer side) or placed in a photo to start a
# fit. One pen, so that a sketch renders as the fit it starts begins.
PEN_WIDTH = 1.4
INK_OPACITY = 0.9  # of a stroke when it is drawn (or re-seeded)


def edge_field(photo: np.ndarray, sigma: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """Edge strength in [0, 1] (height, width; 1 at the 99th percentile and above) and the
    edge direction (height, width, 2): unit vectors along the contour (across the
    luminance gradient)."""
    smooth = ndimage.gaussian_filter(photo @ LUMINANCE, sigma)
    gx, gy = ndimage.sobel(smooth, axis=1), ndimage.sobel(smooth, axis=0)
    magnitude = np.hypot(gx, gy)
    strength = np.clip(magnitude / max(np.percentile(magnitude, 99), 1e-12), 0.0, 1.0)
    along = np.stack([-gy, gx], axis=-1) / np.maximum(magnitude, 1e-12)[..., None]
    return strength, along


def _ink(photo: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """How dark a drawing of ``photo`` is (height, width, in [0, 1]): where its edges are
    (``strength`` from :func:`edge_field`), and a little where its blurred, contrast-stretched
    luminance is darkest."""
    tone = ndimage.gaussian_filter(photo @ LUMINANCE, 1.0)
    low, high = np.percentile(tone, [2, 98])
    tone = np.clip((tone - low) / max(high - low, 1e-6), 0.0, 1.0)
    return np.clip(np.maximum(1.2 * strength - 0.1, 0.5 * (1.0 - tone) ** 3), 0.0, 1.0)


def drawing_target(photo: np.ndarray) -> np.ndarray:
    """What a pen drawing of ``photo`` (height, width, 3) should look like: white paper,
    dark where the photo has edges, grey where it is darkest. RGB (height, width, 3)."""
    ink = _ink(photo, edge_field(photo)[0])
    return np.repeat((1.0 - ink)[..., None], 3, axis=2)


def sample_pixels(weight: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` positions (n, 2) in pixels (x, y) drawn with probability proportional to
    ``weight`` (height, width), uniformly inside each chosen pixel."""
    flat = weight.ravel() + 1e-12
    rows, cols = np.divmod(rng.choice(flat.size, size=n, p=flat / flat.sum()), weight.shape[1])
    return np.stack([cols, rows], axis=1) + rng.uniform(0.0, 1.0, (n, 2))


def trace_contours(
    seeds: np.ndarray, strength: np.ndarray, along: np.ndarray, steps: int = 5, step: float = 3.0, floor: float = 0.15
) -> np.ndarray:
    """Polylines (n, 2 steps + 1, 2) that follow the edges from each seed (n, 2), both ways,
    ``steps`` steps of ``step`` pixels, stopping where the edge ``strength`` falls below
    ``floor`` (the remaining points repeat the last one)."""
    height, width = strength.shape

    def look(p):
        cols = np.clip(p[:, 0].astype(int), 0, width - 1)
        rows = np.clip(p[:, 1].astype(int), 0, height - 1)
        return along[rows, cols], strength[rows, cols]

    halves = []
    for sign in (1.0, -1.0):
        p, (t, _) = seeds.copy(), look(seeds)
        t = sign * t
        alive = np.ones(len(seeds), dtype=bool)
        half = []
        for _ in range(steps):
            q = p + step * t
            t_next, s = look(q)
            t_next = np.where((np.sum(t_next * t, axis=1) < 0)[:, None], -t_next, t_next)  # keep heading
            alive &= s > floor
            p = np.where(alive[:, None], q, p)
            t = np.where(alive[:, None], t_next, t)
            half.append(p)
        halves.append(half)
    return np.stack([*reversed(halves[1]), seeds, *halves[0]], axis=1)


def cubics_through(polylines: np.ndarray, shortest: float = 2.0) -> np.ndarray:
    """Control points (n, 4, 2) of the cubic Bézier nearest (least squares, chord-length
    parameters) to each polyline (n, K, 2) with its end points fixed. A polyline shorter
    than ``shortest`` pixels, or whose fit strays beyond its own length, gives a straight
    cubic instead (at least ``shortest`` long)."""
    chords = np.linalg.norm(np.diff(polylines, axis=1), axis=2)
    s = np.concatenate([np.zeros((len(polylines), 1)), np.cumsum(chords, axis=1)], axis=1)
    length = s[:, -1]
    t = s / np.maximum(length, 1e-9)[:, None]
    start, end = polylines[:, 0], polylines[:, -1]
    basis = np.stack([3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2], axis=2)  # (n, K, 2)
    rest = polylines - ((1 - t) ** 3)[..., None] * start[:, None] - (t**3)[..., None] * end[:, None]
    normal = np.einsum("nki,nkj->nij", basis, basis) + 1e-6 * np.eye(2)
    controls = np.linalg.solve(normal, np.einsum("nki,nkd->nid", basis, rest))
    straight = np.stack([(2 * start + end) / 3, (start + 2 * end) / 3], axis=1)
    stray = np.linalg.norm(controls - straight, axis=2).max(axis=1) > length
    short = length < shortest
    controls[stray] = straight[stray]
    # Too short to show a direction: a straight stroke of the shortest length about its middle.
    middle = 0.5 * (start + end)[short]
    direction = np.where(
        (np.linalg.norm(end - start, axis=1) > 1e-9)[short, None], (end - start)[short], np.array([1.0, 0.0])
    )
    half = 0.5 * shortest * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    start, end = start.copy(), end.copy()
    start[short], end[short] = middle - half, middle + half
    controls[short] = np.stack([(2 * start + end)[short] / 3, (start + 2 * end)[short] / 3], axis=1)
    return np.concatenate([start[:, None], controls, end[:, None]], axis=1)


def traced_strokes(edges: tuple, ink: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Control points (n, 4, 2) of ``n`` cubic strokes seeded where ``ink`` (height,
    width, >= 0) is strong and traced along ``edges`` (:func:`edge_field` of the photo)."""
    return cubics_through(trace_contours(sample_pixels(ink**2, n, rng), *edges))


def init_pen(photo: np.ndarray, n: int, kind: str = "curve", seed: int = 0, width: float = PEN_WIDTH) -> Scene:
    """A starting drawing of ``photo`` (height, width, 3): ``n`` black strokes of ``width``
    pixels on white, along its contours. ``kind``: ``"curve"`` (cubic Bézier strokes) or
    ``"segment"`` (straight strokes between the same end points)."""
    if n <= 0:
        raise ValueError(f"the number of strokes must be positive, got {n}")
    height, width_px = photo.shape[:2]
    edges = edge_field(photo)
    controls = traced_strokes(edges, _ink(photo, edges[0]), n, np.random.default_rng(seed))
    fill = {"widths": np.full(n, width), "colours": np.zeros((n, 3)), "opacities": np.full(n, INK_OPACITY)}
    if kind == "curve":
        group = CubicCurves(controls.reshape(-1, 2), np.arange(4 * n).reshape(n, 4), **fill)
    elif kind == "segment":
        group = Strokes(controls[:, [0, 3]].reshape(-1, 2), np.arange(2 * n).reshape(n, 2), **fill)
    else:
        raise ValueError(f"unknown pen stroke kind {kind!r}; choose curve or segment")
    return Scene(width_px, height, [1.0, 1.0, 1.0], (group,))


class Reseeder:
    """Moves strokes a drawing fit has given up on to where ink is still missing.

    Called as ``reseeder(scene, image, target)`` (a :func:`~taichi_sdf.optim.fit`
    ``relocate`` hook), it finds the strokes of the scene's first group that faded out
    (opacity below ``faint``), collapsed (shorter than ``shortest`` pixels along their
    control points) or stretched beyond ``longest`` pixels, and traces new ones, at most
    ``share`` of all strokes per call, where the render is lighter than the target.
    """

    every = 50  # steps between calls

    def __init__(self, photo: np.ndarray, seed: int = 0, faint=0.1, shortest=1.0, longest=80.0, share=0.1):
        self.edges = edge_field(photo)  # once: every call traces along the same edges
        self.rng = np.random.default_rng(seed)
        self.faint, self.shortest, self.longest, self.share = faint, shortest, longest, share

    def __call__(self, scene: Scene, image: np.ndarray, target: np.ndarray) -> Scene:
        group = scene.shapes[0]
        index = getattr(group, group.INDEX)
        lengths = np.linalg.norm(np.diff(group.points[index], axis=1), axis=2).sum(axis=1)
        stale = (group.opacity_array() < self.faint) | (lengths < self.shortest) | (lengths > self.longest)
        # Own points only: a stroke sharing points with a neighbour (a polycurve) stays put.
        counts = np.bincount(index.ravel(), minlength=len(group.points))
        stale &= np.all(counts[index] == 1, axis=1)
        chosen = np.flatnonzero(stale)
        chosen = chosen[self.rng.permutation(len(chosen))[: max(1, math.ceil(self.share * len(index)))]]
        if len(chosen) == 0:
            return scene
        missing = ndimage.gaussian_filter(np.clip(image - target, 0.0, None).mean(axis=2), 2.0)
        controls = traced_strokes(self.edges, missing, len(chosen), self.rng)
        points = group.points.copy()
        points[index[chosen]] = controls[:, [0, -1]] if group.CORNERS == 2 else controls
        opacities = group.opacity_array().copy()
        opacities[chosen] = INK_OPACITY
        return scene.replace(shapes=(group.with_parameters({"points": points, "opacities": opacities}),) + scene.shapes[1:])
