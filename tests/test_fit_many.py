"""``taichi-sdf fit-many``: a folder of tiny pictures end to end, in subprocesses (outputs,
failures, resuming, the same files whatever the number of workers, Ctrl-C, bad input)."""

import csv
import glob
import os
import signal
import subprocess
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import CONSOLE, taichi_sdf

from taichi_sdf import Scene
from taichi_sdf.app.console import main
from taichi_sdf.app.fit_many import BATCH_PIXELS, Picture, batches
from taichi_sdf.app.fitting import OUTPUTS

FIT = ("--n", 4, "--steps", 5, "--seed", 1)
GOOD = {"p0.png": "p0", "p1.png": "p1", "x.png": "x-png", "x.bmp": "x-bmp"}  # file -> its folder under OUT


def picture(path: Path, shift: int) -> None:
    """A 24x20 picture: a gradient and a disc ``shift`` pixels right of the middle."""
    ys, xs = np.mgrid[0:20, 0:24]
    image = np.stack([xs / 24, ys / 20, ((xs - 12 - shift) ** 2 + (ys - 10) ** 2 < 30) * 1.0], axis=-1)
    iio.imwrite(path, (255 * image).astype(np.uint8))


def write_pictures(folder: Path) -> Path:
    """Four pictures (two share the stem x) and a corrupt one, in ``folder``."""
    for shift, name in enumerate(GOOD):
        picture(folder / name, shift)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return folder


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> Path:
    return write_pictures(tmp_path_factory.mktemp("pictures"))


@pytest.fixture(scope="module")
def fitted(pictures, tmp_path_factory):
    """OUT of a fit-many of ``pictures`` in two workers, and the run."""
    out = tmp_path_factory.mktemp("out")
    return out, taichi_sdf("fit-many", pictures, "--out", out, "--workers", 2, *FIT)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def started_until_a_picture_is_fitted(command: list[str], out: Path) -> subprocess.Popen:
    """``command`` running (a fit-many into ``out``), once its first picture is finished."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not glob.glob(f"{out}/*/fit.json") and time.monotonic() < deadline:
        time.sleep(0.02)
    return process


def modification_times(out: Path) -> dict[str, int]:
    return {str(path): path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file() and path.parent != out}


def test_every_picture_gets_its_files_and_the_corrupt_one_a_failure(fitted, pictures):
    out, result = fitted
    assert result.returncode == 1, result.stderr  # a picture failed, the others finished
    for folder in GOOD.values():
        for output in OUTPUTS:
            assert (out / folder / output).is_file(), (folder, output)
        scene = Scene.load(out / folder / "params.npz")
        assert (scene.width, scene.height, len(scene)) == (24, 20, 4)
        assert iio.imread(out / folder / "render.png").shape == (20, 24, 3)
    summary = read_csv(out / "summary.csv")
    assert sorted(Path(row["file"]).name for row in summary) == sorted(GOOD)
    assert all(row["folder"] == GOOD[Path(row["file"]).name] and row["primitives"] == "4" for row in summary)
    assert all(0 < float(row["psnr"]) < 100 and float(row["seconds"]) > 0 for row in summary)
    [failure] = read_csv(out / "failures.csv")
    assert failure["file"] == str(pictures / "broken.png") and "not a readable image" in failure["reason"]
    assert result.stdout.splitlines()[-1].startswith("4 of 5 pictures fitted, 1 failed this run")
    assert not list(out.rglob(".*partial*"))


def test_a_rerun_redoes_no_finished_picture(fitted, pictures):
    out, _ = fitted
    before = modification_times(out)
    again = taichi_sdf("fit-many", pictures, "--out", out, "--workers", 2, *FIT)
    assert again.returncode == 1, again.stderr  # the corrupt picture is tried again, and fails again
    assert "5 pictures, 4 fitted before: fitting 1 in 1 worker process" in again.stdout
    assert modification_times(out) == before
    assert len(read_csv(out / "summary.csv")) == 4 and len(read_csv(out / "failures.csv")) == 1


def test_a_rerun_with_other_fit_options_fits_again(pictures, tmp_path):
    first = taichi_sdf("fit-many", pictures / "p0.png", "--out", tmp_path, *FIT)
    assert first.returncode == 0, first.stderr
    again = taichi_sdf("fit-many", pictures / "p0.png", "--out", tmp_path, *FIT, "--workers", 1)
    assert "1 fitted before: fitting 0" in again.stdout  # --workers decides no fit
    before = (tmp_path / "p0" / "params.npz").stat().st_mtime_ns
    other = taichi_sdf("fit-many", pictures / "p0.png", "--out", tmp_path, *FIT, "--background", "black")
    assert other.returncode == 0, other.stderr
    assert "0 fitted before: fitting 1" in other.stdout
    assert (tmp_path / "p0" / "params.npz").stat().st_mtime_ns != before
    assert np.all(Scene.load(tmp_path / "p0" / "params.npz").background == 0.0)


def test_one_worker_fitting_one_at_a_time_writes_what_two_fitting_batches_write(fitted, pictures, tmp_path):
    out, _ = fitted  # two workers, the four pictures of 24x20 in batches of up to 3
    result = taichi_sdf("fit-many", pictures, "--out", tmp_path, "--workers", 1, "--batch", 1, *FIT)
    assert result.returncode == 1, result.stderr
    for folder in GOOD.values():
        for output in ("params.npz", "render.png", "render.svg"):
            assert (tmp_path / folder / output).read_bytes() == (out / folder / output).read_bytes(), (folder, output)
    # each picture's seed comes from its name: another run seed starts elsewhere
    other = taichi_sdf("fit-many", pictures / "p0.png", "--out", tmp_path / "other", *FIT[:-1], 2)
    assert other.returncode == 0, other.stderr
    assert (tmp_path / "other" / "p0" / "params.npz").read_bytes() != (out / "p0" / "params.npz").read_bytes()


def test_small_pictures_of_one_size_go_in_batches_and_the_rest_alone(tmp_path):
    sizes = {"a": (24, 20), "b": (24, 20), "c": (30, 20), "d": (24, 20), "e": (200, 100), "f": (24, 20)}
    for name, (width, height) in sizes.items():
        iio.imwrite(tmp_path / f"{name}.png", np.zeros((height, width, 3), np.uint8))
    (tmp_path / "g.png").write_bytes(b"not a picture")  # fitted alone, to fail with its reason
    pictures = [Picture(tmp_path / f"{name}.png", name, 0) for name in "abcdefg"]
    named = [[picture.name for picture in unit] for unit in batches(pictures, 3)]
    assert 200 * 100 > BATCH_PIXELS >= 30 * 20
    assert named == [["a", "b", "d"], ["e"], ["g"], ["c"], ["f"]]
    assert [[picture.name for picture in unit] for unit in batches(pictures, 1)] == [[name] for name in "abcdefg"]


def test_ctrl_c_keeps_finished_pictures_and_a_rerun_fits_the_rest(pictures, tmp_path):
    command = [*CONSOLE, "fit-many", f"{pictures}/p*.png", "--out", str(tmp_path), "--workers", "1"]
    command += ["--n", "4", "--steps", "1000", "--batch", "1"]  # the second picture still fits when Ctrl-C comes
    process = started_until_a_picture_is_fitted(command, tmp_path)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    done = sorted(path.parent.name for path in tmp_path.glob("*/fit.json"))
    assert len(done) >= 1
    assert stderr.splitlines()[-1].startswith(f"interrupted: {len(done)} of 2 pictures fitted")
    assert not list(tmp_path.rglob(".*partial*"))
    finished = modification_times(tmp_path)
    again = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"2 pictures, {len(done)} fitted before: fitting {2 - len(done)}" in again.stdout
    now = modification_times(tmp_path)
    assert all(now[path] == mtime for path, mtime in finished.items() if Path(path).parent.name in done)
    assert len(read_csv(tmp_path / "summary.csv")) == 2


def spawned_workers(parent: int) -> list[int]:
    """The process ids of ``parent``'s multiprocessing workers (not its resource tracker)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == parent and b"spawn_main" in command:
            children.append(int(stat.parent.name))
    return children


def check_a_killed_worker_ends_the_run(pictures: Path, out: Path, options: list[str], workers) -> None:
    """Fit-many the two pictures p*.png into ``out`` in one worker (and ``options``), kill
    the worker (``workers(process)``: its process id in a list) once the first is fitted,
    and check that the run ends with one line and exit 1, the first picture kept. Skips if
    the worker had fitted both."""
    command = [*CONSOLE, "fit-many", f"{pictures}/p*.png", "--out", str(out), "--workers", "1", *options]
    process = started_until_a_picture_is_fitted([*command, "--n", "4", "--steps", "1000", "--batch", "1"], out)
    [worker] = workers(process)
    os.kill(worker, signal.SIGKILL)
    _, stderr = process.communicate(timeout=120)
    if len(read_csv(out / "summary.csv")) == 2:  # the worker had finished the second picture too
        pytest.skip("the worker finished before it was killed")
    assert process.returncode == 1, stderr
    last = stderr.splitlines()[-1]
    assert last.startswith("a worker process ended while fitting") and "1 of 2 pictures fitted" in last, last
    assert len(read_csv(out / "summary.csv")) == 1


def test_a_killed_worker_stops_the_run_with_one_line_and_what_finished_stays(pictures, tmp_path):
    check_a_killed_worker_ends_the_run(pictures, tmp_path, [], lambda process: spawned_workers(process.pid))


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["{empty}"], "no image files in the folder"),
        (["{empty}/*.png"], "no files match"),
        (["{pictures}", "--out", "{file}"], "is a file; --out names a folder"),
        (["{pictures}", "--workers", "0"], "--workers: must be a positive integer"),
        (["{pictures}", "--resume", "{file}"], "unrecognized arguments: --resume"),
        (["{pictures}", "--n", "0"], "--n: must be a positive integer"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_any_work(arguments, message, pictures, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("")
    places = {"empty": tmp_path / "empty", "pictures": pictures, "file": tmp_path / "file"}
    argv = ["fit-many", *(argument.format(**places) for argument in arguments)]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    assert main(argv) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and stderr.startswith("taichi-sdf: error: ") and message in stderr, stderr
    assert not (tmp_path / "out").exists()
