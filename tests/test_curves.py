"""Bézier strokes: exact distances against dense sampling, the tiled renderer against the numpy
reference, gradients against finite differences (also next to end caps and near collinear
control points), their ink, and their binning."""

import math
import subprocess
import sys

import numpy as np
import pytest
import taichi as ti
from conftest import assert_every_covered_pixel_binned, assert_matches, directional_check

from taichi_sdf import CubicCurves, QuadraticCurves, RenderConfig, Renderer, Scene
from taichi_sdf.funcs import cubic_distance_grad, quadratic_distance_grad
from taichi_sdf.reference import render_reference

MODES = ["mean", "over", "alpha", "softor"]


def bezier(controls: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points (len(t), 2) of the Bézier curve with (n, 2) ``controls``."""
    n = len(controls) - 1
    weights = np.stack([math.comb(n, k) * t**k * (1 - t) ** (n - k) for k in range(n + 1)], axis=1)
    return weights @ controls


def sampled_distance(controls: np.ndarray, p: np.ndarray) -> float:
    """Distance from ``p`` to the curve by dense sampling refined by golden-section search."""
    t = np.linspace(0.0, 1.0, 4001)
    distances = np.linalg.norm(bezier(controls, t) - p, axis=1)
    best = distances.min()
    for i in np.argsort(distances)[:4]:
        lo, hi = max(0.0, t[i] - 5e-4), min(1.0, t[i] + 5e-4)
        for _ in range(60):
            m1, m2 = lo + 0.382 * (hi - lo), lo + 0.618 * (hi - lo)
            d1, d2 = (np.linalg.norm(bezier(controls, np.array([m])) - p) for m in (m1, m2))
            lo, hi = (lo, m2) if d1 < d2 else (m1, hi)
        best = min(best, float(np.linalg.norm(bezier(controls, np.array([0.5 * (lo + hi)])) - p)))
    return best


@ti.kernel
def curve_distances(controls: ti.types.ndarray(), points: ti.types.ndarray(), out: ti.types.ndarray()):
    for i in range(points.shape[0]):
        p = ti.Vector([points[i, 0], points[i, 1]])
        c = [ti.Vector([controls[k, 0], controls[k, 1]]) for k in ti.static(range(4))]
        if controls.shape[0] == 3:
            out[i], _, _, _ = quadratic_distance_grad(p, c[0], c[1], c[2], 1e9)
        else:
            out[i], _, _, _, _ = cubic_distance_grad(p, c[0], c[1], c[2], c[3], 1e9)


def random_controls(rng, n: int, case: str) -> np.ndarray:
    controls = rng.uniform(0, 40, (n, 2))
    if case == "near collinear":
        controls[1:-1] = controls[0] + np.outer(np.linspace(0, 1, n)[1:-1], controls[-1] - controls[0])
        controls[1:-1] += rng.normal(0, 1e-3, (n - 2, 2))
    elif case == "folded":  # collinear, running past the end and back
        controls[1] = controls[0] + 1.6 * (controls[-1] - controls[0])
    return controls


@pytest.mark.parametrize("n", [3, 4], ids=["quadratic", "cubic"])
@pytest.mark.parametrize("case", ["random", "near collinear", "folded"])
def test_distance_agrees_with_dense_sampling(n, case):
    rng = np.random.default_rng(n)
    for _ in range(8):
        controls = random_controls(rng, n, case)
        points = rng.uniform(-15, 75, (40, 2))
        out = np.zeros(len(points))
        padded = np.vstack([controls, np.zeros((4 - n, 2))])
        curve_distances(padded if n == 4 else controls, points, out)
        sampled = np.array([sampled_distance(controls, p) for p in points])
        # Quadratics are exact; cubics are drawn as quadratic pieces within the stated bound.
        third = np.linalg.norm(controls[0] - 3 * controls[1] + 3 * controls[2] - controls[3]) if n == 4 else 0.0
        np.testing.assert_allclose(out, sampled, rtol=0, atol=1e-7 + math.sqrt(3) / 2304 * third)


def curve_scene(rng, width: int, height: int, opacity: bool = True) -> Scene:
    """A polycurve of two quadratics and two cubics sharing their ends, over a grey background."""
    points = rng.uniform(0, 1, (8, 2)) * [width, height]
    quadratics = QuadraticCurves(
        points[:5], [[0, 1, 2], [2, 3, 4]], rng.uniform(1.5, 5.0, 2), rng.uniform(0, 1, (2, 3)),
        rng.uniform(0.3, 0.9, 2) if opacity else None,
    )  # fmt: skip
    cubic_points = rng.uniform(0, 1, (7, 2)) * [width, height]
    cubics = CubicCurves(
        cubic_points, [[0, 1, 2, 3], [3, 4, 5, 6]], rng.uniform(1.5, 5.0, 2), rng.uniform(0, 1, (2, 3)),
        rng.uniform(0.3, 0.9, 2) if opacity else None,
    )  # fmt: skip
    return Scene(width, height, rng.uniform(0, 1, 3), (quadratics, cubics))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tile_size", [8, 16, 32])
def test_tiled_curves_equal_reference(mode, tile_size):
    scene = curve_scene(np.random.default_rng(tile_size), width=53, height=37)
    image = Renderer(RenderConfig(tile_size=tile_size, dtype="f64", mode=mode)).render(scene)
    assert np.abs(image - render_reference(scene, mode=mode)).max() <= 1e-9


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("key", ["0.points", "0.widths", "0.colours", "0.opacities", "1.points", "1.widths"])
def test_curve_gradients(mode, key):
    scene = curve_scene(np.random.default_rng(5), width=41, height=33)
    assert_matches(*directional_check(scene, [key], RenderConfig(dtype="f64", mode=mode), seed=6))


@pytest.mark.parametrize("n", [3, 4], ids=["quadratic", "cubic"])
@pytest.mark.parametrize("case", ["end caps", "near collinear", "bent fold"])
def test_gradients_at_the_awkward_places(n, case):
    # (An exactly collinear fold runs over itself: pixels there have two nearest points with
    # different Bernstein weights, a kink of the distance, so it is bent a little.)
    rng = np.random.default_rng(7)
    controls = random_controls(rng, n, {"end caps": "random", "near collinear": "near collinear"}.get(case, "folded"))
    if case == "end caps":  # ends near pixel centres: the round caps' edges cross many pixels
        controls[0], controls[-1] = [10.52, 12.47], [47.49, 30.53]
    if case == "bent fold":
        chord = controls[-1] - controls[0]
        controls[1] += 2.0 * np.array([-chord[1], chord[0]]) / np.linalg.norm(chord)
    group = (QuadraticCurves if n == 3 else CubicCurves)(controls + 5.0, [list(range(n))], [3.1], [[0.1, 0.2, 0.3]])
    scene = Scene(64, 48, [0.9, 0.8, 0.7], (group,))
    for mode in ("over", "softor"):
        assert_matches(*directional_check(scene, ["0.points", "0.widths"], RenderConfig(dtype="f64", mode=mode)))


@pytest.mark.parametrize("n", [3, 4], ids=["quadratic", "cubic"])
def test_ink_is_twice_the_half_width_times_the_length_plus_the_caps(n):
    controls = np.array([[20.3, 70.1], [60.7, 10.4], [110.2, 90.6], [150.9, 35.2]])[: n if n == 4 else 3]
    if n == 3:
        controls[2] = [150.9, 35.2]
    width = 6.0
    group = (QuadraticCurves if n == 3 else CubicCurves)(controls, [list(range(n))], [width], [[1.0, 1.0, 1.0]])
    ink = Renderer(RenderConfig(dtype="f64")).render(Scene(170, 105, [0, 0, 0], (group,)))[..., 0].sum()
    length = np.sum(np.linalg.norm(np.diff(bezier(controls, np.linspace(0, 1, 20001)), axis=0), axis=1))
    half = width / 2
    assert ink == pytest.approx(2 * half * length + math.pi * half**2, rel=2e-3)


def test_every_covered_pixel_of_a_curve_is_binned():
    scene = curve_scene(np.random.default_rng(9), width=53, height=37)
    assert_every_covered_pixel_binned(scene)


COLD_COMPILE = """
import numpy as np
import taichi as ti
ti.init(arch=ti.cpu, offline_cache=False)  # compiled from source, as on a user's first run
from taichi_sdf import CubicCurves, RenderConfig, Renderer, Scene
curves = CubicCurves([[2, 3], [20, 30], [30, 2], [38, 20]], [[0, 1, 2, 3]], [2.0], [[0.2, 0.4, 0.9]])
frame = Renderer(RenderConfig(mode="over")).forward(Scene(40, 32, [1, 1, 1], (curves,)))
frame.backward(np.ones((32, 40, 3)))
"""


def test_cold_compile_of_a_curve_prints_nothing():
    result = subprocess.run([sys.executable, "-c", COLD_COMPILE], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
