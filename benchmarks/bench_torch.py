"""The PyTorch op against the plain API, and one batched call against many single calls.

    python benchmarks/bench_torch.py [--arch cpu] [--rounds 15]

1. Overhead: forward+backward of 256 circles at 451x300 through ``taichi_sdf.torch.render``
   (autograd of one fixed image gradient to every parameter) against the numpy API
   (``Renderer.forward`` + ``Frame.backward`` of the same gradient), in alternation; the
   median of the ratios.
2. Batching: 64 scenes of 32 strokes at 64x64, forward+backward as one batched call of the
   torch op against 64 calls of one scene each; the median of the ratios.

Sets OMP_WAIT_POLICY=PASSIVE (unless set) before importing torch; see the README.
"""

import argparse
import os

# Taichi and PyTorch each keep a pool of worker threads. With OpenMP's default policy torch's
# idle workers spin for a while after every parallel torch operation and take cores from
# Taichi's kernels (the torch path then takes ~1.6x as long on 2 cores): let them sleep.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import taichi as ti  # noqa: E402
import torch  # noqa: E402
from alternation import alternated_ratio, circles  # noqa: E402

from taichi_sdf import RenderConfig, Renderer, Scene, Strokes  # noqa: E402
from taichi_sdf.losses import MSE  # noqa: E402
from taichi_sdf.torch import parameters, render  # noqa: E402


def strokes(n: int, size: int, seed: int) -> Scene:
    rng = np.random.default_rng(seed)
    points = rng.uniform(4, size - 4, (2 * n, 2))
    group = Strokes(points, np.arange(2 * n).reshape(-1, 2), rng.uniform(1, 3, n), np.zeros((n, 3)))
    return Scene(size, size, [1.0, 1.0, 1.0], (group,))


def overhead(rounds: int) -> None:
    scene = circles(256, 451, 300)
    image_grad = np.random.default_rng(1).normal(0, 1e-6, (300, 451, 3))
    renderer = Renderer()

    def numpy_step():
        renderer.forward(scene).backward(image_grad)

    params = parameters(scene, requires_grad=True)
    image_grad_t = torch.tensor(image_grad[None], dtype=torch.float32)

    def torch_step():
        for value in params.values():
            value.grad = None
        render(scene, params).backward(image_grad_t)

    ratio, mine, theirs = alternated_ratio(torch_step, numpy_step, rounds)
    print(f"256 circles 451x300 fwd+bwd of one image gradient: medians torch op {mine:.2f} ms, numpy API "
          f"{theirs:.2f} ms; torch op / numpy API, median of {rounds} alternations: {ratio:.3f} "
          f"({100 * (ratio - 1):+.1f} %)")  # fmt: skip


def batching(rounds: int) -> None:
    scenes = [strokes(32, 64, seed) for seed in range(64)]
    template, loss = scenes[0], MSE()
    config = RenderConfig()
    batch = {key: torch.tensor(np.stack([s.parameters()[key] for s in scenes]), dtype=torch.float32,
                               requires_grad=True) for key in template.parameters()}  # fmt: skip
    singles = [{key: value[b : b + 1].detach().clone().requires_grad_() for key, value in batch.items()}
               for b in range(64)]  # fmt: skip
    target = torch.ones(64, 64, 64, 3)

    def batched():
        loss(render(template, batch, config), target).backward()

    def one_by_one():
        for b, params in enumerate(singles):
            loss(render(template, params, config), target[b : b + 1]).backward()

    ratio, mine, theirs = alternated_ratio(one_by_one, batched, rounds, repeats=2)
    print(f"64 scenes of 32 strokes at 64x64 fwd+bwd: medians one batched call {theirs:.2f} ms, 64 single calls "
          f"{mine:.2f} ms; single / batched, median of {rounds} alternations: {ratio:.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="cpu", help="taichi arch (default cpu)")
    parser.add_argument("--rounds", type=int, default=15, help="alternations timed (default 15)")
    args = parser.parse_args()
    ti.init(arch=getattr(ti, args.arch), log_level=ti.WARN)
    print(f"arch: {ti.lang.impl.current_cfg().arch.name}; f32, torch {torch.__version__}, {torch.get_num_threads()} threads")
    overhead(args.rounds)
    batching(args.rounds)


if __name__ == "__main__":
    main()
