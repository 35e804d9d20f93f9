"""A property-based fuzz of the command line: whatever the arguments, planning a command either
succeeds or stops with a one-line error naming the problem, never with another exception.

Planning (``console_plan``) is the phase that checks files, output places, sizes and options
before any work starts, so it runs here in-process, without Taichi, on many inputs.
"""

import string

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taichi_sdf.app.console import console_plan
from taichi_sdf.app.running import run_guarded
from taichi_sdf.init import starting_scene


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Real and broken inputs for the fuzzer to pick from (all inside a temporary folder)."""
    root = tmp_path_factory.mktemp("fuzz")
    image = root / "small.png"
    iio.imwrite(image, np.random.default_rng(0).integers(0, 255, (12, 17, 3), dtype=np.uint8))
    scene = starting_scene("circle", iio.imread(image) / 255.0, 4).scene
    scene.save(root / "params.npz", mode="over", aa_width="1.0")
    (root / "broken.npz").write_text("not a zip")
    (root / "broken.png").write_bytes(b"\x89PNG broken")
    (root / "empty.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="5" height="5"/>')
    return root


VALUES = st.sampled_from(
    ["0", "1", "-1", "3", "2.5", "nan", "inf", "-inf", "1e9", "99999999999", "x", "", "circle", "triangle",
     "mesh", "segment", "hexagon", "mean", "over", "alpha", "mse", "l1", "pyramid", "auto", "white", "#12ab9f",
     "#zzzzzz", "linear", "flat", "8", "16", "33", "cpu"]
)  # fmt: skip
PATHS = st.sampled_from(
    ["small.png", "broken.png", "missing.png", "params.npz", "broken.npz", "empty.svg", "out", "small.png/out",
     "x.png", "x.txt", "x.svg", "chelsea.png", "."]
)  # fmt: skip
OPTIONS = {
    "fit": ["--shape", "--n", "--steps", "--out", "--seed", "--mode", "--loss", "--background", "--resume", "--aa",
            "--tile", "--fill", "--arch"],
    "render": ["--scale", "--width", "-o", "--mode", "--arch"],
    "svg": ["-o"],
    "import-svg": ["-o"],
}  # fmt: skip


@st.composite
def command_lines(draw) -> list[str]:
    """A subcommand, its input, options with values (good and bad), and now and then a stray token."""
    command = draw(st.sampled_from(sorted(OPTIONS)))
    argv = [command, draw(PATHS)]
    for _ in range(draw(st.integers(0, 5))):
        argv += [draw(st.sampled_from(OPTIONS[command])), draw(st.one_of(VALUES, PATHS))]
    if draw(st.booleans()):
        argv.insert(draw(st.integers(0, len(argv))), draw(st.one_of(VALUES, st.text(string.printable, max_size=6))))
    return argv


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command_lines())
def test_planning_any_command_line_gives_a_plan_or_one_line(files, monkeypatch, capsys, argv):
    monkeypatch.chdir(files)
    planned = []
    status = run_guarded("taichi-sdf", lambda: planned.append(console_plan(argv)) or 0)  # plan, do not run
    stderr = capsys.readouterr().err
    if planned:
        assert status == 0 and callable(planned[0]) and not stderr
    else:
        assert status == 2, argv
        assert len(stderr.splitlines()) == 1 and stderr.startswith("taichi-sdf: error: "), (argv, stderr)
        assert "Traceback" not in stderr
