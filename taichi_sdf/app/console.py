"""The ``taichi-sdf`` command: fit, render at any size, export and import SVG.

Each subcommand is planned first (:func:`console_plan`: arguments, inputs and every output
checked, Taichi not started) and then run. Bad input ends with one line on stderr and exit
status 2, a failed write with one line and 1, Ctrl-C with one line saying what was written
and 130. What an SVG import skipped or drew differently is one warning line on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from taichi_sdf.app.arguments import OneLineParser, add_fit_arguments, positive_float, positive_int
from taichi_sdf.app.outputs import Outputs
from taichi_sdf.app.running import ARCHES, UsageError, init_taichi, one_line, run_guarded
from taichi_sdf.app.start import EXIT_INTERRUPTED, interrupts_held

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def _write(outputs: Outputs, path: str, write: Callable[[Path], None], said: str) -> int:
    """Write a command's one output file (Ctrl-C held meanwhile), print ``said`` and return
    the exit status: 130, with a line saying what was written, if Ctrl-C was pressed."""
    with interrupts_held() as interrupts:
        outputs.write(path, write)
    print(said)
    if interrupts.pressed:
        print(f"interrupted: {outputs.summary()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def render_plan(args: argparse.Namespace) -> Callable[[], int]:
    from taichi_sdf.config import RenderConfig, check_image_size
    from taichi_sdf.io import load_scene

    scene, recorded = load_scene(args.params, strict=args.strict)
    factor = args.width / scene.width if args.width else args.scale
    width, height = max(1, round(scene.width * factor)), max(1, round(scene.height * factor))
    try:
        check_image_size(1, width, height)
    except ValueError as error:
        raise UsageError(f"a {width}x{height} render is too large: {error}") from None
    if Path(args.output).suffix.lower() not in IMAGE_SUFFIXES:
        raise UsageError(f"{args.output}: the file name must end in one of {', '.join(IMAGE_SUFFIXES)}")
    outputs = Outputs([args.output], [args.params])
    mode = args.mode or recorded["mode"]
    config = RenderConfig(mode=mode, aa_width=float(recorded["aa_width"])).scaled(factor)

    def render() -> int:
        from taichi_sdf.io import save_image
        from taichi_sdf.render import Renderer

        print(f"taichi arch: {init_taichi(args.arch)}")
        big = scene.scaled(factor)
        image = Renderer(config).render(big)
        said = f"{big.width}x{big.height} render ({mode}) of {len(scene)} primitives -> {args.output}"
        return _write(outputs, args.output, lambda path: save_image(path, image), said)

    return render


def svg_plan(args: argparse.Namespace) -> Callable[[], int]:
    from taichi_sdf.io import load_scene
    from taichi_sdf.svg import save_svg

    scene, _ = load_scene(args.params)
    outputs = Outputs([args.output], [args.params])

    said = f"{len(scene)} primitives -> {args.output}"
    return lambda: _write(outputs, args.output, lambda path: save_svg(scene, path), said)


def import_svg_plan(args: argparse.Namespace) -> Callable[[], int]:
    from taichi_sdf.io import load_scene

    scene, recorded = load_scene(args.svg, strict=args.strict)
    outputs = Outputs([args.output], [args.svg])

    said = f"{len(scene)} primitives ({', '.join(type(g).__name__ for g in scene.shapes)}) -> {args.output}"
    return lambda: _write(outputs, args.output, lambda path: scene.save(path, **recorded), said)


STRICT_HELP = "refuse an SVG with anything the import would skip (text, images, filters, ...) instead of warning"


@contextmanager
def svg_warnings_on_one_line(prog: str) -> Iterator[None]:
    """Show each SVG import warning as one line on stderr, ``PROG: warning: ...``, rather than
    in Python's form (file, line and source); other warnings as Python shows them."""
    with warnings.catch_warnings():
        python_shows = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            from taichi_sdf.svg import SvgWarning  # loaded already: the warning came from there

            if issubclass(category, SvgWarning):
                print(f"{prog}: warning: {one_line(str(message))}", file=sys.stderr)
            else:
                python_shows(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def console_parser() -> argparse.ArgumentParser:
    from taichi_sdf.app.fit_many import add_fit_many_arguments
    from taichi_sdf.config import MODES
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
    many = commands.add_parser(
        "fit-many",
        help="fit shapes to every picture of a folder or glob, resumably (see taichi-sdf fit-many --help)",
        description="Fit shapes to every picture of a folder or glob pattern in worker processes: each to "
        "OUT/<stem>/ (as taichi-sdf fit writes), OUT/summary.csv (file, PSNR, seconds, primitives), "
        "OUT/failures.csv (file, reason). A re-run skips finished pictures. Defaults as for fit.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    many.add_argument("--shape", choices=tuple(SHAPES), default="circle", help="primitive to fit")
    add_fit_many_arguments(many, "circle")
    render = commands.add_parser(
        "render",
        help="re-render a fitted scene at any resolution",
        description="Render PARAMS.npz at any size: geometry scales, the anti-aliasing stays one output pixel "
        "wide (a fit's wider band, such as the mesh's 3 px, scales beyond that first pixel).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    render.add_argument("params", help="params.npz written by a fit, an SVG, or a stroke-3 sketch")
    size = render.add_mutually_exclusive_group()
    size.add_argument("--scale", type=positive_float, default=1.0, help="size factor")
    size.add_argument("--width", type=positive_int, help="output width in pixels (height keeps the aspect)")
    render.add_argument("-o", "--output", required=True, help="output image (.png, .jpg, ...)")
    render.add_argument(
        "--mode",
        choices=MODES,
        help="compositing (default: the one the fit used, recorded in PARAMS; alpha for an SVG)",
    )
    render.add_argument("--arch", choices=ARCHES, default="cpu", help="Taichi backend")
    render.add_argument("--strict", action="store_true", help=STRICT_HELP)
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
        description="Read filled circles, ellipses, rectangles, triangles and paths (polygons, polylines and "
        "paths, with their fill rule), the strokes of lines, polylines, paths and of those shapes, solid and "
        "linear-gradient paints and opacity from an SVG into PARAMS.npz (written to exactly that name). The rest "
        "(text, images, filters, masks, clip paths, radial gradients, patterns) is skipped, named in one warning "
        "line.",
    )
    import_svg.add_argument("svg", help="input SVG")
    import_svg.add_argument("--strict", action="store_true", help=STRICT_HELP)
    import_svg.add_argument("-o", "--output", required=True, help="output params file")
    return parser


def console_plan(argv: list[str], started: float | None = None) -> Callable[[], int]:
    """Parse and check a ``taichi-sdf`` command line; returns the work it asks for. Raises
    UsageError or ValueError (with a one-line message) for anything wrong with it."""
    from taichi_sdf.app.fit_many import add_fit_many_arguments, fit_many_action
    from taichi_sdf.app.fitting import fit_action

    started = time.perf_counter() if started is None else started
    args = console_parser().parse_args(argv)
    if args.command in ("fit", "fit-many"):  # parse again with the chosen shape's defaults
        from taichi_sdf.init import SHAPES

        fit = OneLineParser(prog=f"taichi-sdf {args.command}")
        fit.add_argument("--shape", choices=tuple(SHAPES))
        if args.command == "fit-many":
            add_fit_many_arguments(fit, args.shape)
            return fit_many_action(args.shape, fit.parse_args(argv[1:]))
        add_fit_arguments(fit, args.shape)
        return fit_action(args.shape, fit.parse_args(argv[1:]), started)
    return {"render": render_plan, "svg": svg_plan, "import-svg": import_svg_plan}[args.command](args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``taichi-sdf`` command; returns the exit status."""
    started = time.perf_counter()
    argv = sys.argv[1:] if argv is None else list(argv)
    with svg_warnings_on_one_line("taichi-sdf"):
        return run_guarded("taichi-sdf", lambda: console_plan(argv, started)())
