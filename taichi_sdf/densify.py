"""Densify and prune during a fit: move the circles (or ellipses, rectangles, free
triangles, paths) that contribute least to where the error is largest.

A fit by gradient descent settles with some shapes that barely matter (hidden under
others, or spent on a flat patch that their neighbours already explain) while elsewhere a
blob of error stays, because no shape is near enough to feel it. :class:`Densifier`, a
``relocate`` hook of :func:`~taichi_sdf.optim.fit`, compares what each shape is worth
(:func:`removal_costs`: how much the loss would grow without it) with what a new disk
could gain (:func:`insertion_gains`: the error a disk of one colour would take away) and
moves a shape wherever a place gains more than the shape is worth. What differs between
the kinds it moves (their boxes, and the shape a moved one takes) is in :data:`MOVERS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from taichi_sdf.config import RenderConfig
from taichi_sdf.modes import MODES
from taichi_sdf.optim import Relocated
from taichi_sdf.render import Frame, Renderer
from taichi_sdf.scene import Circles, Ellipses, Paths, Rectangles, Scene, ShapeGroup, Triangles

GAIN_RADII = (2.0, 3.0, 5.0, 8.0, 12.0)  # pixels: the sizes a new disk is tried at
TRIANGLE_REACH = math.sqrt(4 * math.pi / (3 * math.sqrt(3)))  # circumradius / radius of a disk's area


@dataclass(frozen=True)
class Mover:
    """What :class:`Densifier` needs of one kind of shape.

    boxes(group) -> (N, 4): each shape's bounding box (x0, y0, x1, y1) in pixels;
    place(group, values, moved, centres, radii, rng): turns the shapes ``moved`` (indices)
    of ``values`` (the group's parameters, writable copies) into shapes of about the area
    of disks of ``radii`` at ``centres`` ((k, 2) pixels), the geometry only;
    refusal(group) -> why a group of this kind cannot be moved, or None;
    shared_orders(group, order) -> for the parameters that shapes index (a mesh's vertices,
    paths' points) rather than own by row, their permutation when the shapes take ``order``;
    None when the shapes cannot take it (paths laid out differently), and then the moved
    shapes stay at their depth.
    """

    boxes: Callable[[ShapeGroup], np.ndarray]
    place: Callable[..., None]
    refusal: Callable[[ShapeGroup], str | None] = lambda group: None
    shared_orders: Callable[[ShapeGroup, np.ndarray], dict[str, np.ndarray] | None] = lambda group, order: {}


def _circle_boxes(group: Circles) -> np.ndarray:
    return np.hstack([group.centres - group.radii[:, None], group.centres + group.radii[:, None]])


def _circle_place(group, values, moved, centres, radii, rng) -> None:
    values["centres"][moved], values["radii"][moved] = centres, radii


def _ellipse_boxes(group: Ellipses) -> np.ndarray:
    cos, sin = np.cos(group.angles), np.sin(group.angles)
    a, b = group.radii.T
    extents = np.stack([np.hypot(a * cos, b * sin), np.hypot(a * sin, b * cos)], axis=1)
    return np.hstack([group.centres - extents, group.centres + extents])


def _ellipse_place(group, values, moved, centres, radii, rng) -> None:
    """A disk (its angle takes a gradient once its axes part), turned at random."""
    values["centres"][moved], values["radii"][moved] = centres, radii[:, None]
    values["angles"][moved] = rng.uniform(0, np.pi, len(moved))


def _rect_boxes(group: Rectangles) -> np.ndarray:
    cos, sin = np.abs(np.cos(group.angles)), np.abs(np.sin(group.angles))
    w, h = 0.5 * group.sizes.T
    extents = np.stack([w * cos + h * sin, w * sin + h * cos], axis=1)
    return np.hstack([group.centres - extents, group.centres + extents])


def _rect_place(group, values, moved, centres, radii, rng) -> None:
    """A square of the disk's area with sharp corners, turned at random."""
    values["centres"][moved], values["sizes"][moved] = centres, (math.sqrt(math.pi) * radii)[:, None]
    values["angles"][moved] = rng.uniform(0, 0.5 * np.pi, len(moved))
    values["corner_radii"][moved] = 0.0


def _triangle_boxes(group: Triangles) -> np.ndarray:
    corners = group.vertices[group.faces]
    return np.hstack([corners.min(axis=1), corners.max(axis=1)])


def _triangle_place(group, values, moved, centres, radii, rng) -> None:
    """An equilateral triangle of the disk's area, turned at random."""
    turn = rng.uniform(0, 2 * np.pi, (len(moved), 1)) + [0.0, 2 * np.pi / 3, 4 * np.pi / 3]
    corners = np.stack([np.cos(turn), np.sin(turn)], -1) * (TRIANGLE_REACH * radii)[:, None, None]
    values["vertices"][group.faces[moved]] = centres[:, None] + corners


def _triangle_refusal(group: Triangles) -> str | None:
    """Triangles that share vertices are a mesh, which moving one would tear."""
    return None if len(np.unique(group.faces)) == group.faces.size else "Triangles sharing vertices"


def _triangle_orders(group: Triangles, order: np.ndarray) -> dict[str, np.ndarray]:
    """Faces stay; the vertices they index move."""
    vertex_order = np.arange(len(group.vertices))
    vertex_order[group.faces.ravel()] = group.faces[order].ravel()
    return {"vertices": vertex_order}


def circle_contours(counts: np.ndarray, centres: np.ndarray, radii: np.ndarray, turns: np.ndarray) -> np.ndarray:
    """Control points (k, m, 2) of k closed contours on circles of ``radii`` (k,) pixels
    about ``centres`` (k, 2), the first on-curve point at angle ``turns`` (k,) radians:
    segments of ``counts`` (S,) control points (2 line, 3 quadratic, 4 cubic), each
    spanning an equal arc, their points in the order of :meth:`Paths.from_contours` (each
    segment's start, then its inner controls; m = sum(counts - 1)). A cubic's handles lie on
    the tangents, 4/3 tan(arc / 4) r long (4(sqrt2 - 1)/3 r for a quarter), a quadratic's
    control where the tangents meet; lines make the inscribed polygon."""
    arc = 2 * np.pi / len(counts)
    rows = []
    for j, count in enumerate(counts):
        start = turns + j * arc
        rows.append(np.stack([np.cos(start), np.sin(start)], -1))
        if count == 3:
            middle = start + 0.5 * arc
            rows.append(np.stack([np.cos(middle), np.sin(middle)], -1) / np.cos(0.5 * arc))
        elif count == 4:
            handle = 4 / 3 * np.tan(0.25 * arc)
            for angle, sign in ((start, 1.0), (start + arc, -1.0)):
                direction = np.stack([np.cos(angle), np.sin(angle)], -1)
                rows.append(direction + sign * handle * np.stack([-np.sin(angle), np.cos(angle)], -1))
    unit = np.stack(rows, axis=1)  # (k, m, 2) on the unit circle
    return centres[:, None] + radii[:, None, None] * unit


def _by_contour(group: Paths, per_segment: list) -> list[list[list]]:
    """``per_segment`` (one item per row of ``group.segments``) split per path, per contour."""
    contour_starts = np.concatenate([[0], group.contour_ends[:-1]])
    contours = [per_segment[a:b] for a, b in zip(contour_starts, group.contour_ends)]
    path_starts = np.concatenate([[0], group.path_ends[:-1]])
    return [contours[a:b] for a, b in zip(path_starts, group.path_ends)]


def path_layout(group: Paths) -> list[list[np.ndarray]]:
    """Per path, per contour, the indices of its points in the order of :func:`circle_contours`
    (each segment's start, then its inner controls)."""
    ordered = [row[: count - 1] for row, count in zip(group.segments, group.control_counts())]
    return [[np.concatenate(contour) for contour in path] for path in _by_contour(group, ordered)]


def _path_refusal(group: Paths) -> str | None:
    """A path is moved by drawing its contours anew, so each of its points must be its own:
    on one contour of one path, once."""
    used = np.concatenate([points for path in path_layout(group) for points in path])
    if len(np.unique(used)) != len(used):
        return "Paths that share points"
    return None


def _path_boxes(group: Paths) -> np.ndarray:
    indices = [np.concatenate(path) for path in path_layout(group)]
    starts = np.concatenate([[0], np.cumsum([len(held) for held in indices])[:-1]])
    corners = group.points[np.concatenate(indices)]
    return np.hstack([np.minimum.reduceat(corners, starts), np.maximum.reduceat(corners, starts)])


def _path_place(group, values, moved, centres, radii, rng) -> None:
    """Its first contour a circle of the disk's radius drawn with that contour's own segments,
    turned at random; any other contour (a hole) collapsed onto the centre, a contour of zero
    area that winds round no pixel, so that under either fill rule it draws nothing (and,
    being nowhere a boundary, takes no gradient)."""
    layout, structures = path_layout(group), _path_structures(group)
    turns = rng.uniform(0, 2 * np.pi, len(moved))
    for i, centre, radius, turn in zip(moved, centres, radii, turns):
        (outer, *holes), counts = layout[i], np.array(structures[i][0])
        values["points"][outer] = circle_contours(counts, centre[None], np.array([radius]), np.array([turn]))[0]
        for hole in holes:
            values["points"][hole] = centre


def _path_structures(group: Paths) -> list[tuple]:
    """Per path, per contour, its segments' control point counts: what a path's place in
    the group's index arrays fixes."""
    counts = list(group.control_counts())
    return [tuple(tuple(contour) for contour in path) for path in _by_contour(group, counts)]


def _path_orders(group: Paths, order: np.ndarray) -> dict[str, np.ndarray] | None:
    """Each path's points go with it, when every path takes the place of one of the same
    structure (its contours' segments alike); None otherwise (a fit keeps a group's index
    arrays, so a path cannot move to a place laid out for another)."""
    structures = _path_structures(group)
    if any(structures[new] != structures[old] for new, old in enumerate(order)):
        return None
    layout = path_layout(group)
    points = np.arange(len(group.points))
    for new, old in enumerate(order):
        points[np.concatenate(layout[new])] = np.concatenate(layout[old])
    return {"points": points}


MOVERS = {
    Circles: Mover(_circle_boxes, _circle_place),
    Ellipses: Mover(_ellipse_boxes, _ellipse_place),
    Rectangles: Mover(_rect_boxes, _rect_place),
    Triangles: Mover(_triangle_boxes, _triangle_place, _triangle_refusal, _triangle_orders),
    Paths: Mover(_path_boxes, _path_place, _path_refusal, _path_orders),
}


def unmovable(group: ShapeGroup) -> str | None:
    """Why :class:`Densifier` cannot move the shapes of ``group`` (one line), or None."""
    mover = MOVERS.get(type(group))
    refusal = type(group).__name__ if mover is None else mover.refusal(group)
    if refusal is None:
        return None
    return f"Densifier moves circles, ellipses, rectangles, free triangles or paths; the scene's first group holds {refusal}"


def apart(boxes: np.ndarray, candidates: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` of ``candidates`` (indices into ``boxes``, in order of preference)
    whose boxes overlap none taken before them: two overlapping shapes may each be cheap
    to lose only because the other stays."""
    taken = []
    for i in candidates:
        if len(taken) == count:
            break
        others = boxes[taken]
        overlap = (others[:, 0] < boxes[i, 2]) & (boxes[i, 0] < others[:, 2])
        overlap &= (others[:, 1] < boxes[i, 3]) & (boxes[i, 1] < others[:, 3])
        if not overlap.any():
            taken.append(i)
    return np.array(taken, dtype=int)


def removal_costs(frame: Frame, target: np.ndarray, probes: int, rng: np.random.Generator) -> np.ndarray:
    """Estimated increase of the mean squared error if each shape of the frame's first
    group were removed, (N,), from a render of a single scene whose first group has
    opacities (:class:`Densifier` gives it ones where it has none).

    Removing shape i sets its opacity o_i to 0, which changes the image by about
    ``D = -o_i dI/do_i`` (exactly in ``alpha`` mode, where the image is affine in each
    opacity). The mean squared error then grows by ``2 e.D / n + |D|^2 / n`` (e the
    render's error, n its number of values): the first term is ``-o_i dL/do_i`` from one
    backward pass, the second is estimated from ``probes`` backward passes of random
    signs z (Hutchinson: ``E[(z.J)^2] = |J|^2``; none with no probes).
    """
    error = frame.image.astype(np.float64) - target
    count = error.size
    opacities = frame.scenes[0].shapes[0].opacity_array()
    slope = frame.backward(2.0 * error / count).shapes[0].opacities
    squares = np.zeros_like(opacities)
    for _ in range(probes):
        signs = rng.choice([-1.0, 1.0], size=error.shape)
        squares += frame.backward(signs).shapes[0].opacities ** 2
    return -opacities * slope + opacities**2 * squares / (max(probes, 1) * count)


def insertion_gains(error: np.ndarray, radii=GAIN_RADII) -> tuple[np.ndarray, np.ndarray]:
    """What a new disk of one colour could take off the mean squared error, centred on
    each pixel, and the radius that takes most: two (height, width) arrays.

    A disk of area A over error e (render minus target, (height, width, 3)) whose colour
    cancels e's mean there lowers the squared error by ``A |mean e|^2``; the mean over the
    disk is taken over its bounding square (a box filter). A shape that covers the render
    there with the target's mean colour gains as much where the render is flat under it;
    in ``mean`` and ``softor`` mode a new shape blends with what is there, so it gains less.
    """
    gains = np.zeros(error.shape[:2])
    best_radii = np.zeros(error.shape[:2])
    for radius in radii:
        size = 2 * int(round(radius)) + 1
        mean = np.stack([ndimage.uniform_filter(error[..., c], size=size, mode="constant") for c in range(3)], -1)
        gain = np.pi * radius * radius * np.sum(mean * mean, axis=-1) / error.size
        better = gain > gains
        gains[better], best_radii[better] = gain[better], radius
    return gains, best_radii


def best_places(gains: np.ndarray, radii: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``count`` best places of :func:`insertion_gains`, each outside the square of
    half-side twice the radius of every place before it: centres (k, 2) in pixels, radii
    (k,) and gains (k,), best first (fewer where no gain is left)."""
    gains = gains.copy()
    width = gains.shape[1]
    centres, chosen_radii, chosen_gains = [], [], []
    for _ in range(count):
        y, x = divmod(int(np.argmax(gains)), width)
        if gains[y, x] <= 0:
            break
        radius = radii[y, x]
        centres.append([x + 0.5, y + 0.5])
        chosen_radii.append(radius)
        chosen_gains.append(gains[y, x])
        reach = int(np.ceil(2 * radius))
        gains[max(0, y - reach) : y + reach + 1, max(0, x - reach) : x + reach + 1] = 0.0
    return np.reshape(centres, (-1, 2)), np.array(chosen_radii), np.array(chosen_gains)


class Densifier:
    """Moves the circles (or ellipses, rectangles, free triangles, paths) a fit gains least from
    to where a new one gains most.

    Called as ``densifier(scene, image, target)`` (a :func:`~taichi_sdf.optim.fit`
    ``relocate`` hook; run it every :attr:`every` steps), it renders ``scene`` itself with
    ``config`` (``image``, the render of the step before, is not used; nor are a fit's
    annealed band or tile size), takes the ``share`` (at least one) of the first group's
    shapes with the lowest :func:`removal_costs` whose boxes do not overlap (see
    :func:`apart`), and moves each to one of the best places of :func:`insertion_gains`
    that gains more than the shape costs: a flat, opaque circle of the target's mean
    colour there (or a shape of the disk's area, see :data:`MOVERS`). In the depth-ordered
    modes the moved shapes go on top, in the order of their gains, where the group allows
    (paths of differing layouts stay at their depth: a fit keeps the index arrays); it then
    returns a :class:`~taichi_sdf.optim.Relocated` whose orders carry the optimiser's state along.
    """

    every = 25  # steps between calls (on chelsea 25 did better than 20 or 50)

    def __init__(self, config: RenderConfig = RenderConfig(), seed: int = 0, share: float = 0.05, probes: int = 4):
        self.renderer = Renderer(config)
        self.rng = np.random.default_rng(seed)
        self.share, self.probes = share, probes

    def __call__(self, scene: Scene, image: np.ndarray, target: np.ndarray) -> Scene | Relocated:
        group = scene.shapes[0]
        refusal = unmovable(group)
        if refusal is not None:
            raise ValueError(refusal)
        mover = MOVERS[type(group)]
        with_opacities = group.with_parameters({"opacities": group.opacity_array()})  # renders the same
        frame = self.renderer.forward(scene.replace(shapes=(with_opacities,) + scene.shapes[1:]))
        costs = removal_costs(frame, target, self.probes, self.rng)
        count = max(1, int(self.share * len(group)))
        cheapest = apart(mover.boxes(group), np.argsort(costs, kind="stable"), count)
        gains, radii = insertion_gains(frame.image.astype(np.float64) - target)
        centres, radii, gains = best_places(gains, radii, len(cheapest))
        worth = gains > costs[cheapest[: len(gains)]]
        moved = cheapest[: len(gains)][worth]
        if len(moved) == 0:
            return scene
        centres, radii = centres[worth], radii[worth]
        values = {key: np.array(value, dtype=np.float64) for key, value in with_opacities.parameters().items()}
        mover.place(group, values, moved, centres, radii, self.rng)
        values["colours"][moved] = [mean_in_disk(target, c, r) for c, r in zip(centres, radii)]
        values["opacities"][moved] = 1.0
        if "slopes" in values:
            values["slopes"][moved] = 0.0
        if group.opacities is None:
            values.pop("opacities")
        layered = MODES[self.renderer.config.mode].layered
        on_top = self._on_top(scene, group, values, moved[::-1], mover) if layered else None
        return on_top or scene.replace(shapes=(group.with_parameters(values),) + scene.shapes[1:])

    @staticmethod
    def _on_top(scene: Scene, group, values: dict, moved: np.ndarray, mover: Mover) -> Relocated | None:
        """The scene with the ``moved`` shapes last (on top, the last of them topmost) and
        the others in their order, and the permutation of every parameter of the group; None
        when the group's shapes cannot take that order (see :class:`Mover`)."""
        order = np.concatenate([np.setdiff1d(np.arange(len(group)), moved), moved])
        shared = mover.shared_orders(group, order)
        if shared is None:
            return None
        orders = {name: order for name in values} | shared
        reordered = group.with_parameters({name: value[orders[name]] for name, value in values.items()})
        keyed = {f"0.{name}": order for name, order in orders.items()}
        return Relocated(scene.replace(shapes=(reordered,) + scene.shapes[1:]), keyed)


def mean_in_disk(image: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """Mean colour (3,) of ``image`` over the pixels whose centres lie in the disk, or the
    pixel under the centre where none do."""
    height, width = image.shape[:2]
    x0, x1 = int(max(0, centre[0] - radius)), int(min(width, centre[0] + radius + 1))
    y0, y1 = int(max(0, centre[1] - radius)), int(min(height, centre[1] + radius + 1))
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    inside = (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 <= radius * radius
    patch = image[y0:y1, x0:x1][inside]
    if len(patch):
        return patch.mean(axis=0)
    return image[min(max(int(centre[1]), 0), height - 1), min(max(int(centre[0]), 0), width - 1)]
