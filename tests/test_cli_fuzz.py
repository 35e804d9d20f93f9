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
    # Numbers that overflow float32 or are not numbers, in every kind of input file.
    for name, value in (("huge", 1e308), ("nan", np.nan)):
        bad = scene.shapes[0].centres.copy()
        bad[1, 0] = value
        scene.replace(shapes=(scene.shapes[0].with_parameters({"centres": bad}),)).save(root / f"{name}.npz")
        np.save(root / f"{name}_sketch.npy", np.array([[0.0, 0.0, 0.0], [value, 3.0, 1.0]]))
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="9"><circle cx="{x}" cy="4" r="2"/></svg>'
    (root / "huge.svg").write_text(svg.format(w="1e308", x="4"))
    (root / "nan.svg").write_text(svg.format(w="9", x="nan"))
    iio.imwrite(root / "nan.tif", np.full((6, 7, 3), np.nan, np.float32))
    (root / "folder.png").mkdir()  # an output path that is a folder
    (root / "out" / "render.png").mkdir(parents=True)
    return root


VALUES = st.sampled_from(
    ["0", "1", "-1", "3", "2.5", "nan", "inf", "-inf", "1e9", "99999999999", "x", "", "circle", "triangle",
     "mesh", "segment", "hexagon", "mean", "over", "alpha", "mse", "l1", "pyramid", "auto", "white", "#12ab9f",
     "#zzzzzz", "linear", "flat", "8", "16", "33", "cpu", "1e308", "1e-300", "-0", "16.0", "#-1-1-1", "#fff",
     "10000000"]
)  # fmt: skip
PATHS = st.sampled_from(
    ["small.png", "broken.png", "missing.png", "params.npz", "broken.npz", "empty.svg", "out", "small.png/out",
     "x.png", "x.txt", "x.svg", "chelsea.png", ".", "huge.npz", "nan.npz", "huge_sketch.npy", "nan_sketch.npy",
     "huge.svg", "nan.svg", "nan.tif", "folder.png", "out/render.png", "/dev/full", "*.png", "out/*"]
)  # fmt: skip
OPTIONS = {
    "fit": ["--shape", "--n", "--steps", "--out", "--seed", "--mode", "--loss", "--background", "--resume", "--aa",
            "--tile", "--fill", "--arch"],
    "fit-many": ["--shape", "--n", "--steps", "--out", "--seed", "--workers", "--mode", "--aa", "--arch"],
    "render": ["--scale", "--width", "-o", "--mode", "--arch", "--strict"],
    "svg": ["-o"],
    "import-svg": ["-o", "--strict"],
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


def contents(root) -> dict:
    """Every file below ``root`` and its bytes."""
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a numpy warning would be more lines for the user
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command_lines())
def test_planning_any_command_line_gives_a_plan_or_one_line(files, monkeypatch, capsys, argv):
    monkeypatch.chdir(files)
    before = contents(files)
    planned = []
    status = run_guarded("taichi-sdf", lambda: planned.append(console_plan(argv)) or 0)  # plan, do not run
    stderr = capsys.readouterr().err
    assert contents(files) == before  # planning writes nothing of the user's (it may only make the out folder)
    if planned:
        assert status == 0 and callable(planned[0]) and not stderr
    else:
        assert status == 2, argv
        assert len(stderr.splitlines()) == 1 and stderr.startswith("taichi-sdf: error: "), (argv, stderr)
        assert "Traceback" not in stderr
