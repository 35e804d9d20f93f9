"""``taichi-sdf fit-many --ray``: a local Ray fits a folder of tiny pictures into the files
the local worker processes write (bitwise), records a corrupt one in failures.csv, stops
like the local pool when an actor is killed, and without Ray installed the option is one
line and exit 2. Two Ray starts for the module (the fit, the killed actor)."""

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import taichi_sdf
from test_fit_many import FIT, GOOD, check_a_killed_worker_ends_the_run, read_csv, write_pictures

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> Path:
    return write_pictures(tmp_path_factory.mktemp("pictures"))


@pytest.fixture(scope="module")
def local_and_ray(pictures, tmp_path_factory):
    """OUT of the same fit-many in two local worker processes and in two actors of a local
    Ray, and the Ray run; paths relative to their common folder (the actors' own folder is
    another)."""
    local, on_ray = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("ray")
    here = pictures.parent
    assert local.parent == on_ray.parent == here
    result = taichi_sdf("fit-many", pictures.name, "--out", local.name, "--workers", 2, *FIT, cwd=here)
    assert result.returncode == 1, result.stderr  # the corrupt picture
    ray_run = taichi_sdf("fit-many", pictures.name, "--out", on_ray.name, "--workers", 2, *FIT, "--ray", cwd=here)
    return local, on_ray, ray_run


def test_ray_writes_the_files_the_local_workers_write(local_and_ray):
    local, on_ray, result = local_and_ray
    assert result.returncode == 1, result.stderr
    assert "5 pictures, 0 fitted before: fitting 5 in 2 Ray actors" in result.stdout
    for folder in GOOD.values():
        ours, theirs = np.load(on_ray / folder / "params.npz"), np.load(local / folder / "params.npz")
        assert sorted(ours.files) == sorted(theirs.files)
        for name in ours.files:
            assert np.array_equal(ours[name], theirs[name]), (folder, name)
        for output in ("render.png", "render.svg"):
            assert (on_ray / folder / output).read_bytes() == (local / folder / output).read_bytes(), (folder, output)

    def rows(out):  # in file order
        return [{**row, "seconds": None} for row in read_csv(out / "summary.csv")]

    assert len(rows(on_ray)) == 4 and rows(on_ray) == rows(local)


def test_a_corrupt_picture_lands_in_failures_csv_under_ray(local_and_ray, pictures):
    _, on_ray, result = local_and_ray
    [failure] = read_csv(on_ray / "failures.csv")
    assert failure["file"] == f"{pictures.name}/broken.png" and "not a readable image" in failure["reason"]
    assert result.stdout.splitlines()[-1].startswith("4 of 5 pictures fitted, 1 failed this run")
    assert not list(on_ray.rglob(".*partial*"))


def test_ray_that_cannot_be_imported_is_one_line_and_exit_2(pictures, tmp_path):
    (tmp_path / "no_ray").mkdir()
    (tmp_path / "no_ray" / "ray.py").write_text("raise ImportError('No module named ray')\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path / "no_ray"), os.environ.get("PYTHONPATH")])),
    }
    result = taichi_sdf("fit-many", pictures, "--out", tmp_path / "out", "--ray", env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--ray needs Ray" in result.stderr, result.stderr
    assert result.stderr.startswith("taichi-sdf: error: ") and "pip install 'taichi_sdf[ray]'" in result.stderr
    assert not (tmp_path / "out").exists()


def ray_actor_processes() -> list[int]:
    """The process ids of this machine's fit-many Ray actors (Ray names them by their class;
    they are not the driver's children)."""
    actors = []
    for command in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if command.read_bytes().startswith(b"ray::FitActor"):
                actors.append(int(command.parent.name))
        except OSError:  # ended meanwhile
            continue
    return actors


def test_a_killed_actor_stops_the_run_like_a_killed_worker(pictures, tmp_path):
    check_a_killed_worker_ends_the_run(pictures, tmp_path, ["--ray"], lambda process: ray_actor_processes())
    assert not list(tmp_path.rglob(".*partial*"))  # the temporaries it was writing are swept
