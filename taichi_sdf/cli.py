"""Command-line front end shared by the demos: argument parsing, progress, outputs, errors.

Bad input ends with one line on stderr and exit status 2; Ctrl-C during a fit writes the
best result so far and exits with 130.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ARCHES = ("cpu", "cuda", "vulkan", "metal", "gpu", "auto")
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line input; the message is shown as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message
        raise UsageError(message)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def circles_parser(prog: str = "circles.py") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Fit anti-aliased circles to an image by gradient descent through the rasterizer.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("image", help="image file, or a scikit-image sample name such as chelsea.png")
    parser.add_argument("--n", type=positive_int, default=256, help="number of circles")
    parser.add_argument("--steps", type=positive_int, default=400, help="Adam steps")
    parser.add_argument("--out", default="out", help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the initialisation")
    parser.add_argument("--fill", choices=("flat", "linear"), default="linear", help="fill of each circle")
    parser.add_argument("--tile", type=int, choices=(8, 16, 32), default=16, help="tile size in pixels")
    parser.add_argument("--arch", choices=ARCHES, default="cpu", help="Taichi backend")
    return parser


def init_taichi(arch: str) -> str:
    """``ti.init`` on the named backend; returns the name of the arch actually running."""
    import taichi as ti

    chosen = {"auto": ti.gpu}.get(arch) or getattr(ti, arch)
    ti.init(arch=chosen, log_level=ti.WARN)
    return ti.lang.impl.current_cfg().arch.name


def run_circles(args: argparse.Namespace, started: float) -> int:
    from tqdm import tqdm

    from taichi_sdf.io import load_image, psnr, save_image, side_by_side
    from taichi_sdf.optim import fit, init_circles, mse_to_psnr
    from taichi_sdf.render import RenderConfig, Renderer

    target, source = load_image(args.image)
    print(source)
    print(f"taichi arch: {init_taichi(args.arch)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    scene = init_circles(target, args.n, fill=args.fill, seed=args.seed)
    renderer = Renderer(RenderConfig(tile_size=args.tile, fill=args.fill))
    with tqdm(total=args.steps, unit="step", dynamic_ncols=True) as bar:

        def progress(step: int, loss: float) -> None:
            bar.set_postfix(loss=f"{loss:.5f}", psnr=f"{mse_to_psnr(loss):.2f}dB", refresh=False)
            bar.update()

        result = fit(target, scene, args.steps, renderer=renderer, callback=progress)

    image = renderer.render(result.scene)
    save_image(out / "render.png", image)
    save_image(out / "compare.png", side_by_side(target, image))
    result.scene.save(out / "params.npz")
    seconds = time.perf_counter() - started
    if result.interrupted:
        print(f"interrupted after {len(result.losses)} steps: best result so far written to {out}/", file=sys.stderr)
    print(f"PSNR {psnr(image, target):.2f} dB, {args.n} circles, {len(result.losses)} steps, {seconds:.1f} s total -> {out}/")
    return EXIT_INTERRUPTED if result.interrupted else 0


def main_circles(argv: list[str] | None = None) -> int:
    """Entry point of ``demos/circles.py``; returns the exit status."""
    started = time.perf_counter()
    from taichi_sdf.io import ImageError

    parser = circles_parser()
    try:
        args = parser.parse_args(argv)
        return run_circles(args, started)
    except (UsageError, ImageError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted before the fit started: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
