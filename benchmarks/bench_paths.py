"""Filled paths: against circles, as the image grows, on a large scene, and against diffvg.

    python benchmarks/bench_paths.py [--rounds 7] [--cases blobs,glyph,splat]
                                     [--diffvg PYTHON SCRIPT]

Each figure is the fitting step of bench_render.py and fit(): forward, the MSE loss and its
image gradient, and the backward pass to a gradient scene, in alpha mode (as diffvg
composites), float32, the CPU's default tile (32). Medians over --rounds calls after one
untimed call (which compiles); where two things are compared they are timed in turn in this
process, round after round, and the ratio printed is the median of the per-round ratios.

- blobs: 1000 closed paths of 4 cubics each (the 4-arc circle approximation, handles
  kappa r tangent to the circle, a random rotation), radii 5-40 px, at 512x512, against
  1000 circles of the same centres, radii, colours and opacities (target: paths <= 2x).
  The scene is bench_diffvg_paths.py's ``blobs``, drawn from the same seed.
- glyph: one path with two holes (an outer contour of 20 cubics, two elliptic holes of
  10, even-odd; bench_diffvg_paths.py's ``glyph``) filling most of an SxS image, at
  S = 256, 1024 and 4096 (target: time grows with the pixels, about 4x a step). Also the
  share of its pixels in interior tiles (entries without segments), and an estimate of the
  interior tiles' share of its time: their pixels times the time per pixel of a square
  path's interior tiles (a square of the same image, whose pixels are nearly all interior).
- splat: 2048 such blobs with radii 10-120 px at 2040x1344 (Bézier splatting's scene,
  ``splat`` there): the step's time (target < 1 s) and the peak memory that Python and
  numpy allocate in it (tracemalloc: the frame's buffers, the image, the gradients).
- --diffvg PYTHON SCRIPT: after ours, runs SCRIPT (bench_diffvg_paths.py, with PYTHON the
  venv of its setup_diffvg.sh) on the same scenes in this run and prints its fwd+bwd
  medians beside ours and their ratio (target >= 60x on blobs). diffvg renders 2x2
  samples a pixel with a box filter; ours one SDF coverage a pixel.
"""

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np
import taichi as ti

from taichi_sdf import Circles, Paths, RenderConfig, Renderer, Scene
from taichi_sdf.losses import MSE

KAPPA = 4.0 / 3.0 * math.tan(math.pi / 8)
CONFIG = RenderConfig(mode="alpha")


def discs(n: int, width: int, height: int, radii: tuple[float, float], seed: int = 0):
    """Centres, radii, RGBA and rotations drawn as bench_diffvg_paths.py draws them."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform([0, 0], [width, height], size=(n, 2))
    radius = rng.uniform(*radii, size=n)
    rgb = rng.uniform(0, 1, size=(n, 3))
    alpha = rng.uniform(0.5, 1.0, size=n)
    rotation = rng.uniform(0, 2 * math.pi, size=n)
    return centres, radius, rgb, alpha, rotation


def blob(centre, radius: float, rotation: float) -> list[np.ndarray]:
    """A closed contour of 4 cubics through 4 points of the circle, handles tangent to it."""
    segments = []
    for k in range(4):
        t0, t1 = rotation + k * math.pi / 2, rotation + (k + 1) * math.pi / 2
        a0, a1 = (
            centre + radius * np.array([math.cos(t0), math.sin(t0)]),
            centre + radius * np.array([math.cos(t1), math.sin(t1)]),
        )
        d0, d1 = np.array([-math.sin(t0), math.cos(t0)]), np.array([-math.sin(t1), math.cos(t1)])
        segments.append(np.array([a0, a0 + KAPPA * radius * d0, a1 - KAPPA * radius * d1, a1]))
    return segments


def blob_scenes(n: int, width: int, height: int, radii: tuple[float, float]) -> tuple[Scene, Scene]:
    """n blobs, and n circles of the same centres, radii, colours and opacities."""
    centres, radius, rgb, alpha, rotation = discs(n, width, height, radii)
    paths = Paths.from_contours([[blob(centres[i], radius[i], rotation[i])] for i in range(n)], rgb, opacities=alpha)
    circles = Circles(centres, radius, rgb, opacities=alpha)
    return Scene(width, height, [1.0, 1.0, 1.0], (paths,)), Scene(width, height, [1.0, 1.0, 1.0], (circles,))


def hermite(curve, derivative, n: int, reverse: bool = False) -> list[np.ndarray]:
    """A closed contour of n cubics through n points of a closed curve (t in [0, 2 pi)),
    handles along its derivative (dt / 3 long)."""
    step = (-1 if reverse else 1) * 2 * math.pi / n
    segments = []
    for k in range(n):
        t0, t1 = k * step, (k + 1) * step
        a0, a1 = curve(t0), curve(t1)
        segments.append(np.array([a0, a0 + derivative(t0) * step / 3, a1 - derivative(t1) * step / 3, a1]))
    segments[-1][-1] = segments[0][0]  # closed exactly
    return segments


def glyph(size: int) -> Scene:
    """bench_diffvg_paths.py's glyph: an outer contour r = 0.45 S (1 + 0.08 cos 4t) of 20
    cubics and two elliptic holes of 10, even-odd, on an S x S image."""
    centre, outer = size / 2, 0.45 * size

    def rim(t):
        r = outer * (1 + 0.08 * math.cos(4 * t))
        return np.array([centre + r * math.cos(t), centre + r * math.sin(t)])

    def rim_derivative(t):
        r, dr = outer * (1 + 0.08 * math.cos(4 * t)), -outer * 0.32 * math.sin(4 * t)
        return np.array([dr * math.cos(t) - r * math.sin(t), dr * math.sin(t) + r * math.cos(t)])

    a, b = 0.22 * size, 0.12 * size  # the holes' semi-axes

    def hole(y):
        return lambda t: np.array([centre + a * math.cos(t), y + b * math.sin(t)])

    def hole_derivative(t):
        return np.array([-a * math.sin(t), b * math.cos(t)])

    contours = [hermite(rim, rim_derivative, 20)]
    contours += [hermite(hole(y), hole_derivative, 10, reverse=True) for y in (0.30 * size, 0.70 * size)]
    paths = Paths.from_contours([contours], [[0.15, 0.25, 0.65]], "evenodd", opacities=[0.9])
    return Scene(size, size, [1.0, 1.0, 1.0], (paths,))


def square(size: int) -> Scene:
    """A square path filling the image but a band at its border."""
    lo, hi = 0.02 * size, 0.98 * size
    corners = np.array([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])
    paths = Paths.from_contours(
        [[[corners[[k, (k + 1) % 4]] for k in range(4)]]], [[0.15, 0.25, 0.65]], opacities=[0.9]
    )
    return Scene(size, size, [1.0, 1.0, 1.0], (paths,))


def fitting_step(scene: Scene):
    """One forward+backward of ``scene`` (MSE against grey, its gradient, the backward)."""
    renderer, loss = Renderer(CONFIG), MSE()
    target = np.full((scene.height, scene.width, 3), 0.5, np.float32)

    def step():
        frame = renderer.forward(scene)
        _, image_grad = loss.value_and_grad(frame.image, target)
        return frame.backward(image_grad)

    return step


def seconds(step) -> float:
    ti.sync()
    start = time.perf_counter()
    step()
    ti.sync()
    return time.perf_counter() - start


def in_turn(steps: dict, rounds: int) -> dict[str, list[float]]:
    """Each step once untimed, then all in turn ``rounds`` times: the times of each."""
    for step in steps.values():
        step()
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            times[name].append(seconds(step))
    return times


def interior_share(scene: Scene) -> float:
    """The share of the image's pixels that lie in the path's interior tiles (entries
    listing no segment) by one forward pass's binning."""
    frame = Renderer(CONFIG).forward(scene)
    raster = frame._raster  # the binning's arrays: a benchmark's look inside, not an API
    refs = np.diff(raster.outline.entry_refs[: raster.tiles.entry_rows.shape[0] + 1])
    tile = raster.tile_size
    interior = 0
    tiles_x = -(-scene.width // tile)
    for entry in np.nonzero(refs == 0)[0]:
        t = raster.tiles.entry_tiles[entry]
        x0, y0 = (t % tiles_x) * tile, (t // tiles_x) * tile
        interior += (min(x0 + tile, scene.width) - x0) * (min(y0 + tile, scene.height) - y0)
    return interior / (scene.width * scene.height)


def run_blobs(rounds: int) -> dict:
    paths, circles = blob_scenes(1000, 512, 512, (5.0, 40.0))
    times = in_turn({"paths": fitting_step(paths), "circles": fitting_step(circles)}, rounds)
    ratio = statistics.median(p / c for p, c in zip(times["paths"], times["circles"]))
    path_ms, circle_ms = (1e3 * statistics.median(times[k]) for k in ("paths", "circles"))
    print(f"blobs: 1000 paths of 4 cubics {path_ms:.1f} ms, 1000 circles {circle_ms:.1f} ms, "
          f"paths / circles {ratio:.2f} (median of {rounds} rounds; target <= 2)")  # fmt: skip
    return {"blobs": path_ms / 1e3, "circles": circle_ms / 1e3}


def run_glyph(rounds: int) -> dict:
    result, previous = {}, None
    for size in (256, 1024, 4096):
        scene, flat = glyph(size), square(size)
        times = in_turn({"glyph": fitting_step(scene), "square": fitting_step(flat)}, rounds)
        glyph_s, square_s = statistics.median(times["glyph"]), statistics.median(times["square"])
        share, square_share = interior_share(scene), interior_share(flat)
        per_pixel = square_s / (square_share * size * size)  # an upper bound: the square's band time is in it
        estimate = share * size * size * per_pixel / glyph_s
        growth = "" if previous is None else f", {glyph_s / previous:.1f}x the last size"
        print(f"glyph {size}^2: {1e3 * glyph_s:.1f} ms{growth}; {100 * share:.0f} % of its pixels in interior tiles, "
              f"about {100 * estimate:.0f} % of its time (square path {1e3 * square_s:.1f} ms, "
              f"{100 * square_share:.0f} % interior)")  # fmt: skip
        result[f"glyph{size}"], previous = glyph_s, glyph_s
    return result


def run_splat(rounds: int) -> dict:
    scene, _ = blob_scenes(2048, 2040, 1344, (10.0, 120.0))
    step = fitting_step(scene)
    times = in_turn({"splat": step}, rounds)
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    splat_s = statistics.median(times["splat"])
    print(f"splat: 2048 paths of 4 cubics at 2040x1344 {1e3 * splat_s:.0f} ms (target < 1 s), "
          f"peak {peak / 2**20:.0f} MB allocated by Python and numpy")  # fmt: skip
    return {"splat": splat_s}


def run_diffvg(python: str, script: str, ours: dict, rounds: int) -> None:
    scenes = {"blobs": "blobs", "circles": "circles", "glyph256": "glyph256", "glyph1024": "glyph1024",
              "splat": "splat"}  # fmt: skip
    wanted = [name for name in scenes if name in ours]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [python, script, "--scenes", ",".join(scenes[n] for n in wanted), "--reps", str(rounds),
                   "--json", out.name]  # fmt: skip
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        with open(out.name) as file:
            theirs = json.load(file)
    for name in wanted:
        their_s = _fwd_bwd(theirs, scenes[name])
        print(f"diffvg {name}: fwd+bwd {their_s:.2f} s, ours {1e3 * ours[name]:.1f} ms: {their_s / ours[name]:.0f}x")


def _fwd_bwd(results: list, scene: str) -> float:
    """diffvg's fwd+bwd median in seconds for ``scene`` from bench_diffvg_paths.py's --json."""
    return next(result for result in results if result["scene"] == scene)["fwd_bwd_ms"] / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cases", default="blobs,glyph,splat")
    parser.add_argument("--diffvg", nargs=2, metavar=("PYTHON", "SCRIPT"))
    args = parser.parse_args()
    ti.init(arch=ti.cpu, log_level=ti.WARN)
    cases = args.cases.split(",")
    ours = {}
    for name, run in (("blobs", run_blobs), ("glyph", run_glyph), ("splat", run_splat)):
        if name in cases:
            ours.update(run(args.rounds))
    if args.diffvg:
        run_diffvg(*args.diffvg, ours, max(3, args.rounds // 2))


if __name__ == "__main__":
    sys.exit(main())
