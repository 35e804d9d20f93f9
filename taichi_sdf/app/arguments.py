"""Command-line options: a parser whose errors are one line, the types that check option
values where they enter, and the options of a fit (shared by ``taichi-sdf fit`` and the
fitting demos)."""

from __future__ import annotations

import argparse
import math
import re

from taichi_sdf.app.running import ARCHES, UsageError

GIF_FRAMES = 40  # at most, in OUT/fit.gif


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (a UsageError), not usage + message."""

    def error(self, message):
        raise UsageError(message)


def _integer(text: str, expected: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _integer(text, "a positive integer")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def seed_value(text: str) -> int:
    value = _integer(text, "a non-negative integer")
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


def band_width(text: str) -> float:
    """An anti-aliasing band's half-width in pixels, in the range a render accepts."""
    from taichi_sdf.config import check_aa_width

    try:
        return check_aa_width(positive_float(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


NAMED_COLOURS = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0)}
HEX_COLOUR = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


def parse_background(text: str):
    """'auto' (learnt: None), 'white', 'black', '#rrggbb' or '#rgb' -> RGB in [0, 1]."""
    if text == "auto":
        return None
    if text in NAMED_COLOURS:
        return NAMED_COLOURS[text]
    match = HEX_COLOUR.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected auto, white, black or #rrggbb, got {text!r}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(2 * digit for digit in digits)
    return tuple(int(digits[i : i + 2], 16) / 255.0 for i in (0, 2, 4))


def add_fit_arguments(parser: argparse.ArgumentParser, shape: str, one_image: bool = True) -> None:
    """The options of a fit of ``shape`` (a key of :data:`taichi_sdf.init.SHAPES`; its
    defaults differ by shape); without ``one_image`` those of a fit of many pictures
    (``taichi-sdf fit-many``: no image, --resume or --gif)."""
    from taichi_sdf.config import MODES
    from taichi_sdf.init import PEN_SHAPES, SHAPES
    from taichi_sdf.losses import LOSSES

    recipe = SHAPES[shape]
    pen = shape in PEN_SHAPES
    if one_image:
        parser.add_argument("image", help="image file, or a scikit-image sample name such as chelsea.png")
    parser.add_argument(
        "--n", type=positive_int, default=recipe.n, help=f"number of {'triangles' if shape == 'mesh' else shape + 's'}"
    )
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
        "--loss", choices=tuple(LOSSES), default=recipe.loss,
        help="what the fit minimises: mean squared or absolute error, a Gaussian-pyramid MSE, or 1 - MS-SSIM "
        "(msssim needs the torch extra)",
    )  # fmt: skip
    parser.add_argument(
        "--background",
        type=parse_background,
        default="white" if pen else "auto",
        help="background colour: auto (learnt), white, black or #rrggbb",
    )
    if one_image:
        parser.add_argument(
            "--resume", metavar="PARAMS",
            help="start from a params.npz written by an earlier fit, an SVG, or (curve and segment) a stroke-3 "
            "sketch (.npy/.npz) placed in the image",
        )  # fmt: skip
    parser.add_argument(
        "--anneal", type=anneal_factor, default=recipe.anneal,
        help="start with an anti-aliasing band this many times wider, sharpening over 60%% of the steps",
    )  # fmt: skip
    if one_image:
        parser.add_argument("--gif", action="store_true", help=f"also write OUT/fit.gif, the fit in {GIF_FRAMES} frames")
    parser.add_argument(
        "--aa",
        type=band_width,
        default=recipe.aa_width,
        help="anti-aliasing: half-width in pixels of the band around edges (photos fit best soft; "
        "SVG viewers draw about 0.6)",
    )
    parser.add_argument(
        "--tile", type=int, choices=(8, 16, 32), help="tile size in pixels (default: 32 on the CPU, 16 on GPUs)"
    )
    parser.add_argument("--arch", choices=ARCHES, default="cpu", help="Taichi backend")
