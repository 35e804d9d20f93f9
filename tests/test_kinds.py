"""Every kind's hand-written coverage gradient against finite differences of its coverage, and
its numpy reference against its Taichi coverage."""

import numpy as np
import pytest
import taichi as ti

from taichi_sdf import Circles, CubicCurves, Ellipses, QuadraticCurves, Rectangles, Scene, Strokes, Triangles
from taichi_sdf.kinds import GEOMETRY_SIZE, KINDS
from taichi_sdf.table import pack

AA = 0.8
POINTS = 400
# The kinds whose coverage is a function of their table row (a path's is its entries', tested in test_paths).
ROW_KINDS = tuple(kind for kind in KINDS if not kind.segmented)


def geometry_of(group) -> np.ndarray:
    """The geometry columns of a one-primitive group's table row."""
    values = {f"0.{key}": value[None] for key, value in group.parameters().items()}
    return pack(Scene(40, 40, [1, 1, 1], (group,)), values)[0, 0, :GEOMETRY_SIZE]


@ti.func
def kind_coverage_grad(kind: ti.template(), geometry, p):
    """The kind's coverage at ``p`` and its gradient, with the guide and row it needs there."""
    guide = kind.guide(geometry, AA)
    _, _, spans = kind.row_span(guide, p[1])
    row = kind.row_pixels(geometry, guide, spans, p[1], p[0], 1, AA)
    return kind.coverage_grad(geometry, guide, row, p, AA)


def random_group(kind, rng):
    """One random primitive of ``kind`` around (20, 20), as its scene group."""
    colour = [[0.5, 0.5, 0.5]]
    if kind.group is Circles:
        return Circles(rng.uniform(15, 25, (1, 2)), [rng.uniform(3, 9)], colour)
    if kind.group is Triangles:
        return Triangles(rng.uniform(8, 32, (3, 2)), [[0, 1, 2]], colour)
    if kind.group is Strokes:
        return Strokes(rng.uniform(8, 32, (2, 2)), [[0, 1]], [rng.uniform(1, 6)], colour)
    if kind.group in (QuadraticCurves, CubicCurves):
        n = kind.group.CORNERS
        return kind.group(rng.uniform(8, 32, (n, 2)), [list(range(n))], [rng.uniform(1, 6)], colour)
    if kind.group is Ellipses:
        return Ellipses(rng.uniform(15, 25, (1, 2)), rng.uniform(1, 12, (1, 2)), [rng.uniform(-4, 4)], colour)
    if kind.group is Rectangles:
        centres, sizes, corners = rng.uniform(15, 25, (1, 2)), rng.uniform(2, 20, (1, 2)), [rng.uniform(0.2, 6)]
        return Rectangles(centres, sizes, [rng.uniform(-4, 4)], colour, corner_radii=corners)
    raise AssertionError(f"no sample for {kind.name}")


@pytest.mark.parametrize("kind", ROW_KINDS, ids=lambda kind: kind.name)
def test_coverage_gradient_equals_finite_differences(kind):
    # The kind's own coverage, differenced in float64 along random directions of its
    # geometry, against the hand-written gradient, summed over random points and weights.
    rng = np.random.default_rng(kind.code)

    @ti.kernel
    def weighted(geometry: ti.types.ndarray(), points: ti.types.ndarray(), weights: ti.types.ndarray(),
                 grad: ti.types.ndarray()) -> ti.f64:  # fmt: skip
        total = 0.0
        for i in range(points.shape[0]):
            g = ti.Vector([geometry[c] for c in ti.static(range(GEOMETRY_SIZE))])
            cov, d_cov = kind_coverage_grad(kind, g, ti.Vector([points[i, 0], points[i, 1]]))
            total += weights[i] * cov
            for c in ti.static(range(GEOMETRY_SIZE)):
                grad[i, c] = weights[i] * d_cov[c]
        return total

    for trial in range(5):
        geometry = geometry_of(random_group(kind, rng))
        points, weights = rng.uniform(2.0, 38.0, (POINTS, 2)), rng.normal(size=POINTS)
        direction = rng.normal(size=GEOMETRY_SIZE) * (np.abs(geometry) > 0)
        grad = np.zeros((POINTS, GEOMETRY_SIZE))
        weighted(geometry, points, weights, grad)
        scratch = np.zeros_like(grad)
        numeric = (weighted(geometry + 1e-6 * direction, points, weights, scratch)
                   - weighted(geometry - 1e-6 * direction, points, weights, scratch)) / 2e-6  # fmt: skip
        assert abs(numeric) > 1e-3  # the sample really has an edge in reach
        assert grad.sum(axis=0) @ direction == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("kind", ROW_KINDS, ids=lambda kind: kind.name)
def test_numpy_reference_equals_taichi_coverage(kind):
    rng = np.random.default_rng(10 + kind.code)
    group = random_group(kind, rng)
    geometry = geometry_of(group)
    samples = rng.uniform(2.0, 38.0, (POINTS, 2))
    out = np.zeros(POINTS)

    @ti.kernel
    def coverage(g: ti.types.ndarray(), p: ti.types.ndarray(), out: ti.types.ndarray()):
        for i in range(out.shape[0]):
            geometry = ti.Vector([g[c] for c in ti.static(range(GEOMETRY_SIZE))])
            cov, _ = kind_coverage_grad(kind, geometry, ti.Vector([p[i, 0], p[i, 1]]))
            out[i] = cov

    coverage(geometry, samples, out)
    np.testing.assert_allclose(out, kind.reference_coverage(group, 0, samples, AA), rtol=0, atol=1e-12)
    assert 0 < np.count_nonzero(out) < POINTS
