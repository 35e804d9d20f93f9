"""Vectorizing flat-colour pictures into filled paths, against circles of the same count.

    python benchmarks/fit_paths.py [--n 32] [--steps STEPS] [--chelsea]

Runs the whole ``taichi-sdf fit`` command (start-up and compilation included, as a user
waits for it) with ``--shape path`` and ``--shape circle`` on: the scikit-image ``logo``
sample composited on white (256x256, ``--n`` shapes); ``--icons``, fontawesomefree icons
as resvg rasterizes them (black on white, 256x256, ``--n`` shapes); pictures of known paths, each fitted
by as many paths as drew it: a glyph with two holes (DejaVu Sans "B", 64x64, one path) and
a flat red square under a blue disk of four cubics (256x256, two paths); with
``--chelsea``, the ``chelsea`` photo with 256 shapes. Prints each fit's PSNR and seconds as
the command reports them.
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import skimage.data
from skimage.transform import resize

from taichi_sdf import Paths, Scene
from taichi_sdf.densify import circle_contours
from taichi_sdf.fonts import text_paths
from taichi_sdf.init import SHAPES
from taichi_sdf.reference import render_reference

CONSOLE = [sys.executable, "-c", "import sys; from taichi_sdf.app.start import taichi_sdf; sys.exit(taichi_sdf())"]
SIZE = 256
AA_WIDTH = SHAPES["path"].aa_width  # the pictures of known paths are drawn as a path fit draws


def logo_on_white() -> np.ndarray:
    """The scikit-image logo (RGBA) composited over white, SIZE x SIZE."""
    rgba = skimage.data.logo() / 255.0
    return resize(rgba[..., :3] * rgba[..., 3:] + 1 - rgba[..., 3:], (SIZE, SIZE), anti_aliasing=True)


def icon_on_white(name: str) -> np.ndarray:
    """The fontawesomefree icon ``name`` ("solid/gear": its folder and name under svgs/),
    black on white as resvg draws it 7/8 of SIZE wide or tall, centred in SIZE x SIZE."""
    import io
    from importlib import metadata

    import resvg_py

    folder = Path(metadata.distribution("fontawesomefree").locate_file("fontawesomefree/static/fontawesomefree/svgs"))
    text = (folder / f"{name}.svg").read_text()
    width, height = (float(v) for v in re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"', text).groups())
    zoom = SIZE * 7 / 8 / max(width, height)
    rgba = iio.imread(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=text, zoom=zoom, skip_system_fonts=True))))
    rgba = rgba / 255.0
    drawn = rgba[..., :3] * rgba[..., 3:] + 1.0 - rgba[..., 3:]
    picture = np.ones((SIZE, SIZE, 3))
    top, left = (SIZE - drawn.shape[0]) // 2, (SIZE - drawn.shape[1]) // 2
    picture[top : top + drawn.shape[0], left : left + drawn.shape[1]] = drawn
    return picture


def square_and_disk() -> np.ndarray:
    """A red square under a blue disk (four cubics) on white, drawn as a path fit draws (over, 0.6 px band)."""
    s = SIZE / 40
    corners = s * np.array([[6, 6], [20, 6], [20, 22], [6, 22]], dtype=float)
    square = [np.array([corners[k], corners[(k + 1) % 4]]) for k in range(4)]
    disk = circle_contours(np.full(4, 4), s * np.array([[27.0, 17.0]]), np.array([8.0 * s]), np.array([0.3]))[0]
    cubics = [np.vstack([disk[3 * j : 3 * j + 3], disk[(3 * j + 3) % 12]]) for j in range(4)]
    paths = Paths.from_contours([[square], [cubics]], [[0.9, 0.2, 0.1], [0.1, 0.3, 0.8]])
    return render_reference(Scene(SIZE, SIZE, [1.0, 1.0, 1.0], (paths,)), AA_WIDTH, mode="over")


def glyph_with_holes() -> np.ndarray:
    """DejaVu Sans "B" (one path: its outline and two holes), blue on white, 64x64, drawn as a path fit draws."""
    glyph = text_paths("B", size=56.0, origin=(12.0, 54.0), colour=(0.1, 0.3, 0.8))
    return render_reference(Scene(64, 64, [1.0, 1.0, 1.0], (glyph,)), AA_WIDTH, mode="over")


def run_fit(picture: Path, shape: str, n: int, steps: int | None, out: Path) -> tuple[float, float]:
    """PSNR (dB) and seconds of ``taichi-sdf fit picture --shape shape --n n``, as it prints them."""
    command = [*CONSOLE, "fit", str(picture), "--shape", shape, "--n", str(n), "--out", str(out)]
    command += ["--steps", str(steps)] if steps else []
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    found = re.search(r"PSNR ([\d.]+) dB, .* ([\d.]+) s total", done.stdout)
    return float(found.group(1)), float(found.group(2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=32, help="shapes in the logo's fits")
    parser.add_argument("--steps", type=int, help="Adam steps (default: each shape's)")
    parser.add_argument(
        "--icons", default="solid/gear,regular/face-smile,brands/github", help="fontawesomefree icons, comma-separated"
    )
    parser.add_argument("--chelsea", action="store_true", help="also the chelsea photo with 256 shapes (minutes)")
    args = parser.parse_args()
    pictures = [("logo", logo_on_white(), args.n)]
    pictures += [(f"icon {name}", icon_on_white(name), args.n) for name in args.icons.split(",")]
    pictures += [("glyph B", glyph_with_holes(), 1), ("square and disk", square_and_disk(), 2)]
    if args.chelsea:
        pictures.append(("chelsea", skimage.data.chelsea() / 255.0, 256))
    with tempfile.TemporaryDirectory() as folder:
        for name, picture, n in pictures:
            path = Path(folder) / "picture.png"
            iio.imwrite(path, (np.clip(picture, 0, 1) * 255 + 0.5).astype(np.uint8))
            for shape in ("path", "circle"):
                db, seconds = run_fit(path, shape, n, args.steps, Path(folder) / "out")
                height, width = picture.shape[:2]
                print(f"{name} {width}x{height}, {n} {shape}s: {db:.2f} dB, {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
