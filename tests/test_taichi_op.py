"""The render inside Taichi programs (taichi_sdf.taichi): gradients through ti.ad.Tape from a user's
loss kernel, through the render, into the user's kernel before it, against central differences
(float64) and against the numpy API's Frame.backward, for every kind, mode and fill; two renders in
one Tape; a Tape per step of an optimisation loop; kernel.grad() by hand; ndarrays; the errors; and
the physics demo (demos/taichi_physics.py) end to end.

The user's program in these tests: ``move`` kernels set every scene parameter to ``base + amount *
direction`` (``amount`` a 0-D field, the unknown), the render draws it, and ``squared_error`` sums
(image - target)^2; d loss / d amount is the derivative along ``direction`` of all parameters."""

import functools
import json
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import taichi as ti
from conftest import interrupted, mixed_scene
from test_curves import curve_scene
from test_ellipses_rects import random_ellipses, random_rects

from taichi_sdf import Circles, RenderConfig, Renderer, Scene
from taichi_sdf.config import MODES
from taichi_sdf.kinds import KINDS, kind_of
from taichi_sdf.taichi import RenderKernel, scene_fields

WIDTH, HEIGHT = 29, 21


# The scenes of the user's programs: together every kind, and the kinds' combinations the other
# tests compile kernels for (an f64 kernel of all five kinds took two minutes to compile here).
SCENES = {
    "mixed": lambda: mixed_scene(np.random.default_rng(0), WIDTH, HEIGHT, fill="linear", opacity=True),
    "curves": lambda: curve_scene(np.random.default_rng(1), WIDTH, HEIGHT),  # quadratic and cubic, flat fills
    "flat": lambda: mixed_scene(np.random.default_rng(2), WIDTH, HEIGHT, fill="flat", opacity=True),
    "shapes": lambda: shapes_scene(np.random.default_rng(5)),
}


def shapes_scene(rng) -> Scene:
    """Ellipses and rectangles with rounded corners (a sharp corner's radius, 0, has only a
    one-sided derivative), linear fills, opacities."""
    return Scene(45, 35, rng.uniform(0, 1, 3), (random_ellipses(rng, 8), random_rects(rng, 8, sharp=False)))


def test_the_scenes_hold_every_kind():
    drawn = {kind for kind in KINDS if not kind.segmented}  # RenderKernel refuses paths (see test_paths)
    assert {kind_of(group) for scene in SCENES.values() for group in scene().shapes} == drawn


@ti.kernel
def move(targets: ti.template(), bases: ti.template(), directions: ti.template(), amount: ti.template()):
    """The user's simulation: every field of ``targets`` to base + amount * direction."""
    for k in ti.static(range(len(targets))):
        for I in ti.grouped(targets[k]):
            targets[k][I] = bases[k][I] + amount[None] * directions[k][I]


@ti.kernel
def squared_error(image: ti.template(), target: ti.template(), loss: ti.template()):
    for i, j in image:
        loss[None] += (image[i, j] - target[i, j]).norm_sqr()


class Program:
    """A user's program around renders of ``scene`` (see the module docstring), its fields
    made once (each field costs Taichi compiles of its own kernels)."""

    def __init__(self, scene: Scene, dtype: str = "f64", seed: int = 0):
        rng = np.random.default_rng(seed)
        real = ti.f64 if dtype == "f64" else ti.f32
        self.scene, self.dtype = scene, dtype
        self.params = scene_fields(scene, dtype=dtype)
        bases = scene_fields(scene, dtype=dtype, needs_grad=False)
        values, directions, moved = scene.parameters(), {}, {}
        for key, value in values.items():
            position = key.endswith(("centres", "vertices", "points"))
            directions[key] = rng.normal(0.0, 1.0 if position else 0.03, np.shape(value))  # pixels, or the rest
            if key.endswith("opacities"):  # downwards, so that amounts > 0 keep them in [0, 1]
                directions[key] = -np.abs(directions[key])
            moved[key] = value + directions[key] if position else value
        directions = scene_fields(scene.with_parameters(directions), dtype=dtype, needs_grad=False)
        self.fields = tuple(self.params.values()), tuple(bases.values()), tuple(directions[key] for key in self.params)
        self.amount = ti.field(real, (), needs_grad=True)
        self.loss = ti.field(real, (), needs_grad=True)
        # The target: the picture with every point moved by its direction, so the loss falls
        # towards amount = 1 (rather than a random picture's, whose gradients mostly cancel).
        self.target = ti.Vector.field(3, real, (scene.height, scene.width))
        self.target.from_numpy(Renderer(RenderConfig(dtype=dtype)).render(scene.with_parameters(moved)))
        self.renders = {}

    def renderer(self, mode: str) -> RenderKernel:
        if mode not in self.renders:
            self.renders[mode] = RenderKernel(self.scene, self.params, RenderConfig(dtype=self.dtype, mode=mode))
        return self.renders[mode]

    def simulate(self, amount=None) -> None:
        """``amount``: a value to set first, or another 0-D field to move by."""
        if amount is None or isinstance(amount, float):
            if amount is not None:
                self.amount[None] = amount
            amount = self.amount
        move(*self.fields, amount)

    def draw(self, mode: str, image=None) -> None:
        render = self.renderer(mode)
        render(image)
        squared_error(render.image if image is None else image, self.target, self.loss)

    def gradient(self, mode: str, amount: float) -> float:
        """d loss / d amount through ti.ad.Tape."""
        self.amount[None] = amount
        with ti.ad.Tape(self.loss):
            self.simulate()
            self.draw(mode)
        return float(self.amount.grad[None])

    def loss_at(self, mode: str, amount: float) -> float:
        self.loss[None] = 0.0
        self.simulate(amount)
        self.draw(mode)
        return float(self.loss[None])

    def central_difference(self, mode: str, amount: float, eps: float = 1e-6) -> float:
        return (self.loss_at(mode, amount + eps) - self.loss_at(mode, amount - eps)) / (2 * eps)


@functools.cache
def program(name: str) -> Program:
    return Program(SCENES[name](), seed=list(SCENES).index(name))


def assert_matches(analytic, numeric, rel: float = 1e-6):
    assert abs(numeric) > 1e-3  # the direction really moves the image
    assert abs(analytic - numeric) <= rel * abs(numeric), (analytic, numeric)


@pytest.mark.parametrize(
    ("mode", "scene"), [(mode, scene) for scene in ("mixed", "curves", "shapes") for mode in MODES] + [("mean", "flat")]
)
def test_tape_gradient_equals_central_differences_and_frame_backward(mode, scene):
    """Every mode and kind, with linear and flat fills and opacities."""
    user = program(scene)
    numeric = user.central_difference(mode, 0.1)
    assert_matches(user.gradient(mode, 0.1), numeric)
    user.simulate(0.0)  # the scene itself
    # With the parameters as the leaves (amount = 0: the scene itself), their gradients are
    # Frame.backward's for the same image gradient, 2 (image - target), and the image is the
    # numpy API's. (Above, the move kernel's adjoint cleared them, as Taichi's stores do.)
    with ti.ad.Tape(user.loss):
        user.draw(mode)
    frame = Renderer(RenderConfig(dtype="f64", mode=mode)).forward(user.scene)
    image = user.renderer(mode).image.to_numpy()
    np.testing.assert_array_equal(image, frame.image)
    expected = frame.backward(2.0 * (image - user.target.to_numpy())).parameters()
    for key, field in user.params.items():
        np.testing.assert_allclose(field.grad.to_numpy(), expected[key], rtol=1e-12, atol=1e-12, err_msg=key)


def test_two_renders_in_one_tape():
    """Loss = E(draw(state 1)) + E(draw(state 2)) + E(draw another way(state 2)): one renderer
    draws two states of the simulation (the parameters are moved in between) into two
    images, and a renderer of another mode draws the second state too."""
    user = program("mixed")
    second, other_image = (
        ti.field(ti.f64, (), needs_grad=True),
        ti.Vector.field(3, ti.f64, user.target.shape, needs_grad=True),
    )

    def run(first_amount: float, second_amount: float) -> None:
        user.simulate(first_amount)
        user.draw("over")
        second[None] = second_amount
        user.simulate(second)
        user.draw("over", other_image)
        user.draw("softor")

    def loss_at(first_amount: float, second_amount: float) -> float:
        user.loss[None] = 0.0
        run(first_amount, second_amount)
        return float(user.loss[None])

    with ti.ad.Tape(user.loss):
        run(0.3, 0.4)
    eps = 1e-6
    assert_matches(user.amount.grad[None], (loss_at(0.3 + eps, 0.4) - loss_at(0.3 - eps, 0.4)) / (2 * eps))
    assert_matches(second.grad[None], (loss_at(0.3, 0.4 + eps) - loss_at(0.3, 0.4 - eps)) / (2 * eps))


def test_a_tape_per_step_of_an_optimisation_loop():
    user, amount, losses = program("flat"), 0.5, []
    for _ in range(3):
        gradient = user.gradient("mean", amount)
        losses.append(float(user.loss[None]))
        assert_matches(gradient, user.central_difference("mean", amount))
        amount -= 0.1 * losses[-1] / gradient  # a step that changes the loss by a tenth
    assert len(set(losses)) == 3  # each step saw another state


def test_kernel_grad_by_hand_equals_the_tape():
    user = program("mixed")
    taped = user.gradient("alpha", 0.2)
    render = user.renderer("alpha")
    for field in (*user.params.values(), render.image, user.amount):
        field.grad.fill(0.0)
    user.loss[None] = 0.0
    user.simulate()
    user.draw("alpha")
    user.loss.grad[None] = 1.0
    squared_error.grad(render.image, user.target, user.loss)
    render.grad()
    move.grad(*user.fields, user.amount)
    assert user.amount.grad[None] == pytest.approx(taped, rel=1e-12)


@ti.kernel
def scaled(target: ti.types.ndarray(), base: ti.types.ndarray(), factor: ti.types.ndarray()):
    for i in range(target.shape[0]):
        target[i] = base[i] * factor[None]


@ti.kernel
def brightness(image: ti.types.ndarray(), loss: ti.types.ndarray()):
    for i, j in ti.ndrange(image.shape[0], image.shape[1]):
        loss[None] += image[i, j].sum()


def test_ndarrays_on_the_cpu():
    scene = mixed_scene(np.random.default_rng(7), WIDTH, HEIGHT, fill="flat")
    config = RenderConfig(dtype="f64", mode="over")
    radii = ti.ndarray(ti.f64, len(scene.shapes[0]), needs_grad=True)
    base = ti.ndarray(ti.f64, len(scene.shapes[0]))
    base.from_numpy(scene.shapes[0].radii)
    factor = ti.ndarray(ti.f64, (), needs_grad=True)
    image = ti.ndarray(ti.math.vec3, (HEIGHT, WIDTH), needs_grad=True)
    loss = ti.ndarray(ti.f64, (), needs_grad=True)
    render = RenderKernel(scene, {"0.radii": radii}, config, image=image)

    def loss_at(value: float) -> float:
        factor.fill(value)
        loss.fill(0.0)
        scaled(radii, base, factor)
        render()
        brightness(image, loss)
        return float(loss.to_numpy())

    factor.fill(1.1)
    with ti.ad.Tape(loss):
        scaled(radii, base, factor)
        render()
        brightness(image, loss)
    assert_matches(float(factor.grad.to_numpy()), (loss_at(1.1 + 1e-6) - loss_at(1.1 - 1e-6)) / 2e-6)


def test_float32_gradients_equal_frame_backward():
    scene = mixed_scene(np.random.default_rng(8), WIDTH, HEIGHT, fill="linear", opacity=True)
    config = RenderConfig(dtype="f32", mode="over")
    params = scene_fields(scene, ["0.centres", "0.slopes", "1.vertices", "2.widths", "background"], dtype="f32")
    render = RenderKernel(scene, params, config)
    image_grad = np.random.default_rng(9).normal(size=(HEIGHT, WIDTH, 3))
    render()
    render.image.grad.from_numpy(image_grad.astype(np.float32))
    render.grad()
    frame = Renderer(config).forward(scene)
    np.testing.assert_allclose(render.image.to_numpy(), frame.image, atol=1e-6)
    expected = frame.backward(image_grad.astype(np.float32)).parameters()
    for key, field in params.items():
        np.testing.assert_allclose(field.grad.to_numpy(), expected[key], rtol=1e-5, atol=1e-5, err_msg=key)
    assert not np.any(render.image.grad.to_numpy())  # the render took the image's gradient


def test_parameters_left_out_keep_the_template_and_constants_get_no_gradient():
    scene = mixed_scene(np.random.default_rng(10), WIDTH, HEIGHT, fill="flat")
    config = RenderConfig(dtype="f64", mode="over")
    centres = scene_fields(scene, ["0.centres"], dtype="f64", needs_grad=False)["0.centres"]
    opacities = ti.field(ti.f64, len(scene.shapes[2]), needs_grad=True)  # the template has none
    opacities.from_numpy(np.full(len(scene.shapes[2]), 0.5))
    render = RenderKernel(scene, {"0.centres": centres, "2.opacities": opacities}, config)
    render()
    faded = scene.shapes[2].with_parameters({"opacities": np.full(len(scene.shapes[2]), 0.5)})
    expected = Renderer(config).forward(scene.replace(shapes=(*scene.shapes[:2], faded)))
    np.testing.assert_array_equal(render.image.to_numpy(), expected.image)
    render.image.grad.fill(1.0)
    render.grad()  # no gradient for the constant centres; the opacities get theirs
    np.testing.assert_allclose(
        opacities.grad.to_numpy(), expected.backward(np.ones_like(expected.image)).shapes[2].opacities
    )


def one_circle() -> Scene:
    return Scene(16, 12, [1, 1, 1], (Circles([[8, 6]], [3], [[0, 0, 0]]),))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (lambda: {"0.sizes": ti.field(ti.f32, 1)}, "unknown parameter '0.sizes'"),
        (lambda: {"0.centres": np.zeros((1, 2))}, "0.centres must be a Taichi field or ndarray"),
        (
            lambda: {"0.centres": ti.field(ti.f32, (1, 2))},
            r"0.centres must have shape \(1,\) with elements of shape \(2,\)",
        ),
        (lambda: {"0.radii": ti.field(ti.f32, 2)}, r"0.radii must have shape \(1,\)"),
        (lambda: {"0.radii": ti.field(ti.f64, 1)}, "0.radii holds f64, but the render is in f32"),
        (lambda: {"background": ti.field(ti.f32, 3)}, r"background must have shape \(\) with elements of shape \(3,\)"),
    ],
)
def test_bad_containers_are_named_when_the_render_is_built(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        RenderKernel(one_circle(), params())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (lambda: (one_circle().shapes[0], {}), "RenderKernel takes a template Scene, got Circles"),
        (lambda: (one_circle(), [1]), "params must map parameter names"),
        (lambda: (one_circle(), {}, "over"), "RenderKernel takes a RenderConfig, got str"),
    ],
)
def test_bad_arguments_are_named(arguments, message):
    with pytest.raises(TypeError, match=message):
        RenderKernel(*arguments())


def test_values_that_cannot_be_rendered_are_named():
    radii = ti.field(ti.f32, 1, needs_grad=True)
    render = RenderKernel(one_circle(), {"0.radii": radii})
    with pytest.raises(ValueError, match="0.radii: circle radii must be positive"):
        render()
    radii[0] = float("nan")
    with pytest.raises(ValueError, match=r"0.radii\[0\] is NaN"):
        render()
    centres = ti.Vector.field(2, ti.f32, 1)
    centres.from_numpy(np.array([[8.0, 2e7]], np.float32))
    with pytest.raises(ValueError, match=r"0.centres\[0, 1\] is 2e\+07, beyond the \+-1e\+06"):
        RenderKernel(one_circle(), {"0.centres": centres})()
    with pytest.raises(ValueError, match=r"image must have shape \(12, 16\)"):
        RenderKernel(one_circle(), {}, image=ti.Vector.field(3, ti.f32, (16, 12)))
    with pytest.raises(RuntimeError, match="call the render before"):
        RenderKernel(one_circle(), {}).grad()


DEMO = Path(__file__).resolve().parents[1] / "demos" / "taichi_physics.py"


def test_physics_demo_short_run_recovers_the_launch_velocities(tmp_path):
    """60 steps (of the default 120) bring every launch velocity within 2 px/s of the
    truth (speeds of 110-170 px/s; the guess was up to 30 px/s off)."""
    command = [sys.executable, str(DEMO), "--steps", "60", "--out", str(tmp_path), "--gif", str(tmp_path / "run.gif")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["steps"] == 60 and not metrics["interrupted"]
    assert metrics["last_loss"] < 0.05 * metrics["first_loss"]
    assert metrics["largest_velocity_error"] < 2.0
    first_error = np.abs(np.array(metrics["true_velocities"]) - [75.0, -120.0]).max()
    assert first_error > 20.0  # there was something to recover
    frames = iio.imread(tmp_path / "run.gif")
    assert frames.shape[0] >= 2 and (tmp_path / "run.gif").stat().st_size < 1 << 20
    assert iio.imread(tmp_path / "final.png").shape[2] == 3 and (tmp_path / "target.png").exists()
    assert "recovered" in result.stdout and "largest velocity error" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "0"], "--steps"),
        (["--gif", "out.png"], "--gif must name a .gif file"),
        (["--arch", "tpu"], "--arch"),
    ],
)
def test_physics_demo_bad_input_is_one_line(tmp_path, args, message):
    command = [sys.executable, str(DEMO), "--out", str(tmp_path), "--gif", str(tmp_path / "run.gif"), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_physics_demo_ctrl_c_writes_what_it_has(tmp_path):
    command = [
        sys.executable,
        str(DEMO),
        "--steps",
        "100000",
        "--out",
        str(tmp_path),
        "--gif",
        str(tmp_path / "run.gif"),
    ]
    status, stderr = interrupted(command, ready="step ", after=3.0)
    assert status == 130, stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["interrupted"] and metrics["steps"] > 0
    assert (tmp_path / "final.png").exists() and (tmp_path / "run.gif").exists()
