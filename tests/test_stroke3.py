"""Stroke-3 sketches (SketchRNN/QuickDraw) in and out of scenes, checked on real stroke data: the
Hershey single-line fonts."""

import builtins
import io
import os
import pickle
import shlex
import subprocess
import sys
import warnings
import zipfile

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib import format as npy_format

from taichi_sdf import CubicCurves, RenderConfig, Renderer, Strokes
from taichi_sdf.drawing import PEN_WIDTH
from taichi_sdf.optim import fit
from taichi_sdf.stroke3 import (
    Stroke3Error,
    placement,
    read_stroke3,
    scene_from_stroke3,
    sketch_from_strokes,
    sketch_strokes,
    stroke3_from_scene,
    write_stroke3,
)

HersheyFonts = pytest.importorskip("HersheyFonts").HersheyFonts
CONSOLE = [sys.executable, "-c", "import sys; from taichi_sdf.app.start import taichi_sdf; sys.exit(taichi_sdf())"]


def glyph_sketch(text: str, font: str = "futural") -> np.ndarray:
    """The stroke-3 sketch of ``text`` in a Hershey font (integer coordinates, y down)."""
    fonts = HersheyFonts()
    fonts.load_default_font(font)
    return sketch_from_strokes([np.array(stroke, dtype=float) for stroke in fonts.strokes_for_text(text)])


def random_sketch(rng, rows: int = 40) -> np.ndarray:
    """Integer moves, some strokes of one point (dots), like QuickDraw's data."""
    sketch = np.column_stack([rng.integers(-30, 31, (rows, 2)), rng.random(rows) < 0.25]).astype(float)
    sketch[[3, 4, -1], 2] = 1.0  # row 4 is a dot
    return sketch


@pytest.mark.parametrize("curves", [False, True])
def test_round_trip_through_a_scene_is_exact(curves):
    rng = np.random.default_rng(0)
    for sketch in (random_sketch(rng), glyph_sketch("Bg&")):
        scene = scene_from_stroke3(sketch, 200, 200, scale=1.0, origin=(0.0, 0.0), curves=curves)
        assert isinstance(scene.shapes[0], CubicCurves if curves else Strokes)
        np.testing.assert_array_equal(stroke3_from_scene(scene), sketch)
        # Placed in an image (scaled and centred): back to within float rounding.
        placed = scene_from_stroke3(sketch, 64, 48, curves=curves)
        points = placed.shapes[0].points
        assert points.min() >= 0 and points[:, 0].max() <= 64 and points[:, 1].max() <= 48
        np.testing.assert_allclose(stroke3_from_scene(placed, *placement(sketch, 64, 48)), sketch, atol=1e-9)


def test_scene_round_trip_keeps_every_point_of_a_polyline():
    scene = scene_from_stroke3(glyph_sketch("R2"), 80, 60)
    back = scene_from_stroke3(stroke3_from_scene(scene), 80, 60, scale=1.0, origin=(0.0, 0.0))
    np.testing.assert_allclose(back.shapes[0].points, scene.shapes[0].points, atol=1e-12)
    np.testing.assert_array_equal(back.shapes[0].segments, scene.shapes[0].segments)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_files_round_trip_and_datasets_pick_a_sketch(tmp_path, suffix):
    sketch = glyph_sketch("Q")
    write_stroke3(tmp_path / f"q{suffix}", sketch)
    np.testing.assert_array_equal(read_stroke3(tmp_path / f"q{suffix}"), sketch)
    dataset = np.empty(2, dtype=object)  # as QuickDraw's .npz: object arrays of int16 sketches
    dataset[0], dataset[1] = glyph_sketch("a").astype(np.int16), glyph_sketch("b").astype(np.int16)
    np.savez(tmp_path / "set.npz", train=dataset, valid=dataset[:1])
    np.testing.assert_array_equal(read_stroke3(tmp_path / "set.npz", index=1), glyph_sketch("b"))
    with pytest.raises(Stroke3Error, match="holds 2 sketches, there is no number 5"):
        read_stroke3(tmp_path / "set.npz", index=5)


class Payload:
    """An object whose unpickling calls ``function(argument)``: what a malicious file holds."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


def npy_bytes(shape: tuple, descr: str, body: bytes) -> bytes:
    """A .npy file: numpy's header for ``shape`` and ``descr``, then ``body``."""
    stream = io.BytesIO()
    npy_format.write_array_header_1_0(stream, {"descr": descr, "fortran_order": False, "shape": shape})
    return stream.getvalue() + body


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
@pytest.mark.parametrize("how", ["object array", "bare pickle"])
@pytest.mark.parametrize("call", ["os.system", "builtins.exec"])
def test_pickled_code_in_a_file_is_refused_and_never_runs(tmp_path, suffix, how, call):
    marker = tmp_path / "ran"
    if call == "os.system":
        payload = Payload(os.system, f"touch {shlex.quote(str(marker))}")
    else:
        payload = Payload(builtins.exec, f"open({str(marker)!r}, 'w').close()")
    if how == "object array":  # as np.save(..., allow_pickle=True) writes it
        sketches = np.empty(2, dtype=object)
        sketches[0], sketches[1] = glyph_sketch("a").astype(np.int16), payload
        buffer = io.BytesIO()
        np.save(buffer, sketches, allow_pickle=True)
        data = buffer.getvalue()
    else:  # a header announcing an object array, then any pickle
        data = npy_bytes((2,), "|O", pickle.dumps(payload))
    path = tmp_path / f"sketches{suffix}"
    if suffix == ".npz":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("train.npy", data)
    else:
        path.write_bytes(data)
    with pytest.raises(Stroke3Error) as error:
        read_stroke3(path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    assert f"refused: its pickle asks for {'posix' if os.name == 'posix' else 'nt'}.system" in message or (
        "asks for builtins.exec" in message
    )
    assert not marker.exists()  # no code from the file ran


class Python2Array:
    """Pickles an array as Python 2's numpy did (SketchRNN's files): its data as a str."""

    def __init__(self, array):
        self.array = array

    def __reduce__(self):
        rebuild, (subtype, empty, code), (version, shape, dtype, fortran, data) = self.array.__reduce__()
        if isinstance(data, bytes):
            data = data.decode("latin1")
        else:  # an object array: its elements too
            data = [Python2Array(element) for element in data]
        return rebuild, (subtype, empty, code.decode("latin1")), (version, shape, dtype, fortran, data)


def test_datasets_written_by_python_2_and_numpy_1_still_load(tmp_path):
    sketches = np.empty(2, dtype=object)
    sketches[0], sketches[1] = glyph_sketch("x").astype(np.int16), glyph_sketch("y").astype(np.int16)
    data = pickle.dumps(Python2Array(sketches), protocol=2)
    assert data.count(b"cnumpy._core.multiarray\n_reconstruct\n") == 1  # protocol 2 names globals as text
    data = data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")  # numpy 1's module name
    with zipfile.ZipFile(tmp_path / "cat.npz", "w") as archive:
        archive.writestr("train.npy", npy_bytes((2,), "|O", data))
    np.testing.assert_array_equal(read_stroke3(tmp_path / "cat.npz", index=1), glyph_sketch("y"))


@pytest.mark.parametrize(
    "content,message",
    [
        (npy_bytes((3,), "|O", pickle.dumps([1, 2, 3])), "does not hold the \\(3,\\) array"),
        (npy_bytes((1, 3), "<U3", b""), "holds values of type <U3, not numbers"),
        (npy_bytes((10**9, 3), "<f8", b"\0" * 48), "announces 24000000000 bytes of data, the file holds 48"),
        (b"\x93NUMPY\x01\x00garbage", "its header cannot be read"),
        (b"neither npy nor zip", "not a readable .npy/.npz file"),
    ],
)
def test_files_that_hold_no_numbers_are_named(tmp_path, content, message):
    (tmp_path / "bad.npy").write_bytes(content)
    with pytest.raises(Stroke3Error, match=message):
        read_stroke3(tmp_path / "bad.npy")


@pytest.mark.parametrize(
    "array,message",
    [
        (np.zeros((4, 2)), "rows of \\(dx, dy, pen_lifted\\)"),
        (np.array([[1.0, 2.0, 0.5]]), "pen state"),
        (np.array([[np.nan, 2.0, 1.0]]), "NaN"),
    ],
)
def test_bad_sketches_are_named(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(Stroke3Error, match=message):
        read_stroke3(tmp_path / "bad.npy")


@pytest.mark.parametrize(
    "rows,message",
    [
        ([[1e308, 1e308, 0], [1e308, 1e308, 1]], "the moves up to row 1 carry the pen beyond float64's range"),
        ([[1e308, 0, 0], [-1e308, 0, 0], [-1e308, 0, 1]], "spans more than float64's range"),
        ([[0, 0, 0], [1e-307, 0, 1]], "spans 1e-307 units, too few to scale to a 256x1 image"),
        ([[1e308, 0, 0], [0, 1, 1]], "lies 1e\\+308 units from its start, too far to place"),
    ],
)
def test_sketches_beyond_float64_are_named_where_they_are_read(tmp_path, rows, message):
    np.save(tmp_path / "far.npy", np.array(rows, dtype=np.float64))
    with warnings.catch_warnings(), pytest.raises(Stroke3Error, match=message):
        warnings.simplefilter("error")  # a user sees the one line, no numpy RuntimeWarning
        scene_from_stroke3(read_stroke3(tmp_path / "far.npy"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False, allow_infinity=False),
                       st.booleans()), min_size=1, max_size=5),
    st.sampled_from([None, (1, 1), (64, 48), (999, 1)]),
    st.booleans(),
)  # fmt: skip
def test_any_finite_sketch_gives_a_scene_or_one_line(rows, size, curves):
    # Moves of any magnitude (1e308, 5e-324, ...): a scene the renderer accepts, or one
    # Stroke3Error line; never a numpy warning or another exception.
    sketch = np.array(rows, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            scene = scene_from_stroke3(sketch, *(size or (None, None)), curves=curves)
        except Stroke3Error as error:
            assert "\n" not in str(error)
        else:
            scene.check_values()


def test_console_names_a_sketch_beyond_float64_in_one_line(tmp_path):
    np.save(tmp_path / "far.npy", np.array([[1e308, 1e308, 0], [1e308, 1e308, 1]]))
    run = subprocess.run(
        [*CONSOLE, "render", str(tmp_path / "far.npy"), "-o", str(tmp_path / "far.png")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 2 and "beyond float64's range" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "far.png").exists()


@pytest.mark.parametrize("rows", [[[0, 0, 0], [10, 0, 1]], [[3, 4, 0], [0, 10, 1]], [[0, 0, 0], [10, 0.001, 1]]])
def test_a_straight_line_is_drawn_across_its_image(rows):
    # A line along one axis (or nearly) sets the scale by its length alone: it spans the image
    # less the margin and lies on the middle of the other axis.
    sketch = np.array(rows, dtype=np.float64)
    scene = scene_from_stroke3(sketch)
    along = int(np.argmax(np.ptp(np.cumsum(sketch[:, :2], axis=0), axis=0)))
    size = np.array([scene.width, scene.height])
    assert size[along] == 256 and size[1 - along] == 1
    points = scene.shapes[0].points
    np.testing.assert_allclose(np.sort(points[:, along]), [12.8, 243.2])
    np.testing.assert_allclose(points[:, 1 - along], 0.5, atol=0.02)
    placed = scene_from_stroke3(sketch, 64, 48).shapes[0].points
    assert np.all((placed >= 0) & (placed <= [64, 48]))
    assert np.ptp(placed[:, along]) == pytest.approx([64, 48][along] - 2 * 3.2)  # the margin: 5 % of 64 px
    np.testing.assert_array_equal(scene.shapes[0].widths, PEN_WIDTH)  # the drawings' pen


def polyline_distance(pixels: np.ndarray, strokes: list[np.ndarray]) -> np.ndarray:
    """Distance (numpy, independent of the kernels) from (M, 2) points to the polylines."""
    best = np.full(len(pixels), np.inf)
    for stroke in strokes:
        for a, b in zip(stroke, stroke[1:] if len(stroke) > 1 else stroke):
            ab = b - a
            t = np.clip((pixels - a) @ ab / max(ab @ ab, 1e-12), 0.0, 1.0)
            best = np.minimum(best, np.linalg.norm(pixels - (a + t[:, None] * ab), axis=1))
    return best


def test_hershey_glyph_inks_the_pixels_its_polylines_cover():
    sketch, pen = glyph_sketch("Sk8"), 3.0
    scene = scene_from_stroke3(sketch, 120, 60, pen_width=pen)
    ink = 1.0 - Renderer(RenderConfig(mode="softor")).render(scene)[..., 0]
    ys, xs = np.mgrid[0:60, 0:120] + 0.5
    scale, origin = placement(sketch, 120, 60)
    strokes = [origin + scale * stroke for stroke in sketch_strokes(sketch)]
    distance = polyline_distance(np.column_stack([xs.ravel(), ys.ravel()]), strokes).reshape(60, 120)
    assert ink[distance <= pen / 2 - 1.0].min() > 0.99  # well inside the pen: full ink
    assert ink[distance >= pen / 2 + 1.0].max() < 1e-6  # beyond the pen and its band: paper
    assert (distance <= pen / 2 - 1.0).sum() > 300  # the glyphs are really there


def inked(image: np.ndarray) -> np.ndarray:
    return image[..., 0] < 0.5


def test_glyph_fitted_from_perturbed_curves_comes_back():
    sketch = glyph_sketch("e3")
    truth = scene_from_stroke3(sketch, 72, 48, pen_width=2.5, curves=True)
    renderer = Renderer(RenderConfig(mode="softor", dtype="f32"))
    target = renderer.render(truth).astype(np.float64)
    rng = np.random.default_rng(1)
    points = truth.shapes[0].points + rng.normal(0.0, 2.0, truth.shapes[0].points.shape)
    start = truth.replace(shapes=(truth.shapes[0].with_parameters({"points": points}),))
    rates = {"colours": 0.0, "widths": 0.0, "background": 0.0, "points": 0.3}
    result = fit(target, start, 150, renderer=renderer, learning_rates=rates, loss="pyramid", anneal=2.0)

    def iou(scene):
        a, b = inked(renderer.render(scene)), inked(target)
        return (a & b).sum() / (a | b).sum()

    assert iou(start) < 0.6  # the perturbation really loses the glyph
    assert iou(result.scene) >= 0.9


def test_console_renders_a_sketch_and_refines_one_to_an_image(tmp_path):
    write_stroke3(tmp_path / "sketch.npy", glyph_sketch("ok"))
    run = subprocess.run(
        [*CONSOLE, "render", str(tmp_path / "sketch.npy"), "--width", "300", "-o", str(tmp_path / "sketch.png")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    image = iio.imread(tmp_path / "sketch.png")
    assert image.shape[1] == 300 and image.min() < 50 and np.median(image) == 255  # black ink on white
    ys, xs = np.mgrid[0:40, 0:60]
    iio.imwrite(tmp_path / "ring.png", (255 * (np.abs(np.hypot(xs - 30, ys - 20) - 12) > 2)).astype(np.uint8))
    fit_command = [*CONSOLE, "fit", str(tmp_path / "ring.png"), "--resume", str(tmp_path / "sketch.npy")]
    run = subprocess.run(
        [*fit_command, "--shape", "curve", "--steps", "5", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "params.npz").exists()
    run = subprocess.run([*fit_command, "--shape", "circle"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "is a stroke-3 sketch" in run.stderr and len(run.stderr.strip().splitlines()) == 1
