"""Gradients from the binned backward pass against central finite differences, in float64.

Protocol (``conftest.directional_check``): random cotangent v on the image, random direction
u in parameter space; compare <v, J u> from the backward pass with the central difference of
<v, render(x ± εu)>.
"""

import subprocess
import sys

import numpy as np
import pytest
from conftest import assert_matches, directional_check, mixed_scene, random_scene

from taichi_sdf import RenderConfig, Renderer, Scene, Triangles
from taichi_sdf.config import MODES


CIRCLE_KEYS = {"flat": ["0.centres", "0.radii", "0.colours", "background"], "linear": ["0.slopes"]}


@pytest.mark.parametrize("fill,key", [(f, k) for f in ("flat", "linear") for k in CIRCLE_KEYS["flat"] + CIRCLE_KEYS[f]])
def test_circle_gradients(fill, key):
    scene = random_scene(np.random.default_rng(1), 30, width=45, height=35, fill=fill)
    assert_matches(*directional_check(scene, [key], RenderConfig(dtype="f64")))


MIXED_KEYS = ["0.centres", "0.radii", "1.vertices", "1.colours", "1.slopes", "2.points", "2.widths", "2.colours"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("key", MIXED_KEYS + ["0.opacities", "1.opacities", "2.opacities", "background"])
def test_mixed_scene_gradients(mode, key):
    scene = mixed_scene(np.random.default_rng(2), width=45, height=35, fill="linear", opacity=True)
    assert_matches(*directional_check(scene, [key], RenderConfig(dtype="f64", mode=mode), seed=3))


@pytest.mark.parametrize("tile_size", [8, 32])
def test_gradient_independent_of_tile_size(tile_size):
    scene = mixed_scene(np.random.default_rng(4), width=45, height=35, fill="linear")
    keys = list(scene.parameters())
    assert_matches(*directional_check(scene, keys, RenderConfig(tile_size=tile_size, dtype="f64")))


def test_shared_mesh_vertex_gradient_sums_over_its_faces():
    # Vertex 1 is shared by both faces; moving it must equal moving both faces' copies.
    # (Coordinates avoid pixel centres equidistant from two edges, where the SDF has a
    # kink and finite differences mean nothing.)
    vertices = np.array([[4.0, 4.0], [30.0, 18.0], [6.0, 28.0], [36.0, 3.0]]) + [0.137, 0.291]
    shared = Triangles(vertices, [[0, 1, 2], [0, 3, 1]], [[0.9, 0.2, 0.1], [0.1, 0.3, 0.8]])
    split = Triangles(shared.vertices[[0, 1, 2, 0, 3, 1]], [[0, 1, 2], [3, 4, 5]], shared.colours)
    cotangent = np.random.default_rng(5).normal(size=(32, 40, 3))
    renderer = Renderer(RenderConfig(dtype="f64"))
    grads = []
    for mesh in (shared, split):
        renderer.render(Scene(40, 32, [0.5, 0.5, 0.5], (mesh,)))
        grads.append(renderer.backward(cotangent).shapes[0].vertices)
    np.testing.assert_allclose(grads[0][1], grads[1][1] + grads[1][5], rtol=1e-10)
    assert_matches(
        *directional_check(Scene(40, 32, [0.5, 0.5, 0.5], (shared,)), ["0.vertices"], RenderConfig(dtype="f64"))
    )


@pytest.mark.parametrize("gap", [0.05, -0.05])
def test_over_mode_gradient_near_the_kink(gap):
    # Two opaque triangles almost sharing their diagonal: along it min(cov, remaining)
    # switches branch from pixel to pixel.
    vertices = np.array(
        [[2.0, 2.0], [30.0, 2.0], [30.0, 22.0], [2.0, 22.0], [2.0 + gap, 2.0 - gap], [30.0 + gap, 22.0 - gap]]
    )
    vertices += [0.137, 0.291]  # no pixel centre equidistant from two edges (an SDF kink)
    mesh = Triangles(vertices, [[0, 1, 2], [4, 5, 3]], [[0.9, 0.2, 0.1], [0.2, 0.7, 0.3]])
    scene = Scene(32, 24, [0.0, 0.0, 1.0], (mesh,))
    assert_matches(*directional_check(scene, ["0.vertices", "0.colours"], RenderConfig(dtype="f64", mode="over")))


OPAQUE_CIRCLE_SCRIPT = """
import numpy as np
import taichi as ti

ti.init(arch=ti.cpu, log_level=ti.ERROR)  # default_fp f32, as the command line and the demos run
from taichi_sdf import Circles, RenderConfig, Renderer, Scene
from taichi_sdf.config import MODES

circle = Circles(
    [[387.01228148475946, 224.19996931510144]],
    [24.850966514864325],
    [[0.62599187, 0.53958295, 0.52185133]],
    [[[-0.06246659, -0.04873599], [-0.07058486, -0.05506981], [-0.08941374, -0.06975997]]],
    [1.0],
)
scene = Scene(451, 300, [0.2, 0.5, 0.7], (circle,))
for mode in MODES:
    grads = {}
    for dtype in ("f32", "f64"):
        renderer = Renderer(RenderConfig(mode=mode, dtype=dtype))
        image = renderer.render(scene)
        grads[dtype] = renderer.backward(np.ones_like(image)).parameters()
    for key, exact in grads["f64"].items():  # f32 sums of ~2000 pixels: 1e-2 of the largest
        assert np.all(np.isfinite(exact)), (mode, "f64", key)
        assert np.all(np.isfinite(grads["f32"][key])), (mode, "f32", key)
        np.testing.assert_allclose(grads["f32"][key], exact, rtol=1e-2, atol=1e-2 * np.abs(exact).max(), err_msg=key)
print("ok")
"""


def test_opaque_circle_gradients_are_finite_with_default_fp32():
    # A circle of opacity exactly 1 (where fits clip it), from a chelsea fit whose alpha and
    # softor gradients were NaN. In f32 the forward kernel rounded its coverage at some pixel
    # just below 1 and the backward kernel, recomputing it, to exactly 1, so undoing the
    # factor 1 - cov divided by zero (entries this opaque now count as opaque); in f64 the
    # record of an opaque pixel compared with a literal 1e-280 that default_fp f32 made 0.0.
    # Both need Taichi's default_fp f32 (the test session's f64 retypes the kernels'
    # literals), so this runs in its own process.
    result = subprocess.run([sys.executable, "-c", OPAQUE_CIRCLE_SCRIPT], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]
