"""GPU backends, where the machine has them: render and gradients match the CPU reference.

Each case runs in a subprocess (one ``ti.init`` per process) and renders one scene in all four
compositing modes, comparing the image with the numpy reference (which the CPU tests hold to
the CPU render within 1e-9) and the backward pass with central differences. A backend Taichi
cannot start (it silently falls back to the CPU), or one without f64 for an f64 case, is
skipped, so CPU-only machines skip these; CI, which installs Mesa's software Vulkan driver
(lavapipe), names the backends that must run in ``TAICHI_SDF_REQUIRE_BACKENDS`` (see .ci/run),
where a skip is a failure instead.

The cases:

* ``f64`` (CUDA; Vulkan where the device has shaderFloat64, as lavapipe has): render within
  1e-9 of the reference, and the gradient along a random direction of all parameters within
  1e-6 (relative) of the central difference of the backend's own renders, step 1e-6.
* Vulkan ``f64`` leaves out the Bézier curves: their distance uses ``pow``, ``acos``, ``cos``
  and ``sin``, which SPIR-V (GLSL.std.450) has for 16- and 32-bit floats only, so Taichi
  cannot compile those kernels in f64 there. The curves run in ``f32`` instead:
* Vulkan ``f32``, the same scene plus quadratic and cubic polycurves: render within 1e-4 of
  the f64 reference (lavapipe measured 3.5e-6; the eye sees 1/255 = 4e-3), and the f32
  gradient within 1e-4 (relative) of the f64 central difference (step 1e-6) of the numpy
  reference render (measured 1.5e-5 over seeds 0-4). Central differences of the f32 render
  itself do not check much: below a step of ~1e-4 its rounding dominates, and above it the
  scene's kinks do (colours and opacities clamped to [0, 1], the ``mean`` mode's
  ``max(1, total)``), 2e-4 to 4e-1 (relative) for steps from 1e-4 to 3e-2.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys
import numpy as np
import taichi as ti

arch, dtype, curves = sys.argv[1], sys.argv[2], sys.argv[3] == "curves"
ti.init(arch=getattr(ti, arch), default_fp=getattr(ti, dtype), log_level=ti.ERROR)
if ti.lang.impl.current_cfg().arch.name != arch:
    print("unavailable", "falls back to", ti.lang.impl.current_cfg().arch.name)
    sys.exit(0)
if dtype == "f64":  # some Vulkan devices have no shaderFloat64
    try:
        probe = ti.ndarray(ti.f64, 1)
        probe.fill(1.0 / 3.0)  # Taichi's own kernels (a -c script's source cannot be compiled)
        problem = None if float(probe.to_numpy()[0]) == 1.0 / 3.0 else "has no f64"
    except Exception as error:
        problem = "f64: " + " ".join(str(error).split())
    if problem:
        print("unavailable", problem)
        sys.exit(0)
sys.path.insert(0, sys.argv[4])
from conftest import mixed_scene
from test_curves import curve_scene
from taichi_sdf import RenderConfig, Renderer, Scene
from taichi_sdf.reference import render_reference

rng = np.random.default_rng(int(sys.argv[5]))
scene = mixed_scene(rng, width=45, height=35, fill="linear", opacity=True)
if curves:  # quadratic and cubic polycurves over the circles, triangles and strokes
    scene = Scene(scene.width, scene.height, scene.background, scene.shapes + curve_scene(rng, 45, 35).shapes)
render_error, grad_error = 0.0, 0.0
for mode in ("mean", "over", "alpha", "softor"):
    renderer = Renderer(RenderConfig(dtype=dtype, mode=mode))
    image = renderer.render(scene)
    cotangent = rng.normal(size=image.shape)
    grads = renderer.backward(cotangent).parameters()
    values = scene.parameters()
    direction = {key: rng.normal(size=np.shape(value)) for key, value in values.items()}
    # f64: the backend's own renders; f32: the numpy reference's, in f64 (see the docstring)
    render = renderer.render if dtype == "f64" else lambda moved: render_reference(moved, mode=mode)
    def objective(eps):
        moved = scene.with_parameters({key: values[key] + eps * direction[key] for key in values})
        return np.sum(cotangent * render(moved))
    numeric = (objective(1e-6) - objective(-1e-6)) / 2e-6
    analytic = sum(np.sum(np.asarray(grads[key], np.float64) * direction[key]) for key in values)
    render_error = max(render_error, np.abs(image - render_reference(scene, mode=mode)).max())
    grad_error = max(grad_error, abs(analytic - numeric) / abs(numeric))
print("render_error", render_error)
print("grad_error", grad_error)
"""

# (arch, dtype, with curves, render tolerance, gradient tolerance): see the docstring.
CASES = [
    pytest.param("vulkan", "f64", False, 1e-9, 1e-6, id="vulkan-f64"),
    pytest.param("vulkan", "f32", True, 1e-4, 1e-4, id="vulkan-f32-curves"),
    pytest.param("cuda", "f64", True, 1e-9, 1e-6, id="cuda-f64-curves"),
]


def required(arch: str) -> bool:
    """Whether CI asks for ``arch`` (TAICHI_SDF_REQUIRE_BACKENDS, comma-separated)."""
    return arch in os.environ.get("TAICHI_SDF_REQUIRE_BACKENDS", "").replace(" ", "").split(",")


@pytest.mark.parametrize(("arch", "dtype", "curves", "render_tol", "grad_tol"), CASES)
def test_backend_matches_reference(arch, dtype, curves, render_tol, grad_tol):
    shapes = "curves" if curves else "no-curves"
    seed = "0"  # the scene's
    command = [sys.executable, "-c", SCRIPT, arch, dtype, shapes, str(Path(__file__).parent), seed]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    unavailable = [line.removeprefix("unavailable ") for line in lines if line.startswith("unavailable ")]
    if unavailable:
        reason = f"taichi cannot run {arch} {dtype} here: {unavailable[0]}"
        if required(arch):
            pytest.fail(reason + ", but TAICHI_SDF_REQUIRE_BACKENDS asks for it")
        pytest.skip(reason)
    values = dict(line.split() for line in lines if line.startswith(("render_error", "grad_error")))
    print(arch, dtype, values)
    assert float(values["render_error"]) <= render_tol
    assert float(values["grad_error"]) <= grad_tol
