"""The ``taichi-sdf`` command: fit, render at any resolution, SVG export, bad input."""

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import taichi_sdf
from skimage.transform import downscale_local_mean

from taichi_sdf import Scene
from taichi_sdf.losses import psnr


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A small circle fit made by `taichi-sdf fit`; returns its output directory."""
    out = tmp_path_factory.mktemp("fit")
    ys, xs = np.mgrid[0:48, 0:64]
    image = np.stack([xs / 64, ys / 48, ((xs - 32) ** 2 + (ys - 24) ** 2 < 160) * 1.0], axis=-1)
    iio.imwrite(out / "small.png", (255 * image).astype(np.uint8))
    result = taichi_sdf(
        "fit", out / "small.png", "--shape", "circle", "--n", 10, "--steps", 30, "--seed", 0, "--out", out
    )
    assert result.returncode == 0, result.stderr
    return out


def test_fit_writes_all_outputs(fitted):
    for name in ("render.png", "compare.png", "params.npz", "render.svg"):
        assert (fitted / name).is_file()


def test_render_at_four_times_the_size_downsamples_to_the_fit(fitted):
    result = taichi_sdf("render", fitted / "params.npz", "--scale", 4, "-o", fitted / "big.png")
    assert result.returncode == 0, result.stderr
    big = iio.imread(fitted / "big.png") / 255.0
    assert big.shape == (192, 256, 3)
    small = iio.imread(fitted / "render.png") / 255.0
    assert psnr(downscale_local_mean(big, (4, 4, 1)), small) >= 35.0


def test_mesh_render_at_four_times_the_size_keeps_its_soft_shading(fitted, tmp_path):
    args = ["--shape", "mesh", "--n", 24, "--steps", 10, "--out", tmp_path]
    assert taichi_sdf("fit", fitted / "small.png", *args).returncode == 0
    assert taichi_sdf("render", tmp_path / "params.npz", "--scale", 4, "-o", tmp_path / "big.png").returncode == 0
    big = iio.imread(tmp_path / "big.png") / 255.0
    small = iio.imread(tmp_path / "render.png") / 255.0
    assert psnr(downscale_local_mean(big, (4, 4, 1)), small) >= 35.0


def test_render_to_a_width(fitted):
    result = taichi_sdf("render", fitted / "params.npz", "--width", 96, "-o", fitted / "wide.png")
    assert result.returncode == 0, result.stderr
    assert iio.imread(fitted / "wide.png").shape == (72, 96, 3)


def test_svg_command(fitted):
    result = taichi_sdf("svg", fitted / "params.npz", "-o", fitted / "again.svg")
    assert result.returncode == 0, result.stderr
    assert (fitted / "again.svg").read_text() == (fitted / "render.svg").read_text()


def test_svg_import_gives_the_scene_back_and_starts_a_fit(fitted, tmp_path):
    assert taichi_sdf("import-svg", fitted / "render.svg", "-o", tmp_path / "back.npz").returncode == 0
    original, back = Scene.load(fitted / "params.npz"), Scene.load(tmp_path / "back.npz")
    for key, value in original.parameters().items():
        np.testing.assert_allclose(back.parameters()[key], value, atol=1e-6, rtol=0, err_msg=key)
    result = taichi_sdf(
        "fit", fitted / "small.png", "--steps", 5, "--resume", fitted / "render.svg", "--out", tmp_path / "again"
    )
    assert result.returncode == 0, result.stderr
    assert len(Scene.load(tmp_path / "again" / "params.npz")) == len(original)


def test_render_uses_the_recorded_mode_and_an_svg_renders(fitted, tmp_path):
    assert Scene.metadata(fitted / "params.npz") == {"mode": "over", "aa_width": "1.0"}
    result = taichi_sdf("render", fitted / "render.svg", "-o", tmp_path / "from_svg.png")
    assert result.returncode == 0 and "(alpha)" in result.stdout, result.stderr
    from_svg = iio.imread(tmp_path / "from_svg.png") / 255.0
    assert psnr(from_svg, iio.imread(fitted / "render.png") / 255.0) >= 30.0


def test_seed_makes_runs_identical(fitted, tmp_path):
    def run(seed, out):
        args = ["--n", 6, "--steps", 15, "--seed", seed, "--out", tmp_path / out]
        assert taichi_sdf("fit", fitted / "small.png", *args).returncode == 0
        return Scene.load(tmp_path / out / "params.npz").parameters()

    first, again, other = run(7, "a"), run(7, "b"), run(8, "c")
    assert all(np.array_equal(first[key], again[key]) for key in first)
    assert not np.allclose(first["0.centres"], other["0.centres"])


def test_free_triangles_have_their_own_corners(fitted, tmp_path):
    result = taichi_sdf("fit", fitted / "small.png", "--shape", "triangle", "--n", 8, "--steps", 5, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    mesh = Scene.load(tmp_path / "params.npz").shapes[0]
    assert len(mesh.vertices) == 3 * len(mesh.faces) and mesh.opacities is not None


def psnr_line(result) -> float:
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


def test_free_triangles_resume_from_a_mesh(fitted, tmp_path):
    # The mesh's shared vertices come apart, so its faces can move (past the first
    # densify-and-prune call at step 25).
    mesh = taichi_sdf("fit", fitted / "small.png", "--shape", "mesh", "--n", 24, "--steps", 5, "--out", tmp_path / "a")
    args = ["--shape", "triangle", "--steps", 30, "--resume", tmp_path / "a" / "params.npz", "--out", tmp_path / "b"]
    resumed = taichi_sdf("fit", fitted / "small.png", *args)
    assert mesh.returncode == 0 and resumed.returncode == 0, resumed.stderr
    triangles = Scene.load(tmp_path / "b" / "params.npz").shapes[0]
    assert len(np.unique(triangles.faces)) == triangles.faces.size == 3 * len(triangles)
    assert psnr_line(resumed) >= psnr_line(mesh) - 1e-6


def test_gif_of_the_fit(fitted, tmp_path):
    result = taichi_sdf("fit", fitted / "small.png", "--n", 5, "--steps", 90, "--gif", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    frames = iio.imread(tmp_path / "fit.gif")
    # Every third step (at most 40 frames) and the best; the GIF writer may merge equal ones.
    assert 2 <= frames.shape[0] <= 31 and frames.shape[1:3] == (48, 64)
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
        (["render", "{params}", "--scale", "-2", "-o", "x.png"], "argument --scale: must be a positive number"),
        (["fit", "missing_image.png"], "no such file"),
        (["fit", "{image}", "--shape", "hexagon"], "invalid choice: 'hexagon'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["fit", "{image}", "--background", "#12345"], "expected auto, white, black or #rrggbb"),
        (["fit", "coffee.png", "--resume", "{params}"], "the scene to resume is 64x48, the picture 600x400"),
        (["fit", "{image}", "--shape", "mesh", "--resume", "{params}"], "not one group of Triangles"),
        (["fit", "{image}", "--aa", "nan"], "argument --aa: must be a positive number"),
        (["import-svg", "missing.svg", "-o", "x.npz"], "missing.svg: no such file"),
        (["import-svg", "{skewed}", "-o", "x.npz"], "<rect>: its transform skews it into a parallelogram"),
        (["fit", "{image}", "--resume", "{skewed}"], "<rect>: its transform skews it into a parallelogram"),
        # Found before any work starts: outputs that cannot be written, sizes that cannot be allocated.
        (["fit", "{image}", "--out", "{image}/out"], "cannot write there"),
        (["render", "{params}", "--scale", "1000", "-o", "x.png"], "a 64000x48000 render is too large"),
        (["render", "{params}", "--scale", "inf", "-o", "x.png"], "argument --scale: must be a positive number"),
        (["render", "{params}", "-o", "x.txt"], "x.txt: the file name must end in one of .png"),
        (["render", "{params}", "-o", "{image}/x.png"], "cannot write there"),
        (["render", "{params}", "-o", "."], ".: the file name must end in one of"),
        (["svg", "{params}", "-o", "{image}/x.svg"], "cannot write there"),
        (["import-svg", "{svg}", "-o", "{image}/x.npz"], "cannot write there"),
        (["fit", "{image}", "--seed", "-1"], "argument --seed: must lie in [0, 2**32)"),
        (["fit", "{image}", "--n", "99999999999"], "99999999999 shapes for a 64x48 picture: more shapes than pixels"),
        (["fit", "{image}", "--loss", "psnr"], "argument --loss: invalid choice: 'psnr'"),
        (["fit", "{image}", "--steps", "1", "--arch", "metal"], "--arch metal is not available here"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(args, message, fitted, tmp_path):
    not_params = tmp_path / "bad.npz"
    not_params.write_text("nope")
    skewed = tmp_path / "skewed.svg"
    skewed.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="3" height="2" transform="skewX(30)"/></svg>'
    )
    paths = {
        "notparams": not_params,
        "params": fitted / "params.npz",
        "image": fitted / "small.png",
        "skewed": skewed,
        "svg": fitted / "render.svg",
    }
    args = [a.format(**paths) for a in args]
    result = taichi_sdf(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "out" / "params.npz").exists()
