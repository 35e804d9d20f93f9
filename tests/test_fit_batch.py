"""Fitting a batch of pictures in one pass: each picture fitted exactly as alone."""

import numpy as np
import pytest

from taichi_sdf import RenderConfig, Renderer
from taichi_sdf.init import starting_scene
from taichi_sdf.losses import MSE
from taichi_sdf.optim import Adam, Relocated, fit, fit_batch


def pictures(count: int = 3, height: int = 24, width: int = 28) -> list[np.ndarray]:
    """Different pictures: a smooth random colour field each, with a bright disk somewhere."""
    rng = np.random.default_rng(11)
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    photos = []
    for _ in range(count):
        photo = rng.uniform(0.2, 0.8, 3) + 0.2 * np.sin(xs / rng.uniform(3, 8) + rng.uniform(0, 6))[..., None]
        x, y = rng.uniform([0, 0], [width, height])
        photo[(xs - x) ** 2 + (ys - y) ** 2 < rng.uniform(9, 40)] = rng.uniform(0, 1, 3)
        photos.append(np.clip(photo, 0.0, 1.0))
    return photos


class Moves:
    """A relocate hook that counts the calls in which the hook it wraps moved something."""

    def __init__(self, hook):
        self.hook, self.moves = hook, 0

    def __call__(self, scene, image, target):
        relocated = self.hook(scene, image, target)
        self.moves += relocated is not scene
        return relocated


def assert_same_fit(alone, batched):
    assert batched.losses == alone.losses and batched.mses == alone.mses
    assert batched.loss == alone.loss and batched.stopped == alone.stopped
    for key, value in alone.scene.parameters().items():
        np.testing.assert_array_equal(batched.scene.parameters()[key], value, err_msg=key)


def test_stacked_adam_steps_and_reorders_each_row_as_its_own_adam():
    rng = np.random.default_rng(2)
    gradients = rng.normal(size=(6, 3, 4))  # 6 steps of a batch of 3 rows of 4 values
    stacked, rows = Adam((3, 4)), [Adam((4,)) for _ in range(3)]
    values, row_values = np.zeros((3, 4)), [np.zeros(4) for _ in range(3)]
    rates = np.array([[0.1], [0.2], [0.05]])
    order = np.array([3, 0, 2, 1])
    for step, gradient in enumerate(gradients):
        values = stacked.step(values, gradient, rates)
        row_values = [adam.step(v, g, rate[0]) for adam, v, g, rate in zip(rows, row_values, gradient, rates)]
        if step == 2:  # row 1's values are reordered: only its state follows
            stacked.reorder(order, batch=1)
            rows[1].reorder(order)
            values[1], row_values[1] = values[1][order], row_values[1][order]
            gradients[3:, 1] = gradients[3:, 1][:, order]
    np.testing.assert_array_equal(values, np.stack(row_values))
    stacked.reorder(np.array([0, 2]))  # a selection: rows 0 and 2 go on
    np.testing.assert_array_equal(
        stacked.step(values[[0, 2]], gradients[0, [0, 2]], rates[[0, 2]]),
        np.stack([rows[b].step(row_values[b], gradients[0, b], rates[b, 0]) for b in (0, 2)]),
    )


@pytest.mark.parametrize("mode", ["over", "mean"])
@pytest.mark.parametrize("densify", [False, True])
def test_a_batch_fits_each_picture_as_fit_fits_it_alone(mode, densify):
    # The batched render and backward are bitwise those of one scene (each image's pixels
    # and gradient sums in the same order), and Adam, the bounds and the rank-one
    # projection act element by element: so the results are equal, not just close.
    photos = pictures()
    rates = [{}, {"colours": 0.0}, {"background": 0.03, "radii": 0.5}]
    renderer = Renderer(RenderConfig(mode=mode, dtype="f64"))
    options = {"renderer": renderer, "anneal": 2.0 if densify else 1.0, "relocate_every": 4}

    def starts():
        return [starting_scene("circle", photo, 8, seed=b, mode=mode) for b, photo in enumerate(photos)]

    alone = [
        fit(start.target, start.scene, 24, learning_rates=rate, relocate=Moves(start.relocate) if densify else None,
            **options)
        for start, rate in zip(starts(), rates)
    ]  # fmt: skip
    batch = starts()
    hooks = [Moves(start.relocate) for start in batch] if densify else None
    results = fit_batch(
        [start.target for start in batch], [start.scene for start in batch], 24, learning_rates=rates, relocate=hooks,
        **options,
    )  # fmt: skip
    assert len(results) == 3
    for b in range(3):
        assert_same_fit(alone[b], results[b])
    assert results[0].losses != results[1].losses  # three different fits, not one thrice
    if densify:
        assert all(hook.moves > 0 for hook in hooks)  # every hook moved shapes: the Adam rows followed
    else:  # picture 1's colours learn at rate 0 (a Densifier would paint the circles it moves)
        np.testing.assert_array_equal(results[1].scene.shapes[0].colours, batch[1].scene.shapes[0].colours)


def test_a_batch_moves_each_pictures_adam_state_with_its_reordered_values():
    # A hook that reverses picture 1's circles on every call: its Adam rows must follow,
    # or its fit would differ from the same hook's fit of it alone.
    class Reverse:
        def __call__(self, scene, image, target):
            group = scene.shapes[0]
            order = np.arange(len(group))[::-1]
            values = {name: value[order] for name, value in group.parameters().items()}
            orders = {f"0.{name}": order for name in values}
            return Relocated(scene.replace(shapes=(group.with_parameters(values),)), orders)

    photos = pictures()
    starts = [starting_scene("circle", photo, 6, seed=b, mode="over") for b, photo in enumerate(photos)]
    options = {"renderer": Renderer(RenderConfig(mode="over", dtype="f64")), "relocate_every": 3}
    alone = fit(starts[1].target, starts[1].scene, 15, relocate=Reverse(), **options)
    results = fit_batch(
        [start.target for start in starts], [start.scene for start in starts], 15, relocate=[None, Reverse(), None],
        **options,
    )  # fmt: skip
    assert_same_fit(alone, results[1])
    assert_same_fit(fit(starts[0].target, starts[0].scene, 15, **options), results[0])


class NanFor(MSE):
    """Mean squared error whose loss or gradient turns NaN after three calls on one target."""

    def __init__(self, target: np.ndarray, what: str):
        self.poisoned, self.what, self.calls = target, what, 0

    def value_and_grad(self, image, target):
        value, grad = super().value_and_grad(image, target)
        if np.array_equal(target, self.poisoned):
            self.calls += 1
            if self.calls > 3:
                return (np.nan, grad) if self.what == "loss" else (value, grad * np.nan)
        return value, grad


@pytest.mark.parametrize("what", ["loss", "gradient"])
def test_a_picture_that_turns_nan_stops_alone(what):
    photos = pictures()
    scenes = [starting_scene("circle", photo, 6, seed=b, mode="mean").scene for b, photo in enumerate(photos)]
    renderer = Renderer(RenderConfig(mode="mean", dtype="f64"))
    told = []
    results = fit_batch(
        photos, scenes, 12, renderer=renderer, loss=NanFor(photos[1], what),
        callback=lambda states: told.append([state.picture for state in states]),
    )  # fmt: skip
    stopped = results[1]
    if what == "loss":
        assert stopped.stopped == "at step 4 the loss is nan" and len(stopped.losses) == 3
    else:
        assert stopped.stopped == "at step 4 the gradient of background is not finite" and len(stopped.losses) == 4
    assert np.isfinite(stopped.loss) and stopped.loss == min(stopped.losses)
    stopped.scene.check_values()  # the best scene holds no NaN
    assert told == [[0, 1, 2]] * 3 + [[0, 2]] * 9
    for b in (0, 2):  # the others went on, as if alone
        assert results[b].stopped is None and len(results[b].losses) == 12
        alone = fit(photos[b], scenes[b], 12, renderer=renderer, loss=NanFor(photos[1], what))  # its MSE as the batch's
        assert_same_fit(alone, results[b])


def test_ctrl_c_interrupts_every_picture_each_with_its_best():
    photos = pictures()
    scenes = [starting_scene("circle", photo, 6, seed=b, mode="mean").scene for b, photo in enumerate(photos)]

    def interrupt(states):
        if states[0].step == 5:
            raise KeyboardInterrupt

    results = fit_batch(photos, scenes, 20, renderer=Renderer(RenderConfig(mode="mean", dtype="f64")),
                        callback=interrupt)  # fmt: skip
    for result in results:
        assert result.interrupted and result.stopped is None and len(result.losses) == 6
        assert result.loss == min(result.losses) and result.scene is not None


def test_fit_batch_rejects_inputs_that_do_not_fit_together_in_one_line():
    photos = pictures()
    scenes = [starting_scene("circle", photo, 6, seed=b).scene for b, photo in enumerate(photos)]
    other = starting_scene("circle", photos[0], 7).scene
    cases = [
        ((photos[:2], scenes), {}, "as many targets as scenes"),
        (([], []), {}, "as many targets as scenes"),
        ((photos, scenes[:2] + [other]), {}, "scene 2 of the batch differs from scene 0"),
        ((photos[:1] + [photos[1][:10]] + photos[2:], scenes), {}, "picture 1: target shape"),
        ((photos, scenes), {"relocate": starting_scene("circle", photos[0], 6).relocate}, "relocate must be None or"),
        ((photos, scenes), {"relocate": [None, None]}, "a list of 3 hooks"),
        ((photos, scenes), {"learning_rates": [{}, {}]}, "a list of 3 dicts"),
        ((photos, scenes), {"learning_rates": [{}, {}, {"size": 1.0}]}, "picture 2: learning_rates names 'size'"),
        ((photos, scenes), {"learning_rates": {"radii": -1.0}}, "^learning_rates\\['radii'\\] must be a number"),
    ]
    for (targets, batch), options, message in cases:
        with pytest.raises(ValueError, match=message) as error:
            fit_batch(targets, batch, 5, **options)
        assert "\n" not in str(error.value)


def test_planned_fits_run_together_as_each_runs_alone(tmp_path):
    import imageio.v3 as iio

    from taichi_sdf.app.fitting import fit_parser, fit_planned, fit_planned_batch, plan_fit

    def plans(*second: str):
        """The plans of two pictures as ``taichi-sdf fit`` makes them (Densifier included);
        the second's command line ends with ``second``."""
        made = []
        for index, photo in enumerate(pictures(2)):
            path = tmp_path / f"picture{index}.png"
            iio.imwrite(path, (255 * photo).astype(np.uint8))
            argv = [str(path), "--n", "6", "--steps", "40", "--seed", str(index), "--out", str(tmp_path / str(index))]
            args = fit_parser("circle", "fit").parse_args(argv + list(second) * index)
            made.append(plan_fit("circle", args, 0.0))
        return made

    renderer = Renderer(plans()[0].config)
    alone = [fit_planned(plan, renderer) for plan in plans()]
    together = fit_planned_batch(plans(), renderer)
    for b in range(2):
        assert_same_fit(alone[b], together[b])
    with pytest.raises(ValueError, match="plan 1 differs from plan 0 in its steps"):
        fit_planned_batch(plans("--anneal", "2"), renderer)
