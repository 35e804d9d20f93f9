"""GPU backends, where the machine has them: render and gradients match the CPU reference.

Each backend runs in a subprocess (one ``ti.init`` per process); a backend Taichi cannot
start (it silently falls back to the CPU) is skipped, so CPU-only machines skip these.
"""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys
import numpy as np
import taichi as ti

ti.init(arch=getattr(ti, sys.argv[1]), default_fp=ti.f64, log_level=ti.ERROR)
arch = ti.lang.impl.current_cfg().arch.name
if arch != sys.argv[1]:
    print("unavailable", arch)
    sys.exit(0)
sys.path.insert(0, sys.argv[2])
from conftest import random_scene
from taichi_sdf import Circles, RenderConfig, Renderer
from taichi_sdf.reference import render_reference

rng = np.random.default_rng(0)
scene = random_scene(rng, 30, width=45, height=35, fill="linear")
renderer = Renderer(RenderConfig(dtype="f64", fill="linear"))
image = renderer.render(scene)
cotangent = rng.normal(size=image.shape)
grad = renderer.backward(cotangent).circles.pack()
packed = scene.circles.pack()
direction = rng.normal(size=packed.shape)
def objective(eps):
    moved = scene.replace(circles=Circles.unpack(packed + eps * direction, "linear"))
    return np.sum(cotangent * renderer.render(moved))
numeric = (objective(1e-6) - objective(-1e-6)) / 2e-6
print("render_error", np.abs(image - render_reference(scene)).max())
print("grad_error", abs(np.sum(grad * direction) - numeric) / abs(numeric))
"""


@pytest.mark.parametrize("arch", ["vulkan", "cuda"])
def test_backend_matches_reference(arch):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, arch, str(Path(__file__).parent)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    if "unavailable" in result.stdout:
        pytest.skip(f"taichi cannot start {arch} here")
    values = dict(line.split() for line in result.stdout.splitlines() if line.split()[0].endswith("_error"))
    assert float(values["render_error"]) <= 1e-9
    assert float(values["grad_error"]) <= 1e-6
