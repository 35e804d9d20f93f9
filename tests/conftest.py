"""One Taichi runtime per test session (CPU, float64 by default), random test scenes, and the
finite-difference gradient check the gradient tests share."""

import math
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import taichi as ti

from taichi_sdf import Circles, RenderConfig, Renderer, Scene, Strokes, Triangles
from taichi_sdf.reference import primitive_layers

# The ``taichi-sdf`` command, run as a subprocess with this Python.
CONSOLE = [sys.executable, "-c", "import sys; from taichi_sdf.app.start import taichi_sdf; sys.exit(taichi_sdf())"]


def taichi_sdf(*args, **options) -> subprocess.CompletedProcess:
    """Run ``taichi-sdf ARGS`` (``options`` go to subprocess.run, e.g. ``cwd``)."""
    return subprocess.run([*CONSOLE, *map(str, args)], capture_output=True, text=True, timeout=300, **options)


@pytest.fixture(scope="session", autouse=True)
def taichi_runtime():
    ti.init(arch=ti.cpu, default_fp=ti.f64, log_level=ti.WARN)
    yield
    ti.reset()


def random_circles(rng, n: int, width: int, height: int, fill: str, margin: float = 6.0, opacity: bool = False):
    """Overlapping circles of radius 2-12 px, some crossing tile borders or the image edge."""
    return Circles(
        centres=rng.uniform(-margin, 0.0, (n, 2))
        + rng.uniform(0, 1, (n, 2)) * [width + 2 * margin, height + 2 * margin],
        radii=rng.uniform(2.0, 12.0, n),
        colours=rng.uniform(0.0, 1.0, (n, 3)),
        slopes=rng.normal(0.0, 0.3, (n, 3, 2)) if fill == "linear" else None,
        opacities=rng.uniform(0.3, 1.0, n) if opacity else None,
    )


def random_scene(rng, n: int, width: int, height: int, fill: str, margin: float = 6.0) -> Scene:
    """A circles-only scene (see :func:`random_circles`)."""
    return Scene(width, height, rng.uniform(0.0, 1.0, 3), (random_circles(rng, n, width, height, fill, margin),))


def mixed_scene(rng, width: int, height: int, fill: str, opacity: bool = False) -> Scene:
    """Circles, then a small mesh with shared vertices, then polylines sharing points."""
    circles = random_circles(rng, 10, width, height, fill, opacity=opacity)
    vertices = rng.uniform(-5.0, 1.0, (9, 2)) + rng.uniform(0, 1, (9, 2)) * [width + 10, height + 10]
    faces = np.array([[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 8], [1, 3, 5], [0, 4, 8]])
    triangles = Triangles(
        vertices,
        faces,
        rng.uniform(0.0, 1.0, (6, 3)),
        rng.normal(0.0, 0.3, (6, 3, 2)) if fill == "linear" else None,
        rng.uniform(0.3, 1.0, 6) if opacity else None,
    )
    points = rng.uniform(0, 1, (6, 2)) * [width, height]
    strokes = Strokes(
        points,
        np.array([[0, 1], [1, 2], [2, 3], [4, 5]]),
        rng.uniform(1.0, 5.0, 4),
        rng.uniform(0.0, 1.0, (4, 3)),
        rng.uniform(0.3, 1.0, 4) if opacity else None,
    )
    return Scene(width, height, rng.uniform(0.0, 1.0, 3), (circles, triangles, strokes))


def directional_check(scene: Scene, keys, config: RenderConfig, seed: int = 0):
    """<v, J u> from backward() and from central differences, u restricted to ``keys``."""
    rng = np.random.default_rng(seed)
    renderer = Renderer(config)
    cotangent = rng.normal(size=(scene.height, scene.width, 3))
    values = scene.parameters()
    direction = {key: rng.normal(size=np.shape(values[key])) for key in keys}

    renderer.render(scene)
    grads = renderer.backward(cotangent).parameters()
    analytic = sum(np.sum(grads[key] * direction[key]) for key in keys)

    def objective(eps: float) -> float:
        moved = scene.with_parameters({key: values[key] + eps * direction[key] for key in keys})
        return float(np.sum(cotangent * renderer.render(moved)))

    eps = 1e-6
    return analytic, (objective(eps) - objective(-eps)) / (2 * eps)


def assert_matches(analytic, numeric):
    assert abs(numeric) > 1e-3  # the direction really moves the image
    assert abs(analytic - numeric) <= 1e-6 * abs(numeric)


def interrupted(command: list[str], ready, after: float) -> tuple[int, str]:
    """Run ``command``, press Ctrl-C ``after`` seconds after it is ready and return its exit
    status and standard error. ``ready``: a prefix of the line it prints once its work is
    about to start, a compiled regular expression that its standard error comes to match
    (a progress bar's count, say), a predicate of the process (see :func:`loading`), or
    None (at once)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said = ""  # standard error read while waiting
    if isinstance(ready, str):
        for line in process.stdout:
            if line.startswith(ready):
                break
    elif isinstance(ready, re.Pattern):
        descriptor = process.stderr.fileno()
        while not ready.search(said) and process.poll() is None:
            if select.select([descriptor], [], [], 0.1)[0]:
                said += os.read(descriptor, 65536).decode(errors="replace")
    elif ready is not None:
        deadline = time.monotonic() + 120.0
        while not ready(process) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    return process.returncode, said + stderr


def loading(library: str):
    """A ``ready`` for :func:`interrupted`: whether the process has mapped a shared library
    whose path holds ``library`` (it is importing the Python module around it, or has)."""

    def ready(process) -> bool:
        try:
            return library in Path(f"/proc/{process.pid}/maps").read_text()
        except OSError:
            return False

    return ready


def assert_every_covered_pixel_binned(scene: Scene, tile_size: int = 8) -> None:
    """Every pixel a primitive covers (numpy reference) lies in a tile that lists it."""
    renderer = Renderer(RenderConfig(tile_size=tile_size, dtype="f64"))
    renderer.render(scene)
    lists = renderer.tile_lists()
    tiles_x = math.ceil(scene.width / tile_size)
    for i, (cov, _, _) in enumerate(primitive_layers(scene)):
        for row, col in zip(*np.nonzero(cov > 0)):
            assert i in lists[(row // tile_size) * tiles_x + col // tile_size]
