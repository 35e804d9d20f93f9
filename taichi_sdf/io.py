"""Files in and out: images (and scikit-image samples), scenes (params ``.npz`` or SVG), and the
side-by-side comparison."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from taichi_sdf.scene import Scene
from taichi_sdf.stroke3 import read_stroke3, scene_from_stroke3
from taichi_sdf.svg import load_svg

# scikit-image samples that ship with the package (no download needed).
SAMPLES = (
    "astronaut", "brick", "camera", "cat", "chelsea", "clock", "coffee", "coins", "colorwheel",
    "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo", "moon",
    "page", "retina", "rocket", "text",
)  # fmt: skip


class ImageError(ValueError):
    """An image or scene file that cannot be used; the message is one line naming the problem."""


def to_rgb(pixels: np.ndarray, name: str = "image") -> np.ndarray:
    """Convert grey, grey+alpha, RGB or RGBA pixels of any integer, bool or float type to
    a (height, width, 3) float64 RGB image in [0, 1]; alpha is composited over white."""
    array = np.asarray(pixels)
    if array.dtype == bool:
        array = array.astype(np.float64)
    elif np.issubdtype(array.dtype, np.integer):
        array = array / float(np.iinfo(array.dtype).max)
    elif np.issubdtype(array.dtype, np.floating):
        array = np.clip(array.astype(np.float64), 0.0, 1.0)
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
        pixels = iio.imread(path, index=0)
    except Exception as error:  # imageio raises many types for unreadable data
        raise ImageError(f"{path}: not a readable image ({type(error).__name__})") from None
    return to_rgb(pixels, str(path)), f"read {path}"


def save_image(path: str | Path, image: np.ndarray) -> None:
    """Write a float image in [0, 1] (clipped) as 8-bit PNG."""
    iio.imwrite(path, (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two images of one size next to each other."""
    return np.concatenate([left, right], axis=1)


def psnr(image: np.ndarray, target: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of ``image`` (clipped to [0, 1]) against ``target``."""
    mse = float(np.mean((np.clip(image, 0.0, 1.0) - target) ** 2))
    return float("inf") if mse == 0 else -10.0 * np.log10(mse)


def load_scene(path: str | Path) -> tuple[Scene, dict[str, str]]:
    """The scene in a params ``.npz``, an SVG file or a stroke-3 sketch (``.npy``, or an
    ``.npz`` that holds no scene; see :mod:`taichi_sdf.stroke3`), and the settings it was made
    with: ``mode`` and ``aa_width`` (an SVG's: alpha and 0.6 px, how SVG viewers draw; a
    sketch's: soft-or ink and 1 px; a params file without a record: mean and 1 px).
    ImageError if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    if path.suffix.lower() == ".svg":
        return load_svg(path), {"mode": "alpha", "aa_width": "0.6"}
    if is_stroke3(path):
        return scene_from_stroke3(read_stroke3(path)), {"mode": "softor", "aa_width": "1.0"}
    try:
        return Scene.load(path), {"mode": "mean", "aa_width": "1.0", **Scene.metadata(path)}
    except Exception as error:  # numpy and zipfile raise many types for a bad file
        raise ImageError(f"{path}: not a taichi_sdf params file ({type(error).__name__})") from None


def is_stroke3(path: str | Path) -> bool:
    """Whether ``path`` names a stroke-3 sketch: a ``.npy`` file, or an ``.npz`` that is not
    a params file (holds no ``groups``)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        return True
    try:
        with np.load(path) as data:
            return isinstance(data, np.lib.npyio.NpzFile) and "groups" not in data.files
    except Exception:  # not an npz at all: whoever reads it reports that
        return False
