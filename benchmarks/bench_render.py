"""Milliseconds per forward and per forward+backward, binned vs dense, on this machine.

    python benchmarks/bench_render.py [--arch cpu] [--repeats 20]

Two scenes: 256 circles at 451x300 (the chelsea fit) and 4096 circles of radius 2-16 at
512x512. The dense baseline is the same renderer with culling off (every circle listed in
every tile), measured in the same run; the ratio is the speed-up from binning.
"""

import argparse
import time

import numpy as np
import taichi as ti

from taichi_sdf import Circles, RenderConfig, Renderer, Scene


def random_scene(n: int, width: int, height: int, radius: tuple[float, float], seed: int = 0) -> Scene:
    rng = np.random.default_rng(seed)
    circles = Circles(
        centres=rng.uniform(0, 1, (n, 2)) * [width, height],
        radii=rng.uniform(*radius, n),
        colours=rng.uniform(0, 1, (n, 3)),
        slopes=rng.normal(0, 0.1, (n, 3, 2)),
    )
    return Scene(width, height, rng.uniform(0, 1, 3), circles)


def milliseconds(step, repeats: int) -> float:
    step()  # compile and warm up
    ti.sync()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    ti.sync()
    return 1e3 * (time.perf_counter() - start) / repeats


def measure(scene: Scene, culling: bool, repeats: int) -> tuple[float, float]:
    renderer = Renderer(RenderConfig(fill="linear", culling=culling))
    target = np.full((scene.height, scene.width, 3), 0.5)
    renderer.render(scene)
    renderer.set_target(target)
    forward = milliseconds(lambda: renderer.render(scene), repeats)
    both = milliseconds(lambda: renderer.loss_and_grad(scene), repeats)
    return forward, both


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="cpu", help="taichi arch (default cpu)")
    parser.add_argument("--repeats", type=int, default=20, help="timed repetitions (default 20)")
    args = parser.parse_args()
    ti.init(arch=getattr(ti, args.arch), offline_cache=True)
    cases = [
        ("256 circles, 451x300", random_scene(256, 451, 300, (4.0, 40.0))),
        ("4096 circles r2-16, 512x512", random_scene(4096, 512, 512, (2.0, 16.0))),
    ]
    print(f"arch: {ti.lang.impl.current_cfg().arch.name}; f32, linear fills, tile 16")
    print(f"{'scene':30s} {'binned fwd':>11s} {'binned f+b':>11s} {'dense fwd':>10s} {'dense f+b':>10s} {'speed-up f+b':>12s}")
    for name, scene in cases:
        fwd, both = measure(scene, True, args.repeats)
        dense_fwd, dense_both = measure(scene, False, max(1, args.repeats // 10))
        print(
            f"{name:30s} {fwd:9.1f}ms {both:9.1f}ms {dense_fwd:8.1f}ms {dense_both:8.1f}ms {dense_both / both:11.1f}x"
        )


if __name__ == "__main__":
    main()
