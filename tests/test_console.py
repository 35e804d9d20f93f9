"""The ``taichi-sdf`` command: fit, render at any resolution, SVG export, bad input."""

import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
from skimage.transform import downscale_local_mean

from taichi_sdf import Scene
from taichi_sdf.io import psnr

CONSOLE = [sys.executable, "-c", "import sys; from taichi_sdf.cli import console; sys.exit(console())"]


def taichi_sdf(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*CONSOLE, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A small circle fit made by `taichi-sdf fit`; returns its output directory."""
    out = tmp_path_factory.mktemp("fit")
    ys, xs = np.mgrid[0:24, 0:32]
    image = np.stack([xs / 32, ys / 24, ((xs - 16) ** 2 + (ys - 12) ** 2 < 40) * 1.0], axis=-1)
    iio.imwrite(out / "small.png", (255 * image).astype(np.uint8))
    result = taichi_sdf("fit", out / "small.png", "--shape", "circle", "--n", 10, "--steps", 30, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_fit_writes_all_outputs(fitted):
    for name in ("render.png", "compare.png", "params.npz", "render.svg"):
        assert (fitted / name).is_file()


def test_render_at_four_times_the_size_downsamples_to_the_fit(fitted):
    result = taichi_sdf("render", fitted / "params.npz", "--scale", 4, "-o", fitted / "big.png")
    assert result.returncode == 0, result.stderr
    big = iio.imread(fitted / "big.png") / 255.0
    assert big.shape == (96, 128, 3)
    small = iio.imread(fitted / "render.png") / 255.0
    assert psnr(downscale_local_mean(big, (4, 4, 1)), small) >= 35.0


def test_render_to_a_width(fitted):
    result = taichi_sdf("render", fitted / "params.npz", "--width", 64, "-o", fitted / "wide.png")
    assert result.returncode == 0, result.stderr
    assert iio.imread(fitted / "wide.png").shape == (48, 64, 3)


def test_svg_command(fitted):
    result = taichi_sdf("svg", fitted / "params.npz", "-o", fitted / "again.svg")
    assert result.returncode == 0, result.stderr
    assert (fitted / "again.svg").read_text() == (fitted / "render.svg").read_text()


def psnr_line(result: subprocess.CompletedProcess) -> float:
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("PSNR"), result.stdout
    return float(last.split()[1])


def test_resume_continues_the_fit(fitted, tmp_path):
    first = taichi_sdf("fit", fitted / "small.png", "--n", 10, "--steps", 30, "--out", tmp_path / "a")
    resumed = taichi_sdf(
        "fit", fitted / "small.png", "--steps", 10, "--resume", tmp_path / "a" / "params.npz", "--out", tmp_path / "b"
    )
    assert first.returncode == 0 and resumed.returncode == 0, resumed.stderr
    assert psnr_line(resumed) >= psnr_line(first) - 1e-6


def test_gif_of_the_fit(fitted, tmp_path):
    result = taichi_sdf("fit", fitted / "small.png", "--n", 5, "--steps", 90, "--gif", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    frames = iio.imread(tmp_path / "fit.gif")
    # Every third step (at most 40 frames) and the best; the GIF writer may merge equal ones.
    assert 2 <= frames.shape[0] <= 31 and frames.shape[1:3] == (24, 32)
    assert not np.array_equal(frames[0], frames[-1])  # it shows the fit moving


def test_fixed_background_colour(fitted, tmp_path):
    result = taichi_sdf(
        "fit", fitted / "small.png", "--n", 5, "--steps", 5, "--background", "#ff8000", "--out", tmp_path
    )
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(Scene.load(tmp_path / "params.npz").background, [1.0, 128 / 255, 0.0])


@pytest.mark.parametrize(
    "args,message",
    [
        (["render", "missing.npz", "-o", "x.png"], "missing.npz: no such file"),
        (["svg", "{notparams}", "-o", "x.svg"], "not a taichi_sdf params file"),
        (["render", "{params}", "--scale", "-2", "-o", "x.png"], "the scale must be positive"),
        (["fit", "missing_image.png"], "no such file"),
        (["fit", "{image}", "--shape", "hexagon"], "invalid choice: 'hexagon'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["fit", "{image}", "--background", "#12345"], "expected auto, white, black or #rrggbb"),
        (["fit", "coffee.png", "--resume", "{params}"], "is 32x24, the image 600x400"),
        (["fit", "{image}", "--shape", "mesh", "--resume", "{params}"], "does not hold a triangles scene"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(args, message, fitted, tmp_path):
    not_params = tmp_path / "bad.npz"
    not_params.write_text("nope")
    args = [a.format(notparams=not_params, params=fitted / "params.npz", image=fitted / "small.png") for a in args]
    result = subprocess.run([*CONSOLE, *args], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
