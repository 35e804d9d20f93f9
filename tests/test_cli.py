"""The circles demo end to end, in subprocesses, on small images."""

import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import CONSOLE, interrupted, loading

from taichi_sdf import Scene
from taichi_sdf.svg import svg_to_scene

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demos" / "circles.py"


def run_demo(*args, demo: Path = DEMO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(demo), *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture
def small_png(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:20, 0:28]
    image = np.stack([xs / 28, ys / 20, 0.5 + 0.5 * ((xs - 14) ** 2 + (ys - 10) ** 2 < 36)], axis=-1)
    image = (255 * np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1)).astype(np.uint8)
    path = tmp_path / "small.png"
    iio.imwrite(path, image)
    return path


def test_demo_writes_render_compare_and_params(small_png, tmp_path):
    out = tmp_path / "out"
    result = run_demo(small_png, "--n", 12, "--steps", 20, "--out", out)
    assert result.returncode == 0, result.stderr
    assert iio.imread(out / "render.png").shape == (20, 28, 3)
    assert iio.imread(out / "compare.png").shape == (20, 56, 3)
    assert (out / "render.svg").read_text().count("<circle") == 12
    scene = Scene.load(out / "params.npz")
    assert len(scene) == 12 and (scene.width, scene.height) == (28, 20)
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("PSNR") and " dB" in lines[-1] and " s total" in lines[-1]
    assert any(line.startswith("taichi arch: x64") for line in lines)


@pytest.mark.parametrize(
    "demo,extra", [("triangles", []), ("strokes", []), ("circles", ["--mode", "mean"]), ("vectorize", [])]
)
def test_other_demos_write_their_outputs(demo, extra, small_png, tmp_path):
    out = tmp_path / "out"
    result = run_demo(small_png, "--n", 10, "--steps", 5, "--out", out, *extra, demo=ROOT / "demos" / f"{demo}.py")
    assert result.returncode == 0, result.stderr
    assert iio.imread(out / "render.png").shape == (20, 28, 3)
    assert len(Scene.load(out / "params.npz")) > 0
    assert result.stdout.strip().splitlines()[-1].startswith("PSNR")


def test_demo_on_image_smaller_than_a_tile_in_16_bit_grey(tmp_path):
    path = tmp_path / "tiny.png"
    iio.imwrite(path, (np.arange(15).reshape(3, 5) * 4000).astype(np.uint16))
    result = run_demo(path, "--n", 3, "--steps", 5, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert iio.imread(tmp_path / "out" / "render.png").shape == (3, 5, 3)


@pytest.mark.parametrize(
    "args,message",
    [
        (["missing_file.png"], "no such file"),
        (["{notimage}"], "not a readable image"),
        (["{small}", "--n", "0"], "argument --n: must be a positive integer, got 0"),
        (["{small}", "--n", "-3"], "argument --n: must be a positive integer, got -3"),
        (["{small}", "--steps", "0"], "argument --steps: must be a positive integer, got 0"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(args, message, small_png, tmp_path):
    not_image = tmp_path / "fake.png"
    not_image.write_text("hello")
    args = [a.format(small=small_png, notimage=not_image) for a in args]
    result = run_demo(*args, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


CONSOLE_FIT = [*CONSOLE, "fit"]


@pytest.mark.parametrize("command", [[sys.executable, str(DEMO)], CONSOLE_FIT], ids=["demo", "taichi-sdf fit"])
def test_ctrl_c_writes_best_result_and_exits_130(command, small_png, tmp_path):
    out = tmp_path / "out"
    command = [*command, str(small_png), "--n", "8", "--steps", "1000000", "--out", str(out)]
    status, stderr = interrupted(command, ready="taichi arch", after=3.0)
    assert status == 130, stderr
    assert "interrupted" in stderr
    assert (out / "render.png").exists() and (out / "compare.png").exists()
    assert len(Scene.load(out / "params.npz")) == 8
    assert len(svg_to_scene(out / "render.svg")) == 8


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc to see what a process has loaded")
def test_ctrl_c_while_taichi_loads_is_one_line(small_png, tmp_path):
    out = tmp_path / "out"
    command = [*CONSOLE_FIT, str(small_png), "--n", "8", "--out", str(out)]
    status, stderr = interrupted(command, ready=loading("taichi_python"), after=0.0)
    assert status == 130 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].endswith("interrupted: nothing written"), stderr
    assert not out.exists() or not any(out.iterdir())


def test_ctrl_c_a_second_in_is_one_line_that_is_true(small_png, tmp_path):
    # Python is loading Taichi or the fit is being planned, and nothing is written; on a fast
    # machine the fit may have begun, and then its best so far is written. Either way the last
    # line says which, and says it truly. (A fit of a million steps is still running then.)
    out = tmp_path / "out"
    command = [*CONSOLE_FIT, str(small_png), "--n", "8", "--steps", "1000000", "--out", str(out)]
    status, stderr = interrupted(command, ready=None, after=1.0)
    assert status == 130 and "Traceback" not in stderr, stderr
    last = stderr.strip().splitlines()[-1]
    if last.endswith("nothing written"):
        assert not out.exists() or not any(out.iterdir()), last
    else:
        assert re.fullmatch(rf"interrupted after \d+ steps?: wrote render.png, compare.png, params.npz, "
                            rf"render.svg in {re.escape(str(out))}/ \(the best fit so far\)", last), last
        assert len(Scene.load(out / "params.npz")) == 8


WRITING_INTERRUPTED = """
import os, signal, sys
import taichi_sdf.svg
save_svg = taichi_sdf.svg.save_svg

def pressed_while_writing(scene, path):  # Ctrl-C in the middle of writing the finished fit
    os.kill(os.getpid(), signal.SIGINT)
    save_svg(scene, path)

taichi_sdf.svg.save_svg = pressed_while_writing
from taichi_sdf.app.fitting import demo_main
sys.exit(demo_main("circles", sys.argv[1:]))
"""


def test_ctrl_c_while_the_finished_fit_is_written_writes_all_of_it(small_png, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-c", WRITING_INTERRUPTED, str(small_png), "--n", "8", "--steps", "5", "--out", out]
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True, timeout=300)
    assert result.returncode == 130, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"interrupted while writing the finished fit: wrote render.png, compare.png, params.npz, " \
                   f"render.svg in {out}/ (the best fit so far)", last  # fmt: skip
    assert len(Scene.load(out / "params.npz")) == 8 and len(svg_to_scene(out / "render.svg")) == 8
    assert iio.imread(out / "compare.png").shape == (20, 56, 3)
