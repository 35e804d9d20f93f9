"""GPU backends, where the machine has them: render and gradients match the CPU reference.

Each case runs in a subprocess (one ``ti.init`` per process) and renders one scene in every
compositing mode (``taichi_sdf.config.MODES``), comparing the image with the numpy reference
(which the CPU tests hold to the CPU render within 1e-9) and the backward pass with central
differences. A backend Taichi
cannot start (it silently falls back to the CPU), or one without f64 for an f64 case, is
skipped, so CPU-only machines skip these; CI, which installs Mesa's software Vulkan driver
(lavapipe), names the backends that must run in ``TAICHI_SDF_REQUIRE_BACKENDS`` (see .ci/run),
where a skip is a failure instead.

The cases:

* ``f64`` (CUDA; Vulkan where the device has shaderFloat64, as lavapipe has): render within
  1e-9 of the reference, and the gradient along a random direction of all parameters within
  1e-6 (relative) of the central difference of the backend's own renders, step 1e-6
  (lavapipe: 1.6e-15 and 1.8e-9 at most over seeds 0-4).
* Vulkan ``f64`` leaves out the Bézier curves: their nearest point uses ``pow``, ``acos``,
  ``cos`` and ``sin``, which SPIR-V (GLSL.std.450) has for 16- and 32-bit floats only, so
  Taichi cannot compile the curve kernels in f64 there. They run in ``f32`` instead:
* Vulkan ``f32``, quadratic and cubic polycurves: render within 1e-4 of the f64 reference
  (lavapipe: 2.7e-6 at most over seeds 0-9, as the CPU in f32; the eye sees 1/255 = 4e-3),
  and the f32 gradient within 1e-3 (relative) of the central difference, step 1e-6, of the
  reference render in f64. Lavapipe measured up to 3.1e-4 over seeds 0-9 (1.5e-4 for this
  scene), the CPU in f32 3.3e-5: lavapipe's f32 ``acos`` errs by up to 1.6e-4 (libm's by 2e-7,
  and Vulkan allows it), and where the nearest point's cubic has three real roots the curve
  parameter t inherits that. The distance does not (t is a minimiser), so the image stays
  exact to f32, but the gradient's Bernstein weights at t do. (Central differences of the
  f32 render itself check less: at a step of 1e-4 its rounding gives up to 1e-2 (relative),
  at 1e-2 the scene's kinks do (clamped colours, ``max(1, total)`` in ``mean``, ``min`` in
  ``alpha``, a pixel's nearest curve changing), up to 9e-3, and even at 1e-3 up to 5e-3.)
* Vulkan ``f32``, rotated ellipses and rectangles (rounded corners; f64 is out for the same
  reason, SPIR-V's ``cos``): the curves' tolerances (lavapipe, seed 0: 9.6e-7 and 2.7e-6).
* Vulkan ``f32``, filled paths (lines, a quadratic, cubics, a hole, linear fills): the
  same tolerances. Their per-path code adds by load and store: with ``+=`` (an atomic
  add) Taichi 1.7.4's SPIR-V left the rest of a path's binning unrun on lavapipe, and
  paths came out empty.
* The render inside a Taichi program (``taichi_sdf.taichi``), under ``ti.ad.Tape``, with its
  parameters in fields (Taichi differentiates fields on Vulkan, not ndarrays): Vulkan ``f32``
  with circles, triangles and strokes, with ellipses and rectangles, and with filled paths
  (the curves' f32 case above costs minutes to compile), CUDA ``f64`` with every kind. The image within 1e-5 (f32) of the reference; d loss / d amount
  through the user's kernels and the render within 1e-5 (relative) of the central difference,
  step 1e-6, of the same loss on the reference's renders in f64; the parameters' gradients
  within 1e-6 (relative to the largest) of the backend's own ``Frame.backward``. Lavapipe over
  seeds 0-4: 1.0e-6, 3.0e-7 and 5.3e-8 (the CPU in f32: 1.0e-6, 2.2e-7, 5.4e-8).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The start of every case's script: Taichi on the backend, or "unavailable" and exit.
PREAMBLE = """
import sys
import numpy as np
import taichi as ti

arch, dtype, shapes = sys.argv[1:4]
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
from taichi_sdf.config import MODES
from taichi_sdf.reference import render_reference

seed = int(sys.argv[5])
mixed = mixed_scene(np.random.default_rng(seed), 45, 35, fill="linear", opacity=True)  # circles, triangles, strokes
curves = curve_scene(np.random.default_rng([seed, 1]), 45, 35)  # quadratic and cubic polycurves
from taichi_sdf import Ellipses, Rectangles
boxes_rng = np.random.default_rng([seed, 3])
boxes = Scene(45, 35, mixed.background, (
    Ellipses(boxes_rng.uniform(5, 40, (5, 2)), boxes_rng.uniform(3, 9, (5, 2)), boxes_rng.uniform(0, 3, 5),
             boxes_rng.uniform(0, 1, (5, 3)), opacities=boxes_rng.uniform(0.5, 1, 5)),
    Rectangles(boxes_rng.uniform(5, 40, (5, 2)), boxes_rng.uniform(3, 9, (5, 2)), boxes_rng.uniform(0, 3, 5),
               boxes_rng.uniform(0, 1, (5, 3)), opacities=boxes_rng.uniform(0.5, 1, 5),
               corner_radii=boxes_rng.uniform(0, 2, 5)),
))  # rotated ellipses and rectangles, rounded corners
from taichi_sdf import Paths
from taichi_sdf.densify import circle_contours
paths_rng = np.random.default_rng([seed, 4])
blob = circle_contours(np.full(4, 4), paths_rng.uniform(12, 33, (1, 2)), np.array([8.0]), np.array([0.4]))[0]
blob = np.vstack([blob, blob[:1]])
outer = np.array([[3.3, 4.1], [24.6, 2.8], [22.1, 20.7], [4.8, 18.2]]) + paths_rng.uniform(-1, 1, (4, 2))
hole = np.array([[9.2, 8.3], [10.1, 13.6], [16.4, 12.9], [15.8, 7.7]])  # turning the other way
paths = Scene(45, 35, mixed.background, (Paths.from_contours(
    [[[[outer[0], [14.0, -2.0], outer[1]], [outer[1], outer[2]], [outer[2], outer[3]], [outer[3], outer[0]]],
      [hole[[k, (k + 1) % 4]] for k in range(4)]],
     [[blob[j : j + 4] for j in range(0, 12, 3)]]],
    paths_rng.uniform(0, 1, (2, 3)), opacities=paths_rng.uniform(0.5, 1, 2), slopes=paths_rng.normal(0, 0.1, (2, 3, 2)),
),))  # a quadratic-sided quadrilateral with a hole, and a blob of four cubics over it
rng = np.random.default_rng([seed, 2])  # cotangents and directions
scene = {"mixed": mixed, "curves": curves, "boxes": boxes, "paths": paths,
         "all": Scene(45, 35, mixed.background, mixed.shapes + curves.shapes + boxes.shapes + paths.shapes)}[shapes]
"""

SCRIPT = (
    PREAMBLE
    + """
render_error, grad_error = 0.0, 0.0
for mode in MODES:
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
)

# The render inside a Taichi program on the backend: tests/test_taichi_op.py's user program
# (move kernel -> RenderKernel -> squared-error kernel, all in fields) under ti.ad.Tape. Its
# d loss / d amount against central differences of the same loss on the numpy reference's
# renders in f64 ("grad_error"); the image against the reference ("render_error"); and the
# parameters' gradients against the backend's own Frame.backward ("frame_error", relative to
# the largest).
TAPE_SCRIPT = (
    PREAMBLE
    + """
from test_taichi_op import Program

user = Program(scene, dtype=dtype, seed=seed)
values = scene.parameters()
directions = {key: field.to_numpy().astype(np.float64) for key, field in zip(user.params, user.fields[2])}
target = user.target.to_numpy().astype(np.float64)
render_error, grad_error, frame_error = 0.0, 0.0, 0.0
for mode in MODES:
    analytic = user.gradient(mode, 0.1)
    def objective(amount):
        moved = scene.with_parameters({key: values[key] + amount * directions[key] for key in values})
        return np.sum((render_reference(moved, mode=mode) - target) ** 2)
    numeric = (objective(0.1 + 1e-6) - objective(0.1 - 1e-6)) / 2e-6
    grad_error = max(grad_error, abs(analytic - numeric) / abs(numeric))
    user.simulate(0.0)
    with ti.ad.Tape(user.loss):
        user.draw(mode)
    image = user.renderer(mode).image.to_numpy()
    render_error = max(render_error, np.abs(image - render_reference(scene, mode=mode)).max())
    frame = Renderer(RenderConfig(dtype=dtype, mode=mode)).forward(scene)
    expected = frame.backward(2.0 * (image - target)).parameters()
    for key, field in user.params.items():
        error = np.abs(field.grad.to_numpy() - expected[key]).max() / np.abs(expected[key]).max()
        frame_error = max(frame_error, error)
print("render_error", render_error)
print("grad_error", grad_error)
print("frame_error", frame_error)
"""
)

# (arch, dtype, shapes, render tolerance, gradient tolerance): see the docstring.
CASES = [
    pytest.param("vulkan", "f64", "mixed", 1e-9, 1e-6, id="vulkan-f64"),
    pytest.param("vulkan", "f32", "curves", 1e-4, 1e-3, id="vulkan-f32-curves"),
    pytest.param("vulkan", "f32", "boxes", 1e-4, 1e-3, id="vulkan-f32-ellipses-rects"),
    pytest.param("vulkan", "f32", "paths", 1e-4, 1e-3, id="vulkan-f32-paths"),
    pytest.param("cuda", "f64", "all", 1e-9, 1e-6, id="cuda-f64"),
]

# (arch, dtype, shapes, render tolerance, gradient tolerance, Frame.backward tolerance).
TAPE_CASES = [
    pytest.param("vulkan", "f32", "mixed", 1e-5, 1e-5, 1e-6, id="vulkan-f32-tape"),
    pytest.param("vulkan", "f32", "paths", 1e-5, 1e-5, 1e-6, id="vulkan-f32-tape-paths"),
    pytest.param("vulkan", "f32", "boxes", 1e-5, 1e-5, 1e-6, id="vulkan-f32-tape-ellipses-rects"),
    pytest.param("cuda", "f64", "all", 1e-9, 1e-6, 1e-12, id="cuda-f64-tape"),
]


def required(arch: str) -> bool:
    """Whether CI asks for ``arch`` (TAICHI_SDF_REQUIRE_BACKENDS, comma-separated)."""
    return arch in os.environ.get("TAICHI_SDF_REQUIRE_BACKENDS", "").replace(" ", "").split(",")


def run_case(script: str, arch: str, dtype: str, shapes: str) -> dict[str, float]:
    """The case's figures (name -> value), or a skip (a failure where CI asks for the arch)
    when Taichi cannot run it here."""
    seed = "0"  # the scene's
    command = [sys.executable, "-c", script, arch, dtype, shapes, str(Path(__file__).parent), seed]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    unavailable = [line.removeprefix("unavailable ") for line in lines if line.startswith("unavailable ")]
    if unavailable:
        reason = f"taichi cannot run {arch} {dtype} here: {unavailable[0]}"
        if required(arch):
            pytest.fail(reason + ", but TAICHI_SDF_REQUIRE_BACKENDS asks for it")
        pytest.skip(reason)
    figures = [line.split() for line in lines if line.startswith(("render_error", "grad_error", "frame_error"))]
    values = {name: float(value) for name, value in figures}
    print(arch, dtype, values)
    return values


@pytest.mark.parametrize(("arch", "dtype", "shapes", "render_tol", "grad_tol"), CASES)
def test_backend_matches_reference(arch, dtype, shapes, render_tol, grad_tol):
    values = run_case(SCRIPT, arch, dtype, shapes)
    assert values["render_error"] <= render_tol
    assert values["grad_error"] <= grad_tol


@pytest.mark.parametrize(("arch", "dtype", "shapes", "render_tol", "grad_tol", "frame_tol"), TAPE_CASES)
def test_tape_on_backend(arch, dtype, shapes, render_tol, grad_tol, frame_tol):
    values = run_case(TAPE_SCRIPT, arch, dtype, shapes)
    assert values["render_error"] <= render_tol
    assert values["grad_error"] <= grad_tol
    assert values["frame_error"] <= frame_tol
