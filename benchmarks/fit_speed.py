"""PSNR against seconds of the default circle fit, with and without densify-and-prune.

    python benchmarks/fit_speed.py chelsea.png [--n 256] [--steps 800] [--plot [PATH]]

Fits the demo's starting scene twice in one process (kernels compiled first, so both
curves time fitting only): as before (Adam alone) and as the demo now does (Adam plus
:class:`taichi_sdf.densify.Densifier`). Prints when each reaches 27.0 / 27.2 / 27.5 dB and
where it ends, and with ``--plot`` plots PSNR against seconds (matplotlib, in the ``torch``
extra) to PATH, by default out/psnr_seconds.png (the README's picture is
docs/psnr_seconds.png: name it to replace that).
"""

import argparse
import time
from pathlib import Path

import numpy as np
import taichi as ti

from taichi_sdf.config import RenderConfig
from taichi_sdf.init import SHAPES, starting_scene
from taichi_sdf.io import load_image
from taichi_sdf.losses import mse_to_psnr
from taichi_sdf.optim import fit
from taichi_sdf.render import Renderer

LEVELS = (27.0, 27.2, 27.5)  # dB, for chelsea


def timed_fit(target, start, steps: int, renderer: Renderer, relocate) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since the start and PSNR (dB) after every step."""
    seconds, psnrs = [], []
    began = time.perf_counter()

    def record(state) -> None:
        seconds.append(time.perf_counter() - began)
        psnrs.append(mse_to_psnr(state.mse))

    fit(target, start.scene, steps, renderer=renderer, callback=record, relocate=relocate)
    return np.array(seconds), np.maximum.accumulate(psnrs)  # the best scene so far, as fit returns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image")
    parser.add_argument("--n", type=int, default=SHAPES["circle"].n)
    parser.add_argument("--steps", type=int, default=SHAPES["circle"].steps)
    parser.add_argument(
        "--plot", nargs="?", const="out/psnr_seconds.png", metavar="PATH", help="write the plot (PNG) there"
    )
    args = parser.parse_args()
    ti.init(arch=ti.cpu, log_level=ti.ERROR)
    target, _ = load_image(args.image)
    mode = SHAPES["circle"].mode
    start = starting_scene("circle", target, args.n, mode=mode)
    renderer = Renderer(RenderConfig(mode=mode))
    renderer.backward(np.zeros_like(renderer.render(start.scene)))  # compile before timing
    curves = {
        "before: Adam": timed_fit(target, start, args.steps, renderer, None),
        "now: Adam + densify/prune": timed_fit(target, start, args.steps, renderer, start.relocate),
    }
    for name, (seconds, psnrs) in curves.items():
        reached = [f"{level} dB at {seconds[np.argmax(psnrs >= level)]:.1f} s" if psnrs[-1] >= level else f"{level} dB never" for level in LEVELS]
        print(f"{name}: {psnrs[-1]:.2f} dB after {len(psnrs)} steps, {seconds[-1]:.1f} s; " + ", ".join(reached))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(6, 3.6), dpi=120)
        for name, (seconds, psnrs) in curves.items():
            axes.plot(seconds, psnrs, label=name, linewidth=1.2)
        axes.set_xlabel("seconds of fitting (2-core CPU)")
        axes.set_ylabel("PSNR (dB)")
        axes.set_ylim(25.5, max(psnrs.max() for _, psnrs in curves.values()) + 0.2)
        axes.set_title(f"{args.n} circles on {args.image}, {args.steps} steps")
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(args.plot)
        print(f"plot -> {args.plot}")


if __name__ == "__main__":
    main()
