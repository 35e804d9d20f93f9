"""Files in and out: images (and scikit-image samples), scenes (params ``.npz`` or SVG), and the
side-by-side comparison."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from taichi_sdf.config import RenderConfig
from taichi_sdf.npyfiles import ArrayFileError, array_names
from taichi_sdf.scene import Scene
from taichi_sdf.stroke3 import read_stroke3, scene_from_stroke3
from taichi_sdf.svg import load_svg

# scikit-image samples that ship with the package (no download needed).
SAMPLES = (
    "astronaut", "brick", "camera", "cat", "chelsea", "clock", "coffee", "coins", "colorwheel",
    "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo", "moon",
    "page", "retina", "rocket", "text",
)  # fmt: skip


GIF_SIZE = 320  # pixels on the long side of an animation's frames, at most


class ImageError(ValueError):
    """An image or scene file that cannot be used; the message is one line naming the problem."""


# Pillow's colour models that imageio reads as they are (grey, grey + alpha, RGB, RGBA, palettes,
# 16-bit and float grey); any other (CMYK, LAB, HSV, ...) is converted to RGB(A) by Pillow.
PLAIN_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
# TIFF colour models (PhotometricInterpretation) read as grey or RGB: white-is-zero grey,
# black-is-zero grey, RGB; CMYK (separated) is converted.
TIFF_MINISWHITE, TIFF_MINISBLACK, TIFF_RGB, TIFF_SEPARATED = 0, 1, 2, 5


def to_rgb(pixels: np.ndarray, name: str = "image") -> np.ndarray:
    """Convert grey, grey+alpha, RGB or RGBA pixels of any integer, bool or float type to
    a (height, width, 3) float64 RGB image in [0, 1]; alpha is composited over white.
    Float pixels must be finite and lie in [0, 1] (ImageError naming ``name`` otherwise)."""
    array = np.asarray(pixels)
    if array.dtype == bool:
        array = array.astype(np.float64)
    elif np.issubdtype(array.dtype, np.integer):
        array = array / float(np.iinfo(array.dtype).max)
    elif np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
        bad = ~np.isfinite(array)
        if bad.any():
            row, column = np.argwhere(bad)[0][:2]
            raise ImageError(f"{name}: holds NaN or infinite pixel values (the first at row {row}, column {column})")
        low, high = float(array.min()), float(array.max())
        if low < -1e-6 or high > 1 + 1e-6:
            raise ImageError(f"{name}: float pixels must lie in [0, 1], these span [{low:.4g}, {high:.4g}] "
                             "(save it as an 8- or 16-bit image, or scale it)")  # fmt: skip
        array = np.clip(array, 0.0, 1.0)
    else:
        raise ImageError(f"{name}: unsupported pixel type {array.dtype}")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"{name}: unsupported image mode (array shape {np.shape(pixels)})")
    if array.shape[2] in (2, 4):
        colour, alpha = array[..., :-1], array[..., -1:]
        array = colour * alpha + (1.0 - alpha)
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return array


def _read_pixels(path: Path) -> np.ndarray:
    """The first image of the file at ``path`` as grey, grey + alpha, RGB or RGBA pixels,
    converted from the colour model the file holds (CMYK, white-is-zero grey, ...)."""
    pixels, meta = iio.imread(path, index=0), iio.immeta(path, index=0)
    mode, photometric = meta.get("mode"), meta.get("PhotometricInterpretation")  # Pillow's, tifffile's
    if mode is not None and mode not in PLAIN_MODES:
        alpha = mode.endswith(("A", "a"))
        return iio.imread(path, index=0, plugin="pillow", mode="RGBA" if alpha else "RGB")
    if photometric is None or int(photometric) in (TIFF_MINISBLACK, TIFF_RGB):
        return pixels
    if int(photometric) == TIFF_MINISWHITE and np.issubdtype(pixels.dtype, np.integer):
        return np.iinfo(pixels.dtype).max - pixels
    if int(photometric) == TIFF_SEPARATED and pixels.ndim == 3 and pixels.shape[2] == 4:
        if np.issubdtype(pixels.dtype, np.integer):  # C, M, Y, K inks in [0, 1]
            ink = pixels / float(np.iinfo(pixels.dtype).max)
        else:
            ink = pixels.astype(np.float64)
        return (1.0 - ink[..., :3]) * (1.0 - ink[..., 3:4])
    raise ImageError(f"{path}: its colour model ({getattr(photometric, 'name', photometric)}) is not supported")


def load_image(path: str | Path) -> tuple[np.ndarray, str]:
    """Read ``path`` as a (height, width, 3) float64 RGB image in [0, 1].

    When ``path`` does not exist and its stem names a scikit-image sample (``chelsea.png``
    -> ``skimage.data.chelsea()``), that sample is loaded instead. Returns the image and a
    one-line description of where it came from. Raises :class:`ImageError`.
    """
    path = Path(path)
    if not path.exists():
        if path.stem in SAMPLES:
            import skimage.data

            pixels = getattr(skimage.data, path.stem)()
            return to_rgb(pixels, path.stem), f"{path} not found: using scikit-image sample '{path.stem}'"
        raise ImageError(f"{path}: no such file (and '{path.stem}' is not a scikit-image sample)")
    if path.is_dir():
        raise ImageError(f"{path}: is a directory, not an image")
    try:
        pixels = _read_pixels(path)
    except ImageError:
        raise
    except Exception as error:  # imageio raises many types for unreadable data
        raise ImageError(f"{path}: not a readable image ({type(error).__name__})") from None
    return to_rgb(pixels, str(path)), f"read {path}"


def save_image(path: str | Path, image: np.ndarray) -> None:
    """Write a float image in [0, 1] (clipped) as 8 bits per channel, in the format its
    suffix names (.png, .jpg, ...)."""
    iio.imwrite(path, (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), extension=Path(path).suffix or ".png")


def gif_frame(image: np.ndarray, size: int = GIF_SIZE) -> np.ndarray:
    """An 8-bit frame of ``image`` (height, width, 3) in [0, 1], shrunk by an integer factor
    to at most ``size`` pixels on its long side."""
    step = max(1, -(-max(image.shape[:2]) // size))
    return (np.clip(image[::step, ::step], 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def save_gif(path: str | Path, frames: list[np.ndarray], milliseconds: int = 80) -> None:
    """Write 8-bit frames (from :func:`gif_frame`) as a looping GIF animation."""
    iio.imwrite(path, np.stack(frames), duration=milliseconds, loop=0, extension=".gif")


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two images of one size next to each other."""
    return np.concatenate([left, right], axis=1)


def load_scene(path: str | Path, strict: bool = False) -> tuple[Scene, dict[str, str]]:
    """The scene in a params ``.npz``, an SVG file or a stroke-3 sketch (``.npy``, or an
    ``.npz`` that holds no scene; see :mod:`taichi_sdf.stroke3`), checked
    (:meth:`Scene.check_values`), and the settings it was made with: ``mode`` and
    ``aa_width`` (an SVG's: alpha and 0.6 px, how SVG viewers draw; a sketch's: soft-or ink
    and 1 px; a params file without a record: mean and 1 px). ValueError (ImageError,
    SvgError, Stroke3Error) naming the file and the problem otherwise. ``strict``: an SVG's
    parts without counterpart are refused rather than skipped (see :func:`svg_to_scene`)."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    if path.suffix.lower() == ".svg":
        scene, settings = load_svg(path, strict), {"mode": "alpha", "aa_width": "0.6"}
    elif is_stroke3(path):
        scene, settings = scene_from_stroke3(read_stroke3(path)), {"mode": "softor", "aa_width": "1.0"}
    else:
        scene = Scene.load(path)
        settings = {"mode": "mean", "aa_width": "1.0", **Scene.metadata(path)}
    try:
        scene.check_values()
        RenderConfig(mode=settings["mode"], aa_width=float(settings["aa_width"]))
    except ValueError as error:
        raise ImageError(f"{path}: {error}") from None
    return scene, settings


def is_stroke3(path: str | Path) -> bool:
    """Whether ``path`` names a stroke-3 sketch: a ``.npy`` file, or an ``.npz`` that is not
    a params file (holds no ``groups``)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        return True
    try:
        names = array_names(path)
    except ArrayFileError:  # not an npz at all: whoever reads it reports that
        return False
    return names is None or "groups" not in names
