"""The fit command (``taichi-sdf fit``) and the fitting demos (``demos/circles.py``, ...):
plan a fit (every input and output checked), run it with a progress bar, write its files.

A fit writes OUT/render.png, OUT/compare.png (image | fit), OUT/params.npz,
OUT/render.svg and, with ``--gif``, OUT/fit.gif. Ctrl-C during the fit stops it and
writes the best result so far; Ctrl-C while the results are written is held until they
all are; either way the last line says what was written, and the exit status is 130.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from taichi_sdf.app.arguments import GIF_FRAMES, OneLineParser, add_fit_arguments
from taichi_sdf.app.outputs import Outputs, check_folder
from taichi_sdf.app.running import EXIT_FAILED, UsageError, init_taichi, run_guarded
from taichi_sdf.app.start import EXIT_INTERRUPTED, interrupts_held

DEMOS = {"circles": "circle", "triangles": "mesh", "strokes": "segment", "sketch": "curve", "vectorize": "path"}  # demos/<name>.py fits
OUTPUTS = ("render.png", "compare.png", "params.npz", "render.svg")


def fit_parser(shape: str, prog: str) -> argparse.ArgumentParser:
    """The options of a fitting demo that fits ``shape``."""
    from taichi_sdf.init import SHAPES

    parser = OneLineParser(
        prog=prog,
        description=f"Fit {SHAPES[shape].description} to an image by gradient descent through the rasterizer.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_fit_arguments(parser, shape)
    return parser


@dataclass
class FitPlan:
    """A checked fit: what to fit, how, and where its files go."""

    args: argparse.Namespace
    source: str  # where the picture came from, one line
    photo: object  # (height, width, 3) the picture
    start: object  # taichi_sdf.init.Start
    config: object  # taichi_sdf.config.RenderConfig
    loss: object  # taichi_sdf.losses.Loss
    out: Path
    outputs: Outputs
    started: float  # time.perf_counter() when the command started


def plan_fit(shape: str, args: argparse.Namespace, started: float) -> FitPlan:
    """Check a fit's input, options and every output path without starting Taichi."""
    from taichi_sdf.config import RenderConfig, check_image_size
    from taichi_sdf.init import starting_scene
    from taichi_sdf.io import load_image
    from taichi_sdf.losses import get_loss

    photo, source = load_image(args.image)
    check_image_size(1, photo.shape[1], photo.shape[0])
    loss = get_loss(args.loss)
    config = RenderConfig(tile_size=args.tile, aa_width=args.aa, mode=args.mode)
    resume = _resume_from(args.resume, shape) if args.resume else None
    start = starting_scene(
        shape, photo, args.n, args.seed, getattr(args, "fill", "linear"), args.mode, args.aa, resume=resume
    )
    if args.background is not None:
        start = replace(start, scene=start.scene.replace(background=args.background))
        start.learning_rates["background"] = 0.0
    start.scene.check_values()
    out = Path(args.out)
    if not out.is_dir():  # last: the only check that leaves something behind (the folder)
        check_folder(out)
    names = OUTPUTS + (("fit.gif",) if args.gif else ())
    inputs = [Path(args.image)] + ([Path(args.resume)] if args.resume else [])
    outputs = Outputs([out / name for name in names], inputs)
    return FitPlan(args, source, photo, start, config, loss, out, outputs, started)


def _resume_from(path: str, shape: str):
    """The scene (or stroke-3 sketch, (N, 3)) in ``path`` that a fit of ``shape`` resumes."""
    from taichi_sdf.init import PEN_SHAPES
    from taichi_sdf.io import is_stroke3, load_scene
    from taichi_sdf.stroke3 import read_stroke3

    if Path(path).is_file() and is_stroke3(path):
        if shape not in PEN_SHAPES:
            raise UsageError(f"{path} is a stroke-3 sketch: it starts a fit of --shape {' or '.join(PEN_SHAPES)}")
        return read_stroke3(path)
    return load_scene(path)[0]


def fit_planned(plan: FitPlan, renderer, callback=None):
    """Run the fit of ``plan`` through ``renderer`` (a :class:`~taichi_sdf.render.Renderer`
    of ``plan.config``), calling ``callback(FitStep)`` after each step; the FitResult."""
    told = None if callback is None else lambda states: callback(states[0])
    return fit_planned_batch([plan], renderer, told)[0]


def fit_planned_batch(plans: list[FitPlan], renderer, callback=None):
    """Run the fits of ``plans`` together (:func:`~taichi_sdf.optim.fit_batch`: one render
    pass per step for all), each exactly as :func:`fit_planned` runs it alone: pictures of
    one size whose starting scenes share a structure (the same shape and ``--n``), planned
    with the same steps, loss, anneal and render settings (``renderer``'s). Calls
    ``callback([FitStep, ...])`` after each step; the FitResults, in the order of ``plans``.
    ValueError (one line) for plans that cannot share a batch."""
    from taichi_sdf.optim import fit_batch

    if not plans:
        raise ValueError("no plans to fit")
    first = plans[0]
    for index, plan in enumerate(plans[1:], start=1):
        options = (plan.args.steps, plan.args.anneal, plan.args.loss, plan.config)
        if options != (first.args.steps, first.args.anneal, first.args.loss, first.config):
            raise ValueError(f"plan {index} differs from plan 0 in its steps, anneal, loss or render settings; "
                             "a batch fits its pictures with one set of options")  # fmt: skip
    results = fit_batch(
        [plan.start.target for plan in plans], [plan.start.scene for plan in plans], first.args.steps,
        renderer=renderer, learning_rates=[plan.start.learning_rates for plan in plans], loss=first.loss,
        callback=callback, anneal=first.args.anneal, relocate=[plan.start.relocate for plan in plans],
    )  # fmt: skip
    for plan, result in zip(plans, results):
        _simplify(plan, result, renderer)
    return results


def _simplify(plan: FitPlan, result, renderer) -> None:
    """A fit of paths ends with its paths simplified for editing
    (:func:`~taichi_sdf.untangle.simplified`), unless Ctrl-C is pressed meanwhile (then it
    counts as interrupted, its best scene as fitted)."""
    from taichi_sdf.kinds.path import Paths
    from taichi_sdf.untangle import simplified

    if not result.losses or not isinstance(result.scene.shapes[0], Paths):
        return
    try:
        result.scene, result.mse = simplified(result.scene, plan.start.target, renderer)
    except KeyboardInterrupt:
        result.interrupted = True


def write_fit(plan: FitPlan, renderer, scene):
    """Write the fitted ``scene``'s files (:data:`OUTPUTS`) into ``plan.out``; its render,
    (height, width, 3) in [0, 1] (unclipped), which render.png holds."""
    from taichi_sdf.io import save_image, side_by_side
    from taichi_sdf.svg import save_svg

    out, outputs = plan.out, plan.outputs
    image = renderer.render(scene)
    outputs.write(out / "render.png", lambda path: save_image(path, image))
    outputs.write(out / "compare.png", lambda path: save_image(path, side_by_side(plan.photo, image)))
    settings = {"mode": plan.config.mode, "aa_width": plan.config.aa_width}
    outputs.write(out / "params.npz", lambda path: scene.save(path, **settings))
    outputs.write(out / "render.svg", lambda path: save_svg(scene, path))
    return image


def run_fit(plan: FitPlan) -> int:
    """Run a planned fit with a progress bar and write its files; the exit status."""
    from tqdm import tqdm

    from taichi_sdf.io import gif_frame, save_gif
    from taichi_sdf.losses import mse_to_psnr, psnr
    from taichi_sdf.optim import FitStep
    from taichi_sdf.render import Renderer

    args, out, outputs = plan.args, plan.out, plan.outputs
    print(plan.source)
    print(f"taichi arch: {init_taichi(args.arch, args.seed)}")
    renderer = Renderer(plan.config)
    frames = []
    frame_every = -(-args.steps // GIF_FRAMES)  # ceil: at most GIF_FRAMES, then the best
    with tqdm(total=args.steps, unit="step", dynamic_ncols=True) as bar:

        def progress(state: FitStep) -> None:
            bar.set_postfix(loss=f"{state.loss:.5f}", psnr=f"{mse_to_psnr(state.mse):.2f}dB", refresh=False)
            bar.update()
            if args.gif and state.step % frame_every == 0:
                frames.append(gif_frame(renderer.render(state.scene)))

        result = fit_planned(plan, renderer, progress)
    if not result.losses:
        print("interrupted before the first step: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    with interrupts_held() as interrupts:  # the fit is finished: write all of it
        image = write_fit(plan, renderer, result.scene)
        if args.gif:
            frames.append(gif_frame(image))
            outputs.write(out / "fit.gif", lambda path: save_gif(path, frames))
    if plan.config.mode == "mean":
        print("note: render.svg paints shapes in order (as --mode alpha), so a mean fit looks different there")
    seconds = time.perf_counter() - plan.started
    print(
        f"PSNR {psnr(image, plan.start.target):.2f} dB, {len(result.scene)} primitives, {len(result.losses)} steps, "
        f"{seconds:.1f} s total -> {out}/"
    )
    if result.stopped is not None:
        print(f"the fit stopped {result.stopped}: {outputs.summary()} (the best fit before it)", file=sys.stderr)
        return EXIT_FAILED
    if result.interrupted or interrupts.pressed:
        steps = len(result.losses)
        when = f"after {steps} step{'s' * (steps != 1)}" if result.interrupted else "while writing the finished fit"
        print(f"interrupted {when}: {outputs.summary()} (the best fit so far)", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def demo_main(demo: str, argv: list[str] | None = None) -> int:
    """Entry point of ``demos/<demo>.py`` (a key of :data:`DEMOS`); returns the exit status."""
    started = time.perf_counter()
    shape = DEMOS[demo]

    def fit_command() -> int:
        parser = fit_parser(shape, f"{demo}.py")
        return run_fit(plan_fit(shape, parser.parse_args(argv), started))

    return run_guarded(f"{demo}.py", fit_command)


def fit_action(shape: str, args: argparse.Namespace, started: float) -> Callable[[], int]:
    """The planned fit of ``taichi-sdf fit``, to run."""
    plan = plan_fit(shape, args, started)
    return lambda: run_fit(plan)
