"""Command-line front end shared by the demos: argument parsing, progress, outputs, errors.

Bad input ends with one line on stderr and exit status 2; Ctrl-C during a fit writes the
best result so far and exits with 130.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np

ARCHES = ("cpu", "cuda", "vulkan", "metal", "gpu", "auto")
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
GIF_FRAMES = 40  # at most, each at most GIF_SIZE pixels on its long side
GIF_SIZE = 320


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


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


# Per --shape: default count, steps, compositing mode, anti-aliasing band and what it fits.
# A mesh tiles the picture, so a wide band blends neighbouring faces into soft low-poly
# shading, which fits a photo better than hard facets (27.5 dB at 1 px, 28.1 dB at 3 px).
SHAPES = {
    "circle": (256, 800, "over", 1.0, "anti-aliased circles"),
    "triangle": (450, 400, "over", 1.0, "free triangles (each with its own corners)"),
    "mesh": (450, 600, "mean", 3.0, "a triangle mesh (shared vertices)"),
    "segment": (1000, 300, "over", 1.0, "dark strokes on white (a line drawing)"),
}
DEMOS = {"circles": "circle", "triangles": "mesh", "strokes": "segment"}  # demos/<name>.py fits this shape
MODES = ("mean", "over", "alpha")


def fit_parser(shape: str, prog: str) -> argparse.ArgumentParser:
    *_, what = SHAPES[shape]
    parser = _Parser(
        prog=prog,
        description=f"Fit {what} to an image by gradient descent through the rasterizer.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_fit_arguments(parser, shape)
    return parser


def add_fit_arguments(parser: argparse.ArgumentParser, shape: str) -> None:
    """The options of a fit of ``shape`` (its defaults differ by shape)."""
    n, steps, mode, aa_width, _ = SHAPES[shape]
    parser.add_argument("image", help="image file, or a scikit-image sample name such as chelsea.png")
    parser.add_argument(
        "--n", type=positive_int, default=n, help=f"number of {'triangles' if shape == 'mesh' else shape + 's'}"
    )
    parser.add_argument("--steps", type=positive_int, default=steps, help="Adam steps")
    parser.add_argument("--out", default="out", help="output directory")
    parser.add_argument(
        "--seed",
        type=int,
        default=argparse.SUPPRESS,
        help="random seed of the initialisation (default 0); given, it also makes a CPU run bitwise "
        "reproducible by using one thread (parallel threads add gradients in varying order)",
    )
    if shape != "segment":
        parser.add_argument("--fill", choices=("flat", "linear"), default="linear", help="fill of each shape")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=mode,
        help="compositing: order-free mean, seam-free over (depth order, learnt opacity), classic alpha "
        "(the SVG model)",
    )
    parser.add_argument(
        "--background",
        type=parse_background,
        default="white" if shape == "segment" else "auto",
        help="background colour: auto (learnt), white, black or #rrggbb",
    )
    parser.add_argument(
        "--resume", metavar="PARAMS", help="start from a params.npz written by an earlier fit, or from an SVG"
    )
    parser.add_argument("--gif", action="store_true", help=f"also write OUT/fit.gif, the fit in {GIF_FRAMES} frames")
    parser.add_argument(
        "--aa",
        type=positive_float,
        default=aa_width,
        help="anti-aliasing: half-width in pixels of the band around edges (photos fit best soft; "
        "SVG viewers draw about 0.6)",
    )
    parser.add_argument("--tile", type=int, choices=(8, 16, 32), default=16, help="tile size in pixels")
    parser.add_argument("--arch", choices=ARCHES, default="cpu", help="Taichi backend")


def init_taichi(arch: str, deterministic: bool = False) -> str:
    """``ti.init`` on the named backend; returns the name of the arch actually running.
    ``deterministic`` runs CPU kernels on one thread, so float sums keep their order."""
    import taichi as ti

    chosen = {"auto": ti.gpu}.get(arch) or getattr(ti, arch)
    ti.init(arch=chosen, log_level=ti.WARN, **({"cpu_max_num_threads": 1} if deterministic else {}))
    return ti.lang.impl.current_cfg().arch.name


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


def initial_scene(shape: str, target, args):
    """Starting scene, the image it is fitted to, and learning-rate overrides."""
    from taichi_sdf.optim import init_circles, init_mesh, init_strokes, sketch_target

    rates = {}
    if shape == "segment":
        target = sketch_target(target)
        # Black ink of one pen width on paper: only where strokes go and how dark they are is learnt.
        scene = init_strokes(target, args.n, seed=args.seed)
        rates = {"colours": 0.0, "widths": 0.0}
    elif shape in ("mesh", "triangle"):
        scene = init_mesh(target, args.n, fill=args.fill, seed=args.seed)
        if shape == "triangle":
            scene = scene.replace(shapes=(scene.shapes[0].unshared(),))
    else:
        scene = init_circles(target, args.n, fill=args.fill, seed=args.seed)
    group = scene.shapes[0]
    if args.mode != "mean" and group.opacities is None:  # depth-ordered: every shape learns an opacity
        scene = scene.replace(shapes=(group.with_parameters({"opacities": np.ones(len(group))}),))
    if args.resume:
        resumed, _ = _load_scene(args.resume)
        if (resumed.width, resumed.height) != (scene.width, scene.height):
            raise UsageError(
                f"{args.resume} is {resumed.width}x{resumed.height}, the image {scene.width}x{scene.height}"
            )
        if [type(group) for group in resumed.shapes] != [type(group) for group in scene.shapes]:
            raise UsageError(f"{args.resume} does not hold a {type(group).__name__} scene")
        scene = resumed
    if args.background is not None:
        scene = scene.replace(background=args.background)
        rates["background"] = 0.0
    return scene, target, rates


def gif_frame(image: np.ndarray) -> np.ndarray:
    """An 8-bit frame of ``image``, shrunk by an integer factor to at most GIF_SIZE pixels."""
    step = max(1, -(-max(image.shape[:2]) // GIF_SIZE))
    return (np.clip(image[::step, ::step], 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def run_fit(shape: str, args: argparse.Namespace, started: float) -> int:
    from tqdm import tqdm

    from taichi_sdf.io import load_image, psnr, save_image, side_by_side
    from taichi_sdf.optim import fit, mse_to_psnr
    from taichi_sdf.render import RenderConfig, Renderer
    from taichi_sdf.svg import save_svg

    target, source = load_image(args.image)
    print(source)
    reproducible = hasattr(args, "seed") and args.arch == "cpu"
    args.seed = getattr(args, "seed", 0)
    print(
        f"taichi arch: {init_taichi(args.arch, reproducible)}" + (" (one thread, reproducible)" if reproducible else "")
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    scene, fitted_to, rates = initial_scene(shape, target, args)
    renderer = Renderer(RenderConfig(tile_size=args.tile, aa_width=args.aa, fill=scene.fill, mode=args.mode))
    frames = []
    frame_every = -(-args.steps // GIF_FRAMES)  # ceil: at most GIF_FRAMES, then the best
    with tqdm(total=args.steps, unit="step", dynamic_ncols=True) as bar:

        def progress(step: int, loss: float, current) -> None:
            bar.set_postfix(loss=f"{loss:.5f}", psnr=f"{mse_to_psnr(loss):.2f}dB", refresh=False)
            bar.update()
            if args.gif and step % frame_every == 0:
                frames.append(gif_frame(renderer.render(current)))

        result = fit(fitted_to, scene, args.steps, renderer=renderer, learning_rates=rates, callback=progress)

    image = renderer.render(result.scene)
    save_image(out / "render.png", image)
    save_image(out / "compare.png", side_by_side(fitted_to, image))
    result.scene.save(out / "params.npz", mode=args.mode, aa_width=args.aa)
    save_svg(result.scene, out / "render.svg")
    if args.mode == "mean":
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
    return _guarded(parser.prog, lambda: run_fit(DEMOS[demo], parser.parse_args(argv), started))


def _guarded(prog: str, action) -> int:
    """Run ``action()``: bad input becomes one line on stderr and exit 2, Ctrl-C before a
    fit has anything to write exit 130 (a running fit handles Ctrl-C itself)."""
    from taichi_sdf.io import ImageError

    try:
        return action()
    except (UsageError, ImageError, ValueError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted before the fit started: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED


def render_command(args: argparse.Namespace) -> int:
    from taichi_sdf.io import save_image
    from taichi_sdf.render import RenderConfig, Renderer

    scene, recorded = _load_scene(args.params)
    mode = args.mode or recorded["mode"]
    factor = args.width / scene.width if args.width else args.scale
    if not factor > 0:
        raise UsageError(f"the scale must be positive, got {factor}")
    print(f"taichi arch: {init_taichi(args.arch)}")
    big = scene.scaled(factor)
    config = RenderConfig(fill=scene.fill, mode=mode, aa_width=scaled_band(float(recorded["aa_width"]), factor))
    save_image(args.output, Renderer(config).render(big))
    print(f"{big.width}x{big.height} render ({mode}) of {len(scene)} primitives -> {args.output}")
    return 0


def scaled_band(aa_width: float, factor: float) -> float:
    """The anti-aliasing band of a render ``factor`` times the fit's size: one output pixel
    stays one pixel (sharp edges), the part of a wider band beyond it (the soft shading of a
    mesh fit) scales with the picture."""
    return aa_width if aa_width <= 1.0 else 1.0 + (aa_width - 1.0) * factor


def svg_command(args: argparse.Namespace) -> int:
    from taichi_sdf.svg import save_svg

    scene, _ = _load_scene(args.params)
    save_svg(scene, args.output)
    print(f"{len(scene)} primitives -> {args.output}")
    return 0


def import_svg_command(args: argparse.Namespace) -> int:
    scene, recorded = _load_scene(args.svg)
    scene.check_values()
    scene.save(args.output, **recorded)
    print(f"{len(scene)} primitives ({', '.join(type(g).__name__ for g in scene.shapes)}) -> {args.output}")
    return 0


def _load_scene(path: str):
    """The scene in a params.npz or (by its suffix) an SVG file, and the compositing mode and
    anti-aliasing it was made with (an SVG's: alpha and about 0.6 px, how SVG viewers draw;
    params without a record: mean and 1 px). UsageError if unreadable."""
    from taichi_sdf.scene import Scene
    from taichi_sdf.svg import svg_to_scene

    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    if Path(path).suffix.lower() == ".svg":
        return svg_to_scene(Path(path)), {"mode": "alpha", "aa_width": "0.6"}
    try:
        return Scene.load(path), {"mode": "mean", "aa_width": "1.0", **Scene.metadata(path)}
    except Exception as error:  # numpy and zipfile raise many types for a bad file
        raise UsageError(f"{path}: not a taichi_sdf params file ({type(error).__name__})") from None


def console_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="taichi-sdf", description="Fit, render and export scenes of SDF primitives.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    fit = commands.add_parser(
        "fit",
        help="fit shapes to an image (see taichi-sdf fit --help)",
        description="Fit shapes to an image. The defaults shown are for circles; --n, --steps, --mode and --aa "
        "default by --shape to: "
        + "; ".join(f"{name}: {n}, {steps}, {mode}, {aa}" for name, (n, steps, mode, aa, _) in SHAPES.items())
        + ". Writes OUT/render.png, OUT/compare.png (target | fit), OUT/params.npz and OUT/render.svg.",
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
    render.add_argument("-o", "--output", required=True, help="output PNG")
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
        "straight paths, solid and linear-gradient fills and opacity from an SVG into PARAMS.npz.",
    )
    import_svg.add_argument("svg", help="input SVG")
    import_svg.add_argument("-o", "--output", required=True, help="output params.npz")
    return parser


def console(argv: list[str] | None = None) -> int:
    """Entry point of the ``taichi-sdf`` command; returns the exit status."""
    started = time.perf_counter()
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = console_parser()

    def dispatch() -> int:
        args = parser.parse_args(argv)
        if args.command == "fit":  # parse again with the chosen shape's defaults
            fit = _Parser(prog="taichi-sdf fit")
            fit.add_argument("--shape", choices=tuple(SHAPES))
            add_fit_arguments(fit, args.shape)
            return run_fit(args.shape, fit.parse_args(argv[1:]), started)
        commands = {"render": render_command, "svg": svg_command, "import-svg": import_svg_command}
        return commands[args.command](args)

    return _guarded("taichi-sdf", dispatch)
