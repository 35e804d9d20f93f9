"""The learning demos end to end, in subprocesses, with a few tens of training steps."""

import json
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest
from conftest import interrupted, loading

pytest.importorskip("torch")
pytest.importorskip("sklearn")

TRAINING = re.compile(r"\b[1-9]\d*step")  # the progress bar has counted a training step
DEMOS = Path(__file__).resolve().parents[1] / "demos"


def run(demo: str, *args) -> subprocess.CompletedProcess:
    command = [sys.executable, str(DEMOS / demo), "--device", "cpu", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_autoencoder_short_run_lowers_the_loss_and_writes_its_files(tmp_path):
    result = run("autoencoder.py", "--steps", 40, "--seed", 1, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr  # neither Taichi's nor torch's
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["steps"] == 40
    assert metrics["last_loss"] < 0.5 * metrics["first_loss"]
    assert metrics["mse_end"] < metrics["mse_start"]
    assert 0.0 <= metrics["accuracy_reconstructed"] <= 1.0 and metrics["accuracy_real"] > 0.9
    assert iio.imread(tmp_path / "grid.png").shape[2] == 3 and (tmp_path / "loss.png").stat().st_size > 0
    assert (tmp_path / "model.pt").stat().st_size > 0
    assert "mean-image baseline" in result.stdout and "on their reconstructions" in result.stdout


def test_faces_short_run_beats_its_start_and_animates(tmp_path):
    result = run("faces.py", "--steps", 30, "--minutes", 0.05, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["held_out_mse_end"] < metrics["held_out_mse_start"]
    assert iio.imread(tmp_path / "training.gif").shape[0] >= 2  # frames of the training
    for name in ("grid.png", "loss.png", "model.pt"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc to see what a process has loaded")
def test_ctrl_c_while_pytorch_loads_is_one_line(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, str(DEMOS / "autoencoder.py"), "--device", "cpu", "--out", str(out)]
    status, stderr = interrupted(command, ready=loading("libtorch_cpu"), after=0.0)
    assert status == 130 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "autoencoder.py: interrupted: nothing written", stderr
    assert not out.exists()


def test_ctrl_c_during_training_still_writes_the_results(tmp_path):
    command = [sys.executable, str(DEMOS / "autoencoder.py"), "--device", "cpu", "--minutes", "10", "--out", str(tmp_path)]
    status, stderr = interrupted(command, ready=TRAINING, after=0.5)
    assert status == 130, stderr
    assert "interrupted" in stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["interrupted"] and metrics["steps"] > 0
    assert (tmp_path / "grid.png").exists() and (tmp_path / "model.pt").exists()


def test_ctrl_c_during_the_evaluation_keeps_the_trained_model(tmp_path):
    command = [sys.executable, str(DEMOS / "autoencoder.py"), "--device", "cpu", "--steps", "20", "--out", tmp_path]
    status, stderr = interrupted(list(map(str, command)), ready="20 steps in", after=0.3)  # it evaluates for seconds
    assert status == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert last == f"interrupted before the evaluation ended: wrote model.pt, loss.png in {tmp_path}/"
    assert (tmp_path / "model.pt").stat().st_size > 0 and (tmp_path / "loss.png").stat().st_size > 0
    assert not (tmp_path / "metrics.json").exists()
