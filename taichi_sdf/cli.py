"""Command-line front end shared by the demos: argument parsing, checks, progress, outputs.

Every command is planned before it runs: :func:`console_plan` (and :func:`fit_plan` for
the demos) parse the arguments and check everything that can be wrong (files, output
places, image sizes, the loss) without starting Taichi, and return the work to do. Bad
input therefore ends with one line on stderr and exit status 2 before any work starts;
Ctrl-C during a fit writes the best result so far and exits with 130.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

ARCHES = ("cpu", "cuda", "vulkan", "metal", "gpu", "auto")
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
GIF_FRAMES = 40  # at most, each at most GIF_SIZE pixels on its long side
GIF_SIZE = 320
MODES = ("mean", "over", "alpha", "softor")
LOSS_NAMES = ("mse", "l1", "pyramid", "msssim")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
MAX_PRIMITIVES = 10_000_000
DEMOS = {"circles": "circle", "triangles": "mesh", "strokes": "segment", "sketch": "curve"}  # demos/<name>.py fits this shape


class UsageError(Exception):
    """Bad command-line input; the message is shown as one line."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (a UsageError), not usage + message."""

    def error(self, message):
        raise UsageError(message)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def primitive_count(text: str) -> int:
    value = positive_int(text)
    if value > MAX_PRIMITIVES:
        raise argparse.ArgumentTypeError(f"at most {MAX_PRIMITIVES} primitives, got {value}")
    return value


def seed_value(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must lie in [0, 2**32), got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < value < math.inf:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def anneal_factor(text: str) -> float:
    value = positive_float(text)
    if value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a factor of at least 1, got {text}")
    return value


NAMED_COLOURS = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0)}


def parse_background(text: str):
    """'auto' (learnt, None here), 'white', 'black' or '#rrggbb' -> RGB in [0, 1]."""
    if text == "auto":
        return None
    if text in NAMED_COLOURS:
        return NAMED_COLOURS[text]
    if len(text) == 7 and text[0] == "#":
        try:
            return tuple(int(text[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"expected auto, white, black or #rrggbb, got {text!r}")


def fit_parser(shape: str, prog: str) -> argparse.ArgumentParser:
    from taichi_sdf.init import SHAPES

    parser = OneLineParser(
        prog=prog,
        description=f"Fit {SHAPES[shape].description} to an image by gradient descent through the rasterizer.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_fit_arguments(parser, shape)
    return parser


def add_fit_arguments(parser: argparse.ArgumentParser, shape: str) -> None:
    """The options of a fit of ``shape`` (its defaults differ by shape)."""
    from taichi_sdf.init import PEN_SHAPES, SHAPES

    recipe = SHAPES[shape]
    pen = shape in PEN_SHAPES
    parser.add_argument("image", help="image file, or a scikit-image sample name such as chelsea.png")
    parser.add_argument(
        "--n", type=primitive_count, default=recipe.n,
        help=f"number of {'triangles' if shape == 'mesh' else shape + 's'}",
    )  # fmt: skip
    parser.add_argument("--steps", type=positive_int, default=recipe.steps, help="Adam steps")
    parser.add_argument("--out", default="out", help="output directory")
    parser.add_argument("--seed", type=seed_value, default=0, help="random seed of the initialisation")
    if not pen:
        parser.add_argument("--fill", choices=("flat", "linear"), default="linear", help="fill of each shape")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=recipe.mode,
        help="compositing: order-free mean, seam-free over (depth order, learnt opacity), classic alpha "
        "(the SVG model), or softor ink (1 - product of 1 - coverage)",
    )
    parser.add_argument(
        "--loss", choices=LOSS_NAMES, default=recipe.loss,
        help="what the fit minimises: mean squared or absolute error, a Gaussian-pyramid MSE, or 1 - MS-SSIM "
        "(msssim needs the torch extra)",
    )  # fmt: skip
    parser.add_argument(
        "--background",
        type=parse_background,
        default="white" if pen else "auto",
        help="background colour: auto (learnt), white, black or #rrggbb",
    )
    parser.add_argument(
        "--resume", metavar="PARAMS",
        help="start from a params.npz written by an earlier fit, an SVG, or (curve and segment) a stroke-3 "
        "sketch (.npy/.npz) placed in the image",
    )  # fmt: skip
    parser.add_argument(
        "--anneal", type=anneal_factor, default=recipe.anneal,
        help="start with an anti-aliasing band this many times wider, sharpening over 60%% of the steps",
    )  # fmt: skip
    parser.add_argument("--gif", action="store_true", help=f"also write OUT/fit.gif, the fit in {GIF_FRAMES} frames")
    parser.add_argument(
        "--aa",
        type=positive_float,
        default=recipe.aa_width,
        help="anti-aliasing: half-width in pixels of the band around edges (photos fit best soft; "
        "SVG viewers draw about 0.6)",
    )
    parser.add_argument(
        "--tile", type=int, choices=(8, 16, 32), help="tile size in pixels (default: 32 on the CPU, 16 on GPUs)"
    )
    parser.add_argument("--arch", choices=ARCHES, default="cpu", help="Taichi backend")


def init_taichi(arch: str) -> str:
    """``ti.init`` on the named backend; returns the name of the arch running. A named GPU
    backend that cannot start is a UsageError (Taichi would silently use the CPU)."""
    import taichi as ti

    chosen = {"auto": ti.gpu}.get(arch) or getattr(ti, arch)
    ti.init(arch=chosen, log_level=ti.ERROR)
    running = ti.lang.impl.current_cfg().arch.name
    wanted = {"cpu": ("x64", "arm64"), "gpu": ("cuda", "vulkan", "metal", "opengl", "gles")}.get(arch, (arch,))
    if arch != "auto" and running not in wanted:
        raise UsageError(f"--arch {arch} is not available here (Taichi would run on {running})")
    return running


def writable_directory(path: str) -> Path:
    """``path`` as an output directory, created if need be and proven writable."""
    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".taichi_sdf_write_test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UsageError(f"{path}: cannot write there ({error.strerror or type(error).__name__})") from None
    return directory


def writable_file(path: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """``path`` as an output file that can be written (its folder exists and takes files;
    with ``suffixes``, one of them). An existing file is left as it is."""
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        raise UsageError(f"{path}: the file name must end in one of {', '.join(suffixes)}")
    if target.is_dir():
        raise UsageError(f"{path}: is a directory")
    existed = target.exists()
    try:
        with open(target, "ab"):
            pass
    except OSError as error:
        raise UsageError(f"{path}: cannot write there ({error.strerror or type(error).__name__})") from None
    if not existed:
        target.unlink()
    return target


def gif_frame(image: np.ndarray) -> np.ndarray:
    """An 8-bit frame of ``image``, shrunk by an integer factor to at most GIF_SIZE pixels."""
    step = max(1, -(-max(image.shape[:2]) // GIF_SIZE))
    return (np.clip(image[::step, ::step], 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def _loaded_scene(path: str):
    from taichi_sdf.io import load_scene

    try:
        return load_scene(path)
    except ValueError as error:  # ImageError, SvgError
        raise UsageError(str(error)) from None


def fit_plan(shape: str, args: argparse.Namespace, started: float) -> Callable[[], int]:
    """Check a fit's input and outputs; returns the fit itself (which writes OUT/...)."""
    from taichi_sdf.init import starting_scene
    from taichi_sdf.io import load_image
    from taichi_sdf.losses import get_loss
    from taichi_sdf.config import RenderConfig, check_image_size

    target, source = load_image(args.image)
    check_image_size(1, target.shape[1], target.shape[0])
    loss = get_loss(args.loss)
    config = RenderConfig(tile_size=args.tile, aa_width=args.aa, mode=args.mode)
    start = starting_scene(shape, target, args.n, args.seed, getattr(args, "fill", "linear"), args.mode, args.aa)
    scene = start.scene
    if args.resume:
        scene = _resumed_scene(args.resume, shape, scene)
        if shape == "triangle":  # free triangles, whatever the file shares (a mesh's vertices)
            scene = scene.replace(shapes=(scene.shapes[0].unshared(),))
    if args.background is not None:
        scene = scene.replace(background=args.background)
        start.learning_rates["background"] = 0.0
    scene.check_values()
    out = writable_directory(args.out)  # last: the only check that leaves something (the folder)
    start = replace(start, scene=scene)
    return lambda: _run_fit(args, source, target, start, config, loss, out, started)


def _resumed_scene(path: str, shape: str, started):
    """The scene in ``path`` to start a fit of ``shape`` from, checked against the scene
    the fit would start from otherwise (size and kinds); a stroke-3 sketch is placed in it."""
    from taichi_sdf.drawing import PEN_WIDTH
    from taichi_sdf.init import PEN_SHAPES
    from taichi_sdf.io import is_stroke3
    from taichi_sdf.stroke3 import read_stroke3, scene_from_stroke3

    if Path(path).is_file() and is_stroke3(path):
        if shape not in PEN_SHAPES:
            raise UsageError(f"{path} is a stroke-3 sketch: it starts a fit of --shape {' or '.join(PEN_SHAPES)}")
        try:
            sketch = read_stroke3(path)
        except ValueError as error:
            raise UsageError(str(error)) from None
        return scene_from_stroke3(sketch, started.width, started.height, pen_width=PEN_WIDTH, curves=shape == "curve")
    resumed, _ = _loaded_scene(path)
    if (resumed.width, resumed.height) != (started.width, started.height):
        raise UsageError(f"{path} is {resumed.width}x{resumed.height}, the image {started.width}x{started.height}")
    if [type(group) for group in resumed.shapes] != [type(group) for group in started.shapes]:
        raise UsageError(f"{path} does not hold a {type(started.shapes[0]).__name__} scene")
    return resumed


def _run_fit(args, source: str, photo, start, config, loss, out: Path, started: float) -> int:
    import imageio.v3 as iio
    from tqdm import tqdm

    from taichi_sdf.io import psnr, save_image, side_by_side
    from taichi_sdf.optim import FitStep, fit, mse_to_psnr
    from taichi_sdf.render import Renderer
    from taichi_sdf.svg import save_svg

    print(source)
    print(f"taichi arch: {init_taichi(args.arch)}")
    renderer = Renderer(config)
    fitted_to = start.target
    frames = []
    frame_every = -(-args.steps // GIF_FRAMES)  # ceil: at most GIF_FRAMES, then the best
    with tqdm(total=args.steps, unit="step", dynamic_ncols=True) as bar:

        def progress(state: FitStep) -> None:
            bar.set_postfix(loss=f"{state.loss:.5f}", psnr=f"{mse_to_psnr(state.mse):.2f}dB", refresh=False)
            bar.update()
            if args.gif and state.step % frame_every == 0:
                frames.append(gif_frame(renderer.render(state.scene)))

        result = fit(
            fitted_to, start.scene, args.steps, renderer=renderer, learning_rates=start.learning_rates, loss=loss,
            callback=progress, anneal=args.anneal, relocate=start.relocate,
        )  # fmt: skip

    image = renderer.render(result.scene)
    save_image(out / "render.png", image)
    save_image(out / "compare.png", side_by_side(photo, image))
    result.scene.save(out / "params.npz", mode=config.mode, aa_width=config.aa_width)
    save_svg(result.scene, out / "render.svg")
    if config.mode == "mean":
        print("note: render.svg paints shapes in order (as --mode alpha), so a mean fit looks different there")
    if args.gif:
        frames.append(gif_frame(image))
        iio.imwrite(out / "fit.gif", np.stack(frames), duration=80, loop=0)
    seconds = time.perf_counter() - started
    if result.interrupted:
        print(f"interrupted after {len(result.losses)} steps: best result so far written to {out}/", file=sys.stderr)
    print(
        f"PSNR {psnr(image, fitted_to):.2f} dB, {len(result.scene)} primitives, {len(result.losses)} steps, "
        f"{seconds:.1f} s total -> {out}/"
    )
    return EXIT_INTERRUPTED if result.interrupted else 0


def main(demo: str, argv: list[str] | None = None) -> int:
    """Entry point of ``demos/<demo>.py`` (circles, triangles, strokes); returns the exit status."""
    started = time.perf_counter()
    parser = fit_parser(DEMOS[demo], f"{demo}.py")
    return _guarded(parser.prog, lambda: fit_plan(DEMOS[demo], parser.parse_args(argv), started)())


def _one_line(text: str) -> str:
    """``text`` with control characters escaped, so that echoed arguments stay on one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _guarded(prog: str, action: Callable[[], int]) -> int:
    """Run ``action()``: bad input becomes one line on stderr and exit 2, Ctrl-C before a
    fit has anything to write exit 130 (a running fit handles Ctrl-C itself)."""
    try:
        return action()
    except (UsageError, ValueError) as error:  # ValueError: ImageError, SvgError, the library's checks
        print(f"{prog}: error: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted before the fit started: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED


def scaled_band(aa_width: float, factor: float) -> float:
    """The anti-aliasing band of a render ``factor`` times the fit's size: one output pixel
    stays one pixel (sharp edges), the part of a wider band beyond it (the soft shading of a
    mesh fit) scales with the picture."""
    return aa_width if aa_width <= 1.0 else 1.0 + (aa_width - 1.0) * factor


def render_plan(args: argparse.Namespace) -> Callable[[], int]:
    from taichi_sdf.config import RenderConfig, check_image_size

    scene, recorded = _loaded_scene(args.params)
    mode = args.mode or recorded["mode"]
    factor = args.width / scene.width if args.width else args.scale
    if not 0 < factor < math.inf:
        raise UsageError(f"the scale must be positive, got {factor}")
    width, height = max(1, round(scene.width * factor)), max(1, round(scene.height * factor))
    try:
        check_image_size(1, width, height)
    except ValueError as error:
        raise UsageError(f"a {width}x{height} render is too large: {error}") from None
    output = writable_file(args.output, IMAGE_SUFFIXES)
    config = RenderConfig(mode=mode, aa_width=scaled_band(float(recorded["aa_width"]), factor))

    def render() -> int:
        from taichi_sdf.io import save_image
        from taichi_sdf.render import Renderer

        print(f"taichi arch: {init_taichi(args.arch)}")
        big = scene.scaled(factor)
        save_image(output, Renderer(config).render(big))
        print(f"{big.width}x{big.height} render ({mode}) of {len(scene)} primitives -> {output}")
        return 0

    return render


def svg_plan(args: argparse.Namespace) -> Callable[[], int]:
    from taichi_sdf.svg import save_svg

    scene, _ = _loaded_scene(args.params)
    output = writable_file(args.output)

    def export() -> int:
        save_svg(scene, output)
        print(f"{len(scene)} primitives -> {output}")
        return 0

    return export


def import_svg_plan(args: argparse.Namespace) -> Callable[[], int]:
    scene, recorded = _loaded_scene(args.svg)
    scene.check_values()
    output = writable_file(args.output)

    def save() -> int:
        scene.save(output, **recorded)
        print(f"{len(scene)} primitives ({', '.join(type(g).__name__ for g in scene.shapes)}) -> {output}")
        return 0

    return save


def console_parser() -> argparse.ArgumentParser:
    from taichi_sdf.init import SHAPES

    parser = OneLineParser(prog="taichi-sdf", description="Fit, render and export scenes of SDF primitives.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    fit = commands.add_parser(
        "fit",
        help="fit shapes to an image (see taichi-sdf fit --help)",
        description="Fit shapes to an image. The defaults shown are for circles; --n, --steps, --mode and --aa "
        "default by --shape to: "
        + "; ".join(f"{name}: {r.n}, {r.steps}, {r.mode}, {r.aa_width}" for name, r in SHAPES.items())
        + ". Writes OUT/render.png, OUT/compare.png (image | fit), OUT/params.npz and OUT/render.svg.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    fit.add_argument("--shape", choices=tuple(SHAPES), default="circle", help="primitive to fit")
    add_fit_arguments(fit, "circle")
    render = commands.add_parser(
        "render",
        help="re-render a fitted scene at any resolution",
        description="Render PARAMS.npz at any size: geometry scales, the anti-aliasing stays one output pixel "
        "wide (a fit's wider band, such as the mesh's 3 px, scales beyond that first pixel).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    render.add_argument("params", help="params.npz written by a fit, or an SVG")
    size = render.add_mutually_exclusive_group()
    size.add_argument("--scale", type=float, default=1.0, help="size factor")
    size.add_argument("--width", type=positive_int, help="output width in pixels (height keeps the aspect)")
    render.add_argument("-o", "--output", required=True, help="output image (.png, .jpg, ...)")
    render.add_argument(
        "--mode",
        choices=MODES,
        help="compositing (default: the one the fit used, recorded in PARAMS; alpha for an SVG)",
    )
    render.add_argument("--arch", choices=ARCHES, default="cpu", help="Taichi backend")
    svg = commands.add_parser(
        "svg",
        help="export a fitted scene as SVG",
        description="Write PARAMS.npz as an SVG document (shapes painted in order, as in mode alpha).",
    )
    svg.add_argument("params", help="params.npz written by a fit")
    svg.add_argument("-o", "--output", required=True, help="output SVG")
    import_svg = commands.add_parser(
        "import-svg",
        help="read an SVG into a params file (to render, or to --resume a fit from)",
        description="Read circles, filled triangles (polygon or straight path), stroked lines, polylines and "
        "paths of lines and quadratic and cubic curves, solid and linear-gradient fills and opacity from an SVG "
        "into PARAMS.npz.",
    )
    import_svg.add_argument("svg", help="input SVG")
    import_svg.add_argument("-o", "--output", required=True, help="output params.npz")
    return parser


def console_plan(argv: list[str], started: float | None = None) -> Callable[[], int]:
    """Parse and check a ``taichi-sdf`` command line; returns the work it asks for. Raises
    UsageError or ValueError (with a one-line message) for anything wrong with it."""
    started = time.perf_counter() if started is None else started
    args = console_parser().parse_args(argv)
    if args.command == "fit":  # parse again with the chosen shape's defaults
        from taichi_sdf.init import SHAPES

        fit = OneLineParser(prog="taichi-sdf fit")
        fit.add_argument("--shape", choices=tuple(SHAPES))
        add_fit_arguments(fit, args.shape)
        return fit_plan(args.shape, fit.parse_args(argv[1:]), started)
    return {"render": render_plan, "svg": svg_plan, "import-svg": import_svg_plan}[args.command](args)


def console(argv: list[str] | None = None) -> int:
    """Entry point of the ``taichi-sdf`` command; returns the exit status."""
    started = time.perf_counter()
    argv = sys.argv[1:] if argv is None else list(argv)
    return _guarded("taichi-sdf", lambda: console_plan(argv, started)())
