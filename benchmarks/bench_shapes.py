"""Forward+backward of ellipses and rectangles against circles of the same areas.

    python benchmarks/bench_shapes.py [--n 1000] [--size 512] [--rounds 9]

Scenes: ``n`` circles of radius 5-40 px at random places of a size x size picture, linear
fills, opacities 0.5-1; ``n`` ellipses with the same centres, areas, fills and opacities,
1 to 3 times as long as wide at random angles; ``n`` rectangles likewise (for half of them
corners rounded by up to a quarter of the shorter side, which takes at most 5 % of the
area). Each step is bench_render.py's fitting step (forward, the MSE loss and its image
gradient, backward), float32, mode mean. The three scenes are timed in turn, ``--rounds`` times,
each time the median of 3 steps, so that load from other processes on this shared machine
hits them alike; printed: each scene's median over the rounds, and the median over the
rounds of each one's ratio to the circles of its round.
"""

import argparse
import math
import time

import numpy as np
import taichi as ti
from bench_render import fitting_step  # this folder is on the path when run as a script

from taichi_sdf import Circles, Ellipses, Rectangles, Scene


def scenes(n: int, size: int, seed: int = 0) -> dict[str, Scene]:
    """Circles, ellipses and rectangles of the same areas, places and fills (see above)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, size, (n, 2))
    radii = rng.uniform(5.0, 40.0, n)
    colours, slopes, opacities = rng.uniform(0, 1, (n, 3)), rng.normal(0, 0.1, (n, 3, 2)), rng.uniform(0.5, 1.0, n)
    stretch, angles = np.sqrt(rng.uniform(1.0, 3.0, n)), rng.uniform(0, math.pi, n)
    side = math.sqrt(math.pi) * radii  # a square of the disk's area
    sizes = np.stack([side * stretch, side / stretch], axis=1)
    corners = np.where(rng.uniform(0, 1, n) < 0.5, rng.uniform(0, 0.25, n) * sizes.min(axis=1), 0.0)
    groups = {
        "circles": Circles(centres, radii, colours, slopes, opacities),
        "ellipses": Ellipses(centres, np.stack([radii * stretch, radii / stretch], 1), angles, colours, slopes,
                             opacities),
        "rectangles": Rectangles(centres, sizes, angles, colours, slopes, opacities, corners),
    }
    return {name: Scene(size, size, [0.5, 0.5, 0.5], (group,)) for name, group in groups.items()}


def median_ms(step, calls: int = 3) -> float:
    times = []
    for _ in range(calls):
        ti.sync()
        start = time.perf_counter()
        step()
        ti.sync()
        times.append(1e3 * (time.perf_counter() - start))
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--arch", default="cpu")
    args = parser.parse_args()
    ti.init(arch=getattr(ti, args.arch), log_level=ti.WARN)
    steps = {name: fitting_step(scene) for name, scene in scenes(args.n, args.size).items()}
    for step in steps.values():
        step()  # compile and warm up
    times = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            times[name].append(median_ms(step))
    print(f"{args.n} shapes of radius 5-40 px (or the same areas) at {args.size}x{args.size}, mode mean, "
          f"float32, forward+backward, {args.rounds} rounds of 3-step medians")  # fmt: skip
    circles = np.array(times["circles"])
    for name, values in times.items():
        ratio = np.median(np.array(values) / circles)
        print(f"{name:>10}: {np.median(values):8.1f} ms   {ratio:5.2f}x circles (median of per-round ratios)")


if __name__ == "__main__":
    main()
