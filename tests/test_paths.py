"""Filled paths: the group's checks and files, and the numpy reference's coverage against
analytic answers (areas, holes, fill rules, edges inside the fill) and independent signed
distances (triangles, boxes, polygons whose insideness comes from angle sums); the Taichi
entries against the reference; the kind in the renderer (with circles, every mode, tile
size, batches, the torch op) against the reference and finite differences."""

import math

import numpy as np
import pytest
import taichi as ti
from conftest import assert_every_covered_pixel_binned, assert_matches, directional_check

from taichi_sdf import Circles, Paths, RenderConfig, Renderer, Scene
from taichi_sdf.config import MODES
from taichi_sdf.funcs.winding import PIECES_SIZE, SEGMENT_SIZE, segment_pieces
from taichi_sdf.kernels.rows import store_values
from taichi_sdf.kinds import path_binning, reference_path
from taichi_sdf.kinds.path_entry import TOLERANCES, coverage_grad, path_row, pixel_coverage
from taichi_sdf.kinds.reference_sdf import coverage, segment_distance, triangle_sdf
from taichi_sdf.reference import render_reference

KAPPA = 4.0 * (math.sqrt(2.0) - 1.0) / 3.0  # a quarter circle's cubic handles, per radius
RED = [[1.0, 0.0, 0.0]]


def polygon(vertices) -> list[np.ndarray]:
    """A closed contour of lines through ``vertices`` (in order)."""
    v = np.asarray(vertices, dtype=np.float64)
    return [v[[k, (k + 1) % len(v)]] for k in range(len(v))]


def circle(centre, radius: float, reverse: bool = False) -> list[np.ndarray]:
    """A circle as four cubics (counter-clockwise on screen unless ``reverse``)."""
    centre, segments = np.asarray(centre, dtype=np.float64), []
    for quarter in range(4):
        a0, a1 = quarter * math.pi / 2, (quarter + 1) * math.pi / 2
        p0, p3 = (
            centre + radius * np.array([math.cos(a0), math.sin(a0)]),
            centre + radius * np.array([math.cos(a1), math.sin(a1)]),
        )
        t0, t1 = np.array([-math.sin(a0), math.cos(a0)]), np.array([-math.sin(a1), math.cos(a1)])
        segments.append(np.array([p0, p0 + KAPPA * radius * t0, p3 - KAPPA * radius * t1, p3]))
    return [s[::-1] for s in segments[::-1]] if reverse else segments


def one_path(contours, rule="nonzero") -> Paths:
    return Paths.from_contours([contours], RED, rule)


def grid(width: int, height: int, step: float = 1.0) -> np.ndarray:
    """(H, W, 2) sample points, ``step`` pixels apart, at the centres of their cells."""
    xs, ys = np.meshgrid(np.arange(0, width, step) + step / 2, np.arange(0, height, step) + step / 2)
    return np.stack([xs, ys], axis=-1)


def polygons_sdf(points: np.ndarray, rings) -> np.ndarray:
    """Signed distance to the region inside an odd number of the polygon ``rings`` (no two
    edges crossing): the distance to the nearest edge, inside by the sum of the angles each
    ring's edges subtend (a method apart from the reference's ray crossings)."""
    distance = np.full(points.shape[:-1], np.inf)
    inside = np.zeros(points.shape[:-1], bool)
    for ring in rings:
        ring = np.asarray(ring, dtype=np.float64)
        angle = np.zeros(points.shape[:-1])
        for a, b in zip(ring, np.roll(ring, -1, axis=0)):
            distance = np.minimum(distance, segment_distance(points, a, b))
            u, v = a - points, b - points
            angle += np.arctan2(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0], np.sum(u * v, axis=-1))
        inside ^= np.abs(angle) > math.pi
    return np.where(inside, -distance, distance)


def box_sdf(points: np.ndarray, lo, hi) -> np.ndarray:
    """Exact signed distance to the axis-aligned box [lo, hi]."""
    centre, half = (np.asarray(lo) + hi) / 2.0, (np.asarray(hi) - lo) / 2.0
    q = np.abs(points - centre) - half
    return np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(axis=-1), 0.0)


def square(lo, hi, reverse: bool = False) -> list[np.ndarray]:
    (x0, y0), (x1, y1) = lo, hi
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return polygon(corners[::-1] if reverse else corners)


def reference_sdf_of(group: Paths, points: np.ndarray) -> np.ndarray:
    return reference_path.signed_distance(group, 0, points)


# The group: checks, construction, files.


def test_from_contours_shares_points_and_closes_contours():
    open_triangle = [np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([[10.0, 0.0], [5.0, 5.0], [0.0, 8.0]])]
    group = Paths.from_contours([[open_triangle, circle([30, 30], 5)]], RED, "evenodd")
    assert group.segments.tolist()[:3] == [[0, 1, -1, -1], [1, 2, 3, -1], [3, 0, -1, -1]]  # closed by a line
    assert group.contour_ends.tolist() == [3, 7] and group.path_ends.tolist() == [2]
    assert group.segments[6, 3] == group.segments[3, 0]  # the circle ends at its own first point
    assert group.fill_rules.tolist() == [1]
    rebuilt = Paths.from_contours([group.contours(0)], RED, "evenodd")
    assert np.array_equal(rebuilt.points, group.points) and np.array_equal(rebuilt.segments, group.segments)


def test_linear_fill_frame_of_a_circle_is_its_centre_and_radius():
    group = Paths.from_contours([[circle([20.0, 30.0], 7.0)], [square([0, 0], [4, 2])]], [[1, 0, 0], [0, 1, 0]])
    anchors, sizes = group.fill_frames()
    assert np.allclose(anchors, [[20.0, 30.0], [2.0, 1.0]]) and np.allclose(sizes, [7.0, math.sqrt(5.0)])


def test_save_load_round_trip(tmp_path):
    group = Paths.from_contours(
        [[circle([20, 20], 8), square([14, 14], [26, 26], reverse=True)], [polygon([[1, 1], [9, 2], [4, 7]])]],
        [[1, 0, 0], [0, 0, 1]], ["evenodd", "nonzero"], slopes=np.full((2, 3, 2), 0.1), opacities=[0.5, 1.0],
    )  # fmt: skip
    scene = Scene(40, 30, [1, 1, 1], (group,))
    scene.save(tmp_path / "paths.npz")
    loaded = Scene.load(tmp_path / "paths.npz").shapes[0]
    assert loaded.structure() == group.structure()
    for name in Paths.PARAMETERS + Paths.INDICES:
        assert np.array_equal(getattr(loaded, name), getattr(group, name)), name


@pytest.mark.parametrize(
    "change, message",
    [
        ({"segments": [[0, 1, -1, -1], [1, 2, -1, -1], [2, 3, -1, -1]]}, "contour 0 is open: its last segment (2)"),
        (
            {"segments": [[0, 1, -1, -1], [2, 0, -1, -1], [1, 0, -1, -1]]},
            "contour 0 is open: segment 0 ends at point 1",
        ),
        ({"segments": [[0, 1, -1, -1], [1, 9, -1, -1], [9, 0, -1, -1]]}, "refer to point 9, but there are 4 points"),
        ({"segments": [[0, -1, 1, -1], [1, 2, -1, -1], [2, 0, -1, -1]]}, "the -1 padding must come after the points"),
        ({"segments": [[0, -1, -1, -1], [0, 2, -1, -1], [2, 0, -1, -1]]}, "segments[0] has 1 control point(s)"),
        ({"segments": [[0, 1], [1, 2], [2, 0]]}, "segments must have shape (S, 4)"),
        ({"segments": [[0.0, 1, -1, -1], [1, 2, -1, -1], [2, 0, -1, -1]]}, "segments must be an integer array"),
        ({"contour_ends": [2, 3], "path_ends": [2]}, "contour 0 is open"),
        ({"contour_ends": [0, 3]}, "contour_ends must increase: contour 0 has no segments"),
        ({"contour_ends": [2]}, "contour_ends must end at the number of segments (3), got 2"),
        ({"path_ends": []}, "path_ends is empty"),
        ({"fill_rules": "winding"}, "fill_rules[0] is 'winding'"),
        ({"fill_rules": ["nonzero", "evenodd"]}, "one rule or one per path (1)"),
        ({"colours": [[1, 0, 0], [0, 1, 0]]}, "colours must have shape (1, 3)"),
        ({"points": [1.0, 2.0]}, "points must have shape (P, 2)"),
    ],
)
def test_bad_paths_are_refused_with_one_line(change, message):
    fields = {
        "points": [[0, 0], [10, 0], [5, 8], [3, 3]],
        "segments": [[0, 1, -1, -1], [1, 2, -1, -1], [2, 0, -1, -1]],
        "contour_ends": [3],
        "path_ends": [1],
        "colours": RED,
    }
    with pytest.raises(ValueError) as error:
        Paths(**{**fields, **change})
    assert message in str(error.value) and "\n" not in str(error.value)


def test_from_contours_refuses_a_gap_between_segments():
    with pytest.raises(ValueError, match=r"path 0, contour 0, segment 1 starts at \[9.0, 0.0\], not where"):
        Paths.from_contours([[[np.array([[0, 0], [10, 0]]), np.array([[9, 0], [5, 5]])]]], RED)


# The reference's coverage against analytic answers and independent distances.


def test_a_triangle_path_is_the_triangle_kind():
    corners = np.array([[10.2, 5.1], [40.7, 12.3], [20.5, 33.9]])
    points = grid(50, 40)
    for rule in ("nonzero", "evenodd"):
        assert (
            np.abs(reference_sdf_of(one_path([polygon(corners)], rule), points) - triangle_sdf(points, corners)).max()
            < 1e-12
        )


@pytest.mark.parametrize("aa_width", [0.5, 1.0])
def test_polygon_coverage_integrates_to_its_shoelace_area(aa_width):
    """The coverage's integral is the area plus the band's corner and bend terms: with the
    coverage a step of the signed distance d, it is the integral of the band's weight w(s)
    times the area where d < s, which for a convex polygon is A + L s + pi s^2 (s > 0) and
    A + L s + s^2 sum cot(angle / 2) (s < 0); the band's second moment is aa^2 / 5."""
    vertices = np.array([[12.3, 8.1], [38.2, 10.7], [45.6, 30.2], [25.1, 44.8], [8.7, 29.9]])
    x, y = vertices.T
    area = 0.5 * abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    edges = np.roll(vertices, -1, axis=0) - vertices
    outline = np.linalg.norm(edges, axis=1).sum()
    turns = np.arccos(np.sum(edges * np.roll(edges, 1, axis=0), axis=1) / np.linalg.norm(edges, axis=1)
                      / np.linalg.norm(np.roll(edges, 1, axis=0), axis=1))  # fmt: skip
    corners = np.sum(1.0 / np.tan((math.pi - turns) / 2.0))
    group = one_path([polygon(vertices)])
    step = 0.25
    integral = reference_path.path_coverage(group, 0, grid(56, 56, step), aa_width).sum() * step * step
    assert abs(integral - (area + 0.1 * aa_width**2 * (math.pi + corners))) < 0.01
    pixel_sum = reference_path.path_coverage(group, 0, grid(56, 56), aa_width).sum()
    assert abs(pixel_sum - area) < 0.01 * outline  # a small fraction of a pixel per pixel of outline


def quadratic_area(pieces: np.ndarray) -> float:
    """The area inside closed quadratic pieces (n, 3, 2), by Green's theorem, exact
    (Gauss-Legendre with 4 nodes integrates the cubic x y' exactly)."""
    nodes, weights = np.polynomial.legendre.leggauss(4)
    t = (nodes + 1.0) / 2.0
    total = 0.0
    for a, b, c in pieces:
        point = a * ((1 - t) ** 2)[:, None] + 2 * b * (t * (1 - t))[:, None] + c * (t * t)[:, None]
        tangent = 2 * (b - a) * (1 - t)[:, None] + 2 * (c - b) * t[:, None]
        total += np.sum(weights / 2 * (point[:, 0] * tangent[:, 1] - point[:, 1] * tangent[:, 0])) / 2
    return abs(total)


def test_circle_of_four_cubics_has_the_area_of_a_circle():
    """Four cubics with handles KAPPA r enclose 1.00028 pi r^2; drawn as quadratic pieces,
    1.00023 pi r^2; the coverage adds the band's bend term 2 pi aa^2 / 10 (see above)."""
    radius, aa_width = 15.0, 1.0
    group = one_path([circle([25.3, 24.8], radius)])
    area = quadratic_area(reference_path.path_pieces(group, 0))
    assert 2.0e-4 < area / (math.pi * radius**2) - 1.0 < 2.6e-4
    step = 0.25
    integral = reference_path.path_coverage(group, 0, grid(51, 51, step), aa_width).sum() * step * step
    assert abs(integral - (area + 0.2 * math.pi * aa_width**2)) < 0.01


def test_square_with_a_hole_both_rules():
    """A hole drawn against the outer contour's direction (nonzero) or with it (even-odd) is
    empty; under nonzero, one drawn with it is filled (winding 2). Far from each other, the
    signed distance is the larger of the outer box's and the hole's negated."""
    points = grid(50, 50)
    outer, hole = ([5, 5], [45, 45]), ([18, 15], [32, 36])
    expected = np.maximum(box_sdf(points, *outer), -box_sdf(points, *hole))
    against = one_path([square(*outer), square(*hole, reverse=True)], "nonzero")
    along = one_path([square(*outer), square(*hole)], "evenodd")
    filled = one_path([square(*outer), square(*hole)], "nonzero")
    assert np.abs(reference_sdf_of(against, points) - expected).max() < 1e-12
    assert np.abs(reference_sdf_of(along, points) - expected).max() < 1e-12
    assert np.abs(reference_sdf_of(filled, points) - box_sdf(points, *outer)).max() < 1e-12


def star_points(centre, radius: float, first: float, step: float, count: int) -> np.ndarray:
    """``count`` points at ``radius`` about ``centre``, at angles first, first + step, ... (degrees)."""
    angles = np.radians(first + step * np.arange(count))
    return np.asarray(centre) + radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def test_self_crossing_star_nonzero_fills_the_centre_and_even_odd_does_not():
    """A pentagram drawn as one self-crossing contour. Even-odd fills the five tips,
    triangles that touch at points (the distance to their union is the least of the
    triangles'); nonzero the star's outline, a simple decagon (its centre has winding 2)."""
    points, centre, radius = grid(60, 60), [30.0, 31.0], 26.0
    drawn = star_points(centre, radius, -90.0, 144.0, 5)
    tips = star_points(centre, radius, -90.0, 72.0, 5)
    inner = star_points(centre, radius * math.cos(math.radians(72)) / math.cos(math.radians(36)), -54.0, 72.0, 5)
    triangles = [np.array([tips[k], inner[k], inner[k - 1]]) for k in range(5)]
    decagon = [v for k in range(5) for v in (tips[k], inner[k])]
    even_odd = np.min([triangle_sdf(points, corners) for corners in triangles], axis=0)
    assert np.abs(reference_sdf_of(one_path([polygon(drawn)], "evenodd"), points) - even_odd).max() < 1e-9
    nonzero = polygons_sdf(points, [decagon])
    assert np.abs(reference_sdf_of(one_path([polygon(drawn)], "nonzero"), points) - nonzero).max() < 1e-9
    middle = np.array([centre])
    assert reference_path.path_coverage(one_path([polygon(drawn)], "nonzero"), 0, middle, 1.0)[0] == 1.0
    assert reference_path.path_coverage(one_path([polygon(drawn)], "evenodd"), 0, middle, 1.0)[0] == 0.0


def test_two_overlapping_squares_under_nonzero_are_their_union():
    points = grid(50, 50)
    group = one_path([square([8, 8], [30, 30]), square([20, 18], [42, 40])])
    union = [(8, 8), (30, 8), (30, 18), (42, 18), (42, 40), (20, 40), (20, 30), (8, 30)]
    assert np.abs(reference_sdf_of(group, points) - polygons_sdf(points, [union])).max() < 1e-9


@pytest.mark.parametrize("contour", ["square", "circle"])
def test_a_contour_drawn_twice(contour):
    """Twice along: nonzero as once, even-odd empty; once each way: empty. No faint line."""
    points = grid(40, 40)
    outline = square([6, 7], [31, 33]) if contour == "square" else circle([20, 20], 13)
    backwards = [segment[::-1] for segment in outline[::-1]]
    once = reference_path.path_coverage(one_path([outline]), 0, points, 1.0)
    assert once.max() == 1.0
    twice = reference_path.path_coverage(one_path([outline, outline]), 0, points, 1.0)
    assert np.abs(twice - once).max() < 1e-12
    assert reference_path.path_coverage(one_path([outline, outline], "evenodd"), 0, points, 1.0).max() == 0.0
    assert reference_path.path_coverage(one_path([outline, backwards]), 0, points, 1.0).max() == 0.0


def test_a_hole_touching_its_outer_contour():
    """A hole sharing part of the outer contour's edge opens a notch there; a hole touching
    it at one corner leaves the boundary of both."""
    points = grid(50, 50)
    notch = one_path([square([10, 10], [40, 40]), square([10, 20], [20, 30], reverse=True)])
    outline = [(10, 10), (40, 10), (40, 40), (10, 40), (10, 30), (20, 30), (20, 20), (10, 20)]
    assert np.abs(reference_sdf_of(notch, points) - polygons_sdf(points, [outline])).max() < 1e-9
    diamond = [(10, 25), (17, 18), (24, 25), (17, 32)]
    pinched = one_path([square([10, 10], [40, 40]), polygon(diamond)], "evenodd")
    expected = polygons_sdf(points, [[(10, 10), (40, 10), (40, 40), (10, 40)], diamond])
    assert np.abs(reference_sdf_of(pinched, points) - expected).max() < 1e-9


@pytest.mark.parametrize(
    "contours",
    [
        [[np.array([[5.0, 5.0], [20.0, 12.0]]), np.array([[20.0, 12.0], [5.0, 5.0]])]],  # no area
        [[np.array([[5.0, 5.0], [5.0, 5.0]]), *polygon([[5, 5], [20, 6], [9, 18]])]],  # a repeated point
        [polygon([[7.0, 7.0]] * 3)],  # every point the same
        [[np.array([[3.0, 3.0], [30.0, 30.0], [3.0, 30.0], [30.0, 3.0]])]],  # a cubic crossing itself
        [[np.array([[3.0, 20.0], [25.0, 5.0], [3.0, 5.0], [3.0, 20.0]])]],  # a cusp where it closes
        [[np.array([[4.0, 4.0], [30.0, 4.0], [17.0, 4.0]]), np.array([[17.0, 4.0], [4.0, 4.0]])]],  # folded, collinear
        [circle([10.2, 10.3], 0.3)],  # smaller than a pixel
        [square([-10, -5], [15, 50]), circle([35, 0], 9)],  # across the image border
    ],
    ids=["no-area", "repeated", "one-point", "self-crossing", "cusp", "collinear", "subpixel", "border"],
)
def test_degenerate_paths_have_finite_coverage(contours):
    points = grid(33, 27)
    for rule in ("nonzero", "evenodd"):
        cov = reference_path.path_coverage(one_path(contours, rule), 0, points, 1.0)
        assert np.all(np.isfinite(cov)) and cov.min() >= 0.0 and cov.max() <= 1.0


def test_a_path_of_no_area_covers_nothing_and_a_subpixel_circle_its_area():
    points = grid(33, 27)
    flat = one_path([[np.array([[5.0, 5.0], [20.0, 12.0]]), np.array([[20.0, 12.0], [5.0, 5.0]])]])
    assert reference_path.path_coverage(flat, 0, points, 1.0).max() == 0.0
    tiny = one_path([circle([10.2, 10.3], 0.3)])
    step = 0.25
    integral = reference_path.path_coverage(tiny, 0, grid(33, 27, step), 1.0).sum() * step * step
    assert 0.0 < integral < 2.0  # no more than the band around a point (its coverage is below 1/2 everywhere)
    assert reference_path.path_coverage(tiny, 0, points, 1.0).max() < 0.5


def test_coverage_is_the_smooth_step_of_the_signed_distance():
    group = one_path([circle([20, 20], 9), square([15, 16], [24, 23], reverse=True)])
    points = grid(40, 40)
    assert np.array_equal(reference_path.path_coverage(group, 0, points, 0.7),
                          coverage(reference_path.signed_distance(group, 0, points, reach=0.7), 0.7))  # fmt: skip


# The Taichi side of a path, before the renderer: its binning into (tile, path) entries, and
# the coverage and gradient of each entry's pixels, against the reference and central
# differences.


@ti.kernel
def _fill_pieces(segments: ti.types.ndarray(), counts: ti.types.ndarray(), pieces: ti.types.ndarray()):
    for s in range(segments.shape[0]):
        segment = ti.Vector([segments[s, i] for i in ti.static(range(SEGMENT_SIZE))])
        store_values(pieces, s, segment_pieces(segment, counts[s]), PIECES_SIZE)


def segment_table(group: Paths) -> tuple[np.ndarray, np.ndarray]:
    """(S, PIECES_SIZE) the pieces table of the group's segments and (S,) their control
    point counts, as the renderer makes them."""
    segments = np.zeros((len(group.segments), SEGMENT_SIZE))
    for k in range(4):
        used = group.segments[:, k] >= 0
        segments[used, 2 * k : 2 * k + 2] = group.points[group.segments[used, k]]
    counts, pieces = group.control_counts().astype(np.int32), np.zeros((len(segments), PIECES_SIZE))
    _fill_pieces(segments, counts, pieces)
    return pieces, counts


@ti.kernel
def _path_box(table: ti.types.ndarray(), reach: ti.f64, tile_size: ti.i32, width: ti.i32, height: ti.i32,
              box: ti.types.ndarray()):  # fmt: skip
    for _ in range(1):
        lo, hi = path_binning.segments_box(table, 0, table.shape[0], reach)
        tiles = path_binning.tile_box(lo, hi, tile_size, width, height)
        for k in ti.static(range(4)):
            box[k] = tiles[k]


@ti.kernel
def _bin_path(table: ti.types.ndarray(), rule: ti.i32, reach: ti.f64, tile_size: ti.i32,
              box: ti.types.ndarray(), grid: ti.types.ndarray(), tiles_x: ti.i32, emit: ti.i32,
              sizes: ti.types.ndarray(), entry_tiles: ti.types.ndarray(), entry_rows: ti.types.ndarray(),
              entry_bases: ti.types.ndarray(), entry_refs: ti.types.ndarray(), refs: ti.types.ndarray()):  # fmt: skip
    for _ in range(1):
        tiles = ti.Vector([box[0], box[1], box[2], box[3]])
        if emit:
            path_binning.emit_path(table, 0, table.shape[0], rule, reach, tile_size, tiles, grid, 0, 0, tiles_x,
                                   0, 0, 0, entry_tiles, entry_rows, entry_bases, entry_refs, refs)  # fmt: skip
        else:
            sizes[0], sizes[1] = path_binning.count_path(table, 0, table.shape[0], rule, reach, tile_size, tiles, grid,
                                                         0)  # fmt: skip


@ti.kernel
def _render_entries(table: ti.types.ndarray(), counts: ti.types.ndarray(), refs: ti.types.ndarray(), rule: ti.i32,
                    aa_width: ti.f64, tile_size: ti.i32, entry_tiles: ti.types.ndarray(),
                    entry_bases: ti.types.ndarray(), entry_refs: ti.types.ndarray(), weights: ti.types.ndarray(),
                    image: ti.types.ndarray(), listed: ti.types.ndarray(), grads: ti.types.ndarray()):  # fmt: skip
    outline = ti.static((table, counts, refs))
    height, width = image.shape
    ti.loop_config(serialize=True)  # the gradients sum into shared rows
    for entry in range(entry_tiles.shape[0]):
        tile, first, end, base = entry_tiles[entry], entry_refs[entry], entry_refs[entry + 1], entry_bases[entry]
        tiles_x = (width + tile_size - 1) // tile_size
        x0, y0 = (tile % tiles_x) * tile_size, (tile // tiles_x) * tile_size
        count = ti.min(tile_size, width - x0)
        for y in range(y0, ti.min(y0 + tile_size, height)):
            winding, steps, found, _first, _last = path_row(
                outline, first, end, base, ti.cast(x0, ti.f64), y + 0.5, 0, count, rule, aa_width
            )
            for c in range(count):
                p = ti.Vector([x0 + c + 0.5, y + 0.5])
                winding += steps[c]
                cov, signed, kind, piece, t, other, s = pixel_coverage(
                    outline, first, end, base, ti.cast(x0, ti.f64), rule, found, c, winding, p, aa_width,
                    TOLERANCES["f64"],
                )  # fmt: skip
                image[y, x0 + c], listed[y, x0 + c] = cov, listed[y, x0 + c] + 1
                ref, grad, ref2, grad2 = coverage_grad(outline, first, p, signed, kind, piece, t, other, s, aa_width)
                for i in ti.static(range(8)):
                    grads[refs[ref], i] += weights[y, x0 + c] * grad[i]
                    grads[refs[ref2], i] += weights[y, x0 + c] * grad2[i]


def render_path(group: Paths, width: int, height: int, tile_size: int, weights=None, aa_width: float = 1.0):
    """Path 0 binned and drawn by the Taichi functions: its coverage (H, W), how many
    entries list each pixel, and the gradient of sum(weights * coverage) by its points."""
    table, counts = segment_table(group)
    rule = int(group.fill_rules[0])
    box = np.zeros(4, np.int32)
    _path_box(table, aa_width, tile_size, width, height, box)
    grid = np.zeros((max(1, (box[2] - box[0] + 1) * (box[3] - box[1] + 1)), path_binning.GRID_FIELDS), np.int32)
    sizes, tiles_x = np.zeros(2, np.int32), -(-width // tile_size)
    lists = [np.zeros(1, np.int32) for _ in range(5)]
    _bin_path(table, rule, aa_width, tile_size, box, grid, tiles_x, 0, sizes, *lists)
    entries, n_refs = sizes
    entry_tiles, entry_rows, entry_bases = (np.zeros(max(1, entries), np.int32) for _ in range(3))
    entry_refs, refs = np.full(entries + 1, n_refs, np.int32), np.zeros(max(1, n_refs), np.int32)
    _bin_path(table, rule, aa_width, tile_size, box, grid, tiles_x, 1, sizes, entry_tiles, entry_rows,
              entry_bases, entry_refs, refs)  # fmt: skip
    image, listed = np.zeros((height, width)), np.zeros((height, width), np.int32)
    grads = np.zeros((len(table), SEGMENT_SIZE))
    weights = np.zeros((height, width)) if weights is None else weights
    _render_entries(table, counts, refs, rule, aa_width, tile_size, entry_tiles[:entries], entry_bases, entry_refs,
                    weights, image, listed, grads)  # fmt: skip
    point_grads = np.zeros_like(group.points)
    for k in range(4):
        used = group.segments[:, k] >= 0
        np.add.at(point_grads, group.segments[used, k], grads[used, 2 * k : 2 * k + 2])
    return image, listed, point_grads


ENTRY_CASES = {
    "triangle": lambda: one_path([polygon([[10.2, 5.1], [40.7, 12.3], [20.5, 33.9]])]),
    "circle": lambda: one_path([circle([60.3, 40.8], 35.2)]),
    "hole": lambda: one_path([square([5.37, 5.21], [95.13, 75.77]), square([18.2, 12.1], [72.4, 56.6], reverse=True)]),
    "union": lambda: one_path([square([8.3, 8.1], [60.2, 50.4]), square([40.1, 28.3], [82.2, 70.1])]),
    "star-nonzero": lambda: one_path([polygon(star_points([50.3, 41.1], 38, -90, 144, 5))]),
    "star-evenodd": lambda: one_path([polygon(star_points([50.3, 41.1], 38, -90, 144, 5))], "evenodd"),
    "twice-evenodd": lambda: one_path([circle([20, 20], 13), circle([20, 20], 13)], "evenodd"),
    "notch": lambda: one_path([square([10, 10], [40, 40]), square([10, 20], [20, 30], reverse=True)]),
    "border": lambda: one_path([square([-10, -5], [15, 150]), circle([95, 0], 19)]),
    "tile-aligned": lambda: one_path([square([16, 16], [64, 48]), square([32, 24], [48, 40], reverse=True)]),
    "quadratics": lambda: Paths.from_contours(
        [[[np.array([[5.0, 5.0], [80.0, 2.0], [95.0, 60.0]]), np.array([[95.0, 60.0], [20.0, 80.0], [5.0, 5.0]])]]], RED
    ),
    "cusp": lambda: one_path([[np.array([[3.3, 60.2], [95.1, 5.3], [3.2, 5.1], [3.3, 60.2]])]]),
    "self-crossing": lambda: one_path(
        [[np.array([[3.3, 3.1], [90.2, 70.3], [3.1, 70.2], [90.4, 3.3]]), np.array([[90.4, 3.3], [3.3, 3.1]])]]
    ),
}


@pytest.mark.parametrize("tile_size", [8, 16, 32])
@pytest.mark.parametrize("name", ENTRY_CASES)
def test_path_entries_draw_the_reference_and_drop_nothing(name, tile_size):
    group = ENTRY_CASES[name]()
    image, listed, _ = render_path(group, 101, 83, tile_size)
    reference = reference_path.path_coverage(group, 0, grid(101, 83), 1.0)
    assert np.abs(image - reference).max() < 1e-9
    assert listed.max() <= 1 and np.all(listed[reference > 0] == 1)  # each pixel in one entry, every covered one


# Not in general position: drawing nothing, edges that coincide (moving one apart opens a
# sliver, a jump in the image), corners on whole pixels (pixel centres on their bisectors).
SPECIAL = ("twice-evenodd", "notch", "tile-aligned")


@pytest.mark.parametrize("name", [name for name in ENTRY_CASES if name not in SPECIAL])
def test_path_coverage_gradient_equals_finite_differences(name):
    group = ENTRY_CASES[name]()
    rng = np.random.default_rng(len(name))
    weights, direction = rng.normal(size=(83, 101)), rng.normal(size=group.points.shape)
    _, _, grads = render_path(group, 101, 83, 16, weights)

    def objective(eps: float) -> float:
        moved = Paths(group.points + eps * direction, group.segments, group.contour_ends, group.path_ends, RED,
                      group.fill_rules)  # fmt: skip
        return float(np.sum(weights * render_path(moved, 101, 83, 16)[0]))

    numeric = (objective(1e-6) - objective(-1e-6)) / 2e-6
    assert abs(numeric) > 1e-3
    assert np.sum(grads * direction) == pytest.approx(numeric, rel=1e-6)


# The kind in the renderer: one binning, forward and backward with the other kinds.


def pipeline_scene(rng, width: int = 41, height: int = 31, paths=None) -> Scene:
    """Circles under and over ``paths`` ((contours, rule) pairs; by default a square over
    the whole image, a square, a square with a hole, a pentagram under each rule, a
    quadratic and cubic outline, two contours across the image border), linear fills and
    opacities. Corners lie off pixel centres' bisectors (where the distance has a kink)."""
    if paths is None:
        paths = [
            ([square([-4.13, -3.27], [44.21, 35.18])], "nonzero"),  # over the whole image: interior tiles
            ([square([3.37, 4.21], [14.63, 13.08])], "nonzero"),
            ([square([17.23, 2.61], [36.42, 17.34]), square([22.14, 6.33], [30.71, 12.18], reverse=True)], "nonzero"),
            ([polygon(star_points([11.3, 22.4], 9.5, -90, 144, 5))], "nonzero"),
            ([polygon(star_points([28.2, 23.1], 9.5, -90, 144, 5))], "evenodd"),
            ([[np.array([[20.31, 18.12], [34.23, 16.44], [38.52, 30.23]]),
               np.array([[38.52, 30.23], [30.14, 27.26], [24.27, 34.18], [20.31, 18.12]])]], "nonzero"),
            ([square([-5.21, 24.33], [6.14, 40.27]), circle([38.31, 2.13], 5.22)], "evenodd"),
        ]  # fmt: skip
    n = len(paths)
    group = Paths.from_contours([contours for contours, _ in paths], rng.uniform(0, 1, (n, 3)),
                                [rule for _, rule in paths], rng.normal(0, 0.05, (n, 3, 2)),
                                rng.uniform(0.4, 0.9, n))  # fmt: skip
    under, over = (
        Circles(
            rng.uniform(0, 1, (2, 2)) * [width, height],
            rng.uniform(3, 7, 2),
            rng.uniform(0, 1, (2, 3)),
            rng.normal(0, 0.1, (2, 3, 2)),
            rng.uniform(0.4, 0.9, 2),
        )
        for _ in range(2)
    )
    return Scene(width, height, rng.uniform(0, 1, 3), (under, group, over))


@pytest.mark.parametrize("tile_size", [8, 16, 32])
@pytest.mark.parametrize("mode", MODES)
def test_paths_among_circles_render_as_the_reference(mode, tile_size):
    scene = pipeline_scene(np.random.default_rng(tile_size))
    image = Renderer(RenderConfig(tile_size=tile_size, dtype="f64", mode=mode)).render(scene)
    assert np.abs(image - render_reference(scene, mode=mode)).max() <= 1e-9


@pytest.mark.parametrize("tile_size", [8, 32])
def test_every_covered_pixel_of_a_path_is_binned(tile_size):
    assert_every_covered_pixel_binned(pipeline_scene(np.random.default_rng(11)), tile_size)


@pytest.mark.parametrize("mode", MODES)
def test_path_gradients_in_the_renderer_equal_finite_differences(mode):
    scene = pipeline_scene(np.random.default_rng(3))
    for key in ("1.points", "1.colours", "1.slopes", "1.opacities"):
        assert_matches(*directional_check(scene, [key], RenderConfig(dtype="f64", mode=mode), seed=4))


@pytest.mark.parametrize("mode", ["over", "alpha"])
def test_path_gradients_behind_an_opaque_path_equal_finite_differences(mode):
    """Where an opaque square takes all of a pixel, the forward composites nothing behind
    it there (the circle behind it), though it keeps that circle's nearest boundary points
    for the backward, which walks every entry."""
    rng = np.random.default_rng(12)
    contours = [[circle([15.3, 14.2], 9.6)], [square([9.37, 6.21], [27.63, 19.08])], [circle([24.1, 17.3], 6.2)]]
    group = Paths.from_contours(contours, rng.uniform(0, 1, (3, 3)), ["nonzero"] * 3, rng.normal(0, 0.05, (3, 3, 2)),
                                [0.7, 1.0, 0.8])  # fmt: skip
    scene = Scene(37, 29, rng.uniform(0, 1, 3), (group,))
    for key in ("0.points", "0.colours", "0.slopes"):
        assert_matches(*directional_check(scene, [key], RenderConfig(dtype="f64", mode=mode), seed=5))


def test_a_batch_of_paths_is_one_pass_equal_to_its_images(monkeypatch):
    import taichi_sdf.render

    scene = pipeline_scene(np.random.default_rng(5))
    moved = scene.with_parameters({"1.points": scene.parameters()["1.points"] + 0.7})
    calls, rasterize = [], taichi_sdf.render.rasterize
    monkeypatch.setattr(taichi_sdf.render, "rasterize", lambda *args, **kw: calls.append(1) or rasterize(*args, **kw))
    renderer, config = Renderer(RenderConfig(dtype="f64", mode="over")), RenderConfig(dtype="f64", mode="over")
    images = renderer.render([scene, moved])
    assert len(calls) == 1
    cotangent = np.random.default_rng(6).normal(size=images.shape)
    grads = [g.parameters()["1.points"] for g in renderer.backward(cotangent)]
    for b, one in enumerate([scene, moved]):
        single = Renderer(config)
        assert np.array_equal(single.render(one), images[b])
        assert np.array_equal(single.backward(cotangent[b]).parameters()["1.points"], grads[b])


DEGENERATE = {
    "no-area": [[np.array([[5.0, 5.0], [20.0, 12.0]]), np.array([[20.0, 12.0], [5.0, 5.0]])]],
    "repeated": [[np.array([[5.0, 5.0], [5.0, 5.0]]), *polygon([[5, 5], [20, 6], [9, 18]])]],
    "one-point": [polygon([[7.0, 7.0]] * 3)],
    "cusp": [[np.array([[3.0, 20.0], [25.0, 5.0], [3.0, 5.0], [3.0, 20.0]])]],
    "subpixel": [circle([10.2, 10.3], 0.3)],
}


def test_degenerate_paths_render_and_differentiate_without_nan():
    paths = [(contours, "nonzero") for contours in DEGENERATE.values()]
    scene = pipeline_scene(np.random.default_rng(7), paths=paths)
    renderer = Renderer(RenderConfig(dtype="f64", mode="over"))
    image = renderer.render(scene)
    assert np.abs(image - render_reference(scene, mode="over")).max() <= 1e-9
    grads = renderer.backward(np.ones_like(image)).parameters()
    assert all(np.all(np.isfinite(value)) for value in grads.values())
    assert np.abs(grads["1.points"]).max() > 0.0


@pytest.mark.parametrize("tile_size", [8, 32])
def test_the_forward_keeps_a_record_per_near_pixel_within_its_room(tile_size):
    """The forward writes one record per pixel within the band of a path's outline (see
    kernels/paths.py), into room sized from a bound on them: checked on the pipeline's
    paths, the degenerate ones and a comb of thin teeth, whose band covers most of its box."""
    teeth = [[k * 3.1 + 2.2, 30.5] for k in range(12)] + [[k * 3.1 + 3.6, 1.3] for k in range(11, -1, -1)]
    scenes = [pipeline_scene(np.random.default_rng(9)),
              pipeline_scene(np.random.default_rng(7), paths=[(c, "nonzero") for c in DEGENERATE.values()]),
              pipeline_scene(np.random.default_rng(8), paths=[([polygon(teeth)], "evenodd")])]  # fmt: skip
    for scene in scenes:
        raster = Renderer(RenderConfig(tile_size=tile_size, aa_width=1.5)).forward(scene)._raster
        written, room = int(raster.boundary.record_count[0]), raster.boundary.records.shape[0]
        group = scene.shapes[1]
        near = sum(int((np.abs(reference_path.signed_distance(group, m, grid(scene.width, scene.height)))
                        < 1.5).sum()) for m in range(len(group)))  # fmt: skip
        assert near * 0.99 <= written <= room


def test_the_torch_op_draws_paths_with_their_gradients():
    torch = pytest.importorskip("torch")
    from taichi_sdf.torch import parameters, render

    scene = pipeline_scene(np.random.default_rng(8))
    config = RenderConfig(dtype="f64", mode="over")
    params = parameters(scene, batch=2, dtype=torch.float64)
    with torch.no_grad():
        params["1.points"][1] += 0.3
    images = render(scene, params, config).detach().numpy()
    renderer = Renderer(config)
    for b in range(2):
        one = scene.with_parameters({key: value[b].numpy() for key, value in params.items()})
        assert np.array_equal(images[b], renderer.render(one))
    for key in ("1.points", "1.opacities"):
        value = params[key].requires_grad_(True)
        assert torch.autograd.gradcheck(lambda v, key=key: render(scene, {**params, key: v}, config), (value,),
                                        eps=1e-6, atol=1e-6, rtol=1e-5, fast_mode=True), key  # fmt: skip
