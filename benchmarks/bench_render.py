"""Milliseconds per forward and per forward+backward, binned vs dense, on this machine.

    python benchmarks/bench_render.py [--arch cpu] [--repeats 20]

Scenes: 256 circles at 451x300 (the chelsea fit), 4096 circles of radius 2-16 at 512x512,
and a mixed scene of 256 primitives (circles, mesh triangles, strokes) of similar size at
451x300. The dense baseline is the same renderer with culling off (every primitive listed
in every tile), measured in the same run; the ratio is the speed-up from binning. The last
line compares the mixed scene with circles only at equal primitive count, timed in
alternation.
"""

import argparse
import time

import numpy as np
import taichi as ti

from taichi_sdf import Circles, RenderConfig, Renderer, Scene, Strokes, Triangles
from taichi_sdf.losses import MSE


def random_scene(n: int, width: int, height: int, radius: tuple[float, float], seed: int = 0) -> Scene:
    rng = np.random.default_rng(seed)
    circles = Circles(
        centres=rng.uniform(0, 1, (n, 2)) * [width, height],
        radii=rng.uniform(*radius, n),
        colours=rng.uniform(0, 1, (n, 3)),
        slopes=rng.normal(0, 0.1, (n, 3, 2)),
    )
    return Scene(width, height, rng.uniform(0, 1, 3), (circles,))


def mixed_scene(n: int, width: int, height: int, size: tuple[float, float], seed: int = 0) -> Scene:
    """n primitives, a third each circles, free triangles and strokes, of ``size`` pixels."""
    rng = np.random.default_rng(seed)
    third = n // 3
    circles = random_scene(n - 2 * third, width, height, size, seed).shapes[0]
    centres = rng.uniform(0, 1, (third, 2)) * [width, height]
    spans = rng.uniform(*size, (third, 1, 1)) * rng.normal(0, 1, (third, 3, 2))
    triangles = Triangles(
        (centres[:, None] + spans).reshape(-1, 2),
        np.arange(3 * third).reshape(-1, 3),
        rng.uniform(0, 1, (third, 3)),
        rng.normal(0, 0.1, (third, 3, 2)),
    )
    ends = centres[:, None] + rng.uniform(*size, (third, 1, 1)) * rng.normal(0, 1, (third, 2, 2))
    strokes = Strokes(
        ends.reshape(-1, 2),
        np.arange(2 * third).reshape(-1, 2),
        rng.uniform(1, 4, third),
        rng.uniform(0, 1, (third, 3)),
    )
    return Scene(width, height, rng.uniform(0, 1, 3), (circles, triangles, strokes))


def milliseconds(step, repeats: int) -> float:
    step()  # compile and warm up
    ti.sync()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    ti.sync()
    return 1e3 * (time.perf_counter() - start) / repeats


def fitting_step(scene: Scene, culling: bool = True):
    """A function running one forward+backward (MSE loss and its gradient) of ``scene``."""
    renderer = Renderer(RenderConfig(culling=culling))
    target = np.full((scene.height, scene.width, 3), 0.5, np.float32)  # the render's precision, as fit() holds it
    loss = MSE()

    def step():
        frame = renderer.forward(scene)
        _, image_grad = loss.value_and_grad(frame.image, target)
        return frame.backward(image_grad)

    return step


def measure(scene: Scene, culling: bool, repeats: int) -> tuple[float, float]:
    renderer = Renderer(RenderConfig(culling=culling))
    forward = milliseconds(lambda: renderer.render(scene), repeats)
    return forward, milliseconds(fitting_step(scene, culling), repeats)


def interleaved_ratio(scene: Scene, baseline: Scene, rounds: int) -> float:
    """Median over ``rounds`` of (time of scene) / (time of baseline), the two timed in
    alternation, so that load from other processes hits both alike."""
    step, base = fitting_step(scene), fitting_step(baseline)
    ratios = [milliseconds(step, 5) / milliseconds(base, 5) for _ in range(rounds)]
    return float(np.median(ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="cpu", help="taichi arch (default cpu)")
    parser.add_argument("--repeats", type=int, default=20, help="timed repetitions (default 20)")
    args = parser.parse_args()
    ti.init(arch=getattr(ti, args.arch), offline_cache=True)
    cases = [
        ("256 circles, 451x300", random_scene(256, 451, 300, (4.0, 40.0))),
        ("4096 circles r2-16, 512x512", random_scene(4096, 512, 512, (2.0, 16.0))),
        ("256 mixed, 451x300", mixed_scene(256, 451, 300, (4.0, 40.0))),
    ]
    print(f"arch: {ti.lang.impl.current_cfg().arch.name}; f32, linear fills, tile {RenderConfig().tile()}")
    print(
        f"{'scene':30s} {'binned fwd':>11s} {'binned f+b':>11s} {'dense fwd':>10s} {'dense f+b':>10s} {'speed-up f+b':>12s}"
    )
    for name, scene in cases:
        fwd, both = measure(scene, True, args.repeats)
        dense_fwd, dense_both = measure(scene, False, max(1, args.repeats // 10))
        print(
            f"{name:30s} {fwd:9.1f}ms {both:9.1f}ms {dense_fwd:8.1f}ms {dense_both:8.1f}ms {dense_both / both:11.1f}x"
        )
    ratio = interleaved_ratio(cases[2][1], cases[0][1], args.repeats)
    print(f"mixed / circles-only fwd+bwd at 256 primitives (median of {args.repeats} alternations): {ratio:.2f}x")


if __name__ == "__main__":
    main()
