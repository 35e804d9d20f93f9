"""Other Taichi programs can call the library's @ti.func building blocks in their own kernels and
differentiate them with Taichi's autodiff: every public function of ``taichi_sdf.funcs`` inside a
user kernel under ``ti.ad.Tape``, against central differences in float64, at points that take
each of its branches; and the derivatives written out by hand (``*_grad``, ``*_slope``) against
Taichi's autodiff of the values they differentiate."""

import math
import zlib

import numpy as np
import pytest
import taichi as ti

from taichi_sdf import funcs
from taichi_sdf.funcs import blend_mean, circle_coverage, coverage, sdf_circle


@ti.kernel
def soft_disk(out: ti.types.ndarray(), cx: ti.f64, cy: ti.f64, radius: ti.f64):
    for row, col in ti.ndrange(out.shape[0], out.shape[1]):
        p = ti.Vector([col + 0.5, row + 0.5])
        distance = sdf_circle(p, ti.Vector([cx, cy]), radius)
        area = circle_coverage(p, ti.Vector([cx, cy]), radius, 1.0)
        out[row, col, 0] = distance
        out[row, col, 1] = coverage(distance, 1.0)
        out[row, col, 2] = coverage(-distance, 1.0)
        out[row, col, 3] = area
        out[row, col, 4] = blend_mean(area, ti.Vector([1.0, 0.0, 0.0]), ti.Vector([0.0, 0.0, 1.0]))[2]


def test_user_kernel_calls_sdf_and_coverage_funcs():
    out = np.zeros((24, 32, 5))
    soft_disk(out, 15.3, 11.7, 6.0)
    xs, ys = np.meshgrid(np.arange(32) + 0.5, np.arange(24) + 0.5)
    distance = np.hypot(xs - 15.3, ys - 11.7) - 6.0
    np.testing.assert_allclose(out[..., 0], distance, atol=1e-12)
    inside, outside = out[..., 1][distance <= -1.0], out[..., 1][distance >= 1.0]
    assert np.all(inside == 1.0) and np.all(outside == 0.0)  # compact support
    np.testing.assert_allclose(out[..., 1] + out[..., 2], 1.0, atol=1e-12)  # cov(d) + cov(-d) = 1
    assert abs(out[..., 3].sum() - math.pi * 36.0) < 1e-3 * math.pi * 36.0
    np.testing.assert_allclose(out[..., 4], 1.0 - out[..., 3], atol=1e-12)  # background fills the rest


# ---------------------------------------------------------------------------------------------
# Each function runs in a kernel of its own that reads its arguments from a flat field x and
# writes its results to a flat field y (scalars, vectors and matrices row by row).

S, V2, V3, M32 = (), (2,), (3,), (3, 2)
ARCH = [[0, 0], [10, 20], [20, 0]]  # a quadratic with its apex at (10, 10), curvature radius 5 there
STRAIGHT = [[0, 0], [5, 5 + 1e-7], [10, 10]]  # evenly spaced on a line: solved from the chord
CUBIC = [[0, 0], [4, 18], [15, -6], [22, 9]]

# name: (argument shapes, result shapes, points: each the flat arguments). The curves' points
# take each way of the solve: one real root (Cardano), three (the trigonometric form: inside
# the evolute, under the apex), near straight (Newton from the chord), beyond the cutoff.
CASES = {
    "alpha_weight": ([S, S, S], [S], [[0.4, 0.7, 0.8]]),
    "alpha_weight_slope": ([S, S, S], [S], [[0.4, 0.7, 0.8]]),
    "band_coverage_grad": ([S, S, S], [S, S, S], [[2.3, 2.0, 1.0], [0.4, 0.6, 1.3]]),
    "blend_mean": ([S, V3, V3], [V3], [[0.7, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7], [1.6, 0.9, 0.4, 1.1, 0.5, 0.6, 0.7]]),
    "box_distance_grad": (
        [V2, V2, S],
        [S, V2, V2, S],
        [[5.5, -4.2, 4.0, 3.0, 1.0], [5.0, 1.0, 4.0, 3.0, 1.0], [-1.0, 4.5, 4.0, 3.0, 0.5], [0.5, 0.3, 4.0, 3.0, 1.0]],
    ),  # beyond a corner, past a side (x, y) and inside
    "circle_coverage": ([V2, V2, S, S], [S], [[10.2, 5.3, 4.0, 1.0, 7.5, 1.0]]),
    "coverage": ([S, S], [S], [[0.3, 1.0]]),
    "coverage_slope": ([S, S], [S], [[0.3, 1.0]]),
    "cubic_distance_grad": (
        [V2, V2, V2, V2, V2, S],
        [S, V2, V2, V2, V2],
        [
            [5.3, 7.1, *np.ravel(CUBIC), 1e9],
            [12.2, 4.1, *np.ravel(CUBIC), 1e9],
            [19.5, 2.0, *np.ravel(CUBIC), 1e9],
            [40.0, 40.0, *np.ravel(CUBIC), 3.0],
        ],
    ),
    "linear_fill": (
        [V2, V2, S, V3, M32],
        [V3],
        [[3.0, 4.0, 2.0, 3.0, 5.0, 0.4, 0.5, 0.6, 0.1, -0.2, 0.05, 0.1, -0.03, 0.02]],
    ),
    "over_weight": ([S, S, S], [S], [[0.4, 0.7, 0.8], [0.9, 0.7, 0.3]]),
    "over_weight_slope": ([S, S, S], [S], [[0.4, 0.7, 0.3]]),
    "quadratic_distance_grad": (
        [V2, V2, V2, V2, S],
        [S, V2, V2, V2],
        [
            [8.3, 6.1, *np.ravel(ARCH), 1e9],
            [10.4, 1.5, *np.ravel(ARCH), 1e9],
            [10.7, -2.0, *np.ravel(ARCH), 1e9],
            [-3.0, 1.0, *np.ravel(ARCH), 1e9],
            [3.0, 6.0, *np.ravel(STRAIGHT), 1e9],
            [30.0, 30.0, *np.ravel(ARCH), 2.0],
        ],
    ),
    "safe_norm": ([V2], [S], [[3.0, -4.0]]),
    "sdf_box": ([V2, V2, V2, S, S], [S], [[10.3, 9.1, 5, 5, 8, 6, 0.4, 1.0], [6.0, 5.5, 5, 5, 8, 6, 0.4, 1.0]]),
    "sdf_capsule": ([V2, V2, V2, S], [S], [[5.3, 7.1, 0, 0, 10, 12, 1.5], [-2.0, -1.0, 0, 0, 10, 12, 1.5]]),
    "sdf_circle": ([V2, V2, S], [S], [[5.3, 7.1, 2, 3, 4.0]]),
    "sdf_triangle": ([V2, V2, V2, V2], [S], [[5.3, 7.1, 0, 0, 10, 1, 3, 12], [12.0, -1.0, 0, 0, 10, 1, 3, 12]]),
    "sdf_triangle_grad": ([V2, V2, V2, V2], [S, M32], [[5.3, 7.1, 0, 0, 10, 1, 3, 12], [4.0, 1.5, 0, 0, 10, 1, 3, 12]]),
    "segment_distance": ([V2, V2, V2], [S], [[5.3, 7.1, 0, 0, 10, 12], [12.0, 13.0, 0, 0, 10, 12]]),
    "segment_distance_grad": ([V2, V2, V2], [S, V2, V2], [[5.3, 7.1, 0, 0, 10, 12], [-1.0, -2.0, 0, 0, 10, 12]]),
    "smooth_step": ([S], [S], [[0.3]]),
    "smooth_step_slope": ([S], [S], [[0.3]]),
    "stroke_coverage": ([V2, V2, V2, S, S], [S], [[5.3, 7.6, 0, 0, 10, 12, 1.0, 1.0]]),
    "unit_clamp": ([V3], [V3], [[0.2, 0.5, 0.9]]),
}

# Derivatives written out by hand: function -> (the function it differentiates, which takes
# the same arguments, and {result index: argument index} of d value / d argument).
HAND_WRITTEN = {
    "alpha_weight_slope": ("alpha_weight", {0: 2}),
    "band_coverage_grad": ("band_coverage_grad", {1: 0, 2: 1}),
    "box_distance_grad": ("box_distance_grad", {1: 0, 2: 1, 3: 2}),
    "coverage_slope": ("coverage", {0: 0}),
    "cubic_distance_grad": ("cubic_distance_grad", {1: 1, 2: 2, 3: 3, 4: 4}),
    "over_weight_slope": ("over_weight", {0: 2}),
    "quadratic_distance_grad": ("quadratic_distance_grad", {1: 1, 2: 2, 3: 3}),
    "sdf_triangle_grad": ("sdf_triangle_grad", {1: (1, 2, 3)}),
    "segment_distance_grad": ("segment_distance_grad", {1: 1, 2: 2}),
    "smooth_step_slope": ("smooth_step", {0: 0}),
}


def _size(shape) -> int:
    return int(np.prod(shape)) if shape else 1


def _starts(shapes) -> list[int]:
    return [int(start) for start in np.cumsum([0] + [_size(shape) for shape in shapes])]


@ti.func
def _load(x: ti.template(), start: ti.template(), shape: ti.template()):
    if ti.static(len(shape) == 0):
        return x[start]
    elif ti.static(len(shape) == 1):
        return ti.Vector([x[start + k] for k in ti.static(range(shape[0]))])
    else:
        return ti.Matrix([[x[start + r * shape[1] + c] for c in ti.static(range(shape[1]))]
                          for r in ti.static(range(shape[0]))])  # fmt: skip


@ti.func
def _store(y: ti.template(), start: ti.template(), shape: ti.template(), value):
    if ti.static(len(shape) == 0):
        y[start] = value
    elif ti.static(len(shape) == 1):
        for k in ti.static(range(shape[0])):
            y[start + k] = value[k]
    else:
        for r in ti.static(range(shape[0])):
            for c in ti.static(range(shape[1])):
                y[start + r * shape[1] + c] = value[r, c]


def function_kernel(name: str):
    """A kernel ``run(x, y)`` computing function ``name`` of CASES from field x into field y."""
    function, (inputs, outputs, _) = getattr(funcs, name), CASES[name]
    at, to = _starts(inputs), _starts(outputs)

    @ti.kernel
    def run(x: ti.template(), y: ti.template()):
        for _ in range(1):  # a parallel loop of one, as a user's kernel has
            result = function(*[_load(x, at[i], inputs[i]) for i in ti.static(range(len(inputs)))])
            if ti.static(len(outputs) == 1):
                _store(y, to[0], outputs[0], result)
            else:
                for i in ti.static(range(len(outputs))):
                    _store(y, to[i], outputs[i], result[i])

    return run


@ti.kernel
def weighted_sum(y: ti.template(), weights: ti.template(), loss: ti.template()):
    for i in y:
        loss[None] += weights[i] * y[i]


class Function:
    """Function ``name`` of CASES with its fields: ``values(point)`` its flat results,
    ``gradient(point, weights)`` Taichi's autodiff of weights . results with respect to the
    flat arguments, through ti.ad.Tape."""

    def __init__(self, name: str):
        inputs, outputs, _ = CASES[name]
        self.run = function_kernel(name)
        self.x = ti.field(ti.f64, _starts(inputs)[-1], needs_grad=True)
        self.y = ti.field(ti.f64, _starts(outputs)[-1], needs_grad=True)
        self.weights = ti.field(ti.f64, self.y.shape)
        self.loss = ti.field(ti.f64, (), needs_grad=True)

    def values(self, point) -> np.ndarray:
        self.x.from_numpy(np.asarray(point, np.float64))
        self.run(self.x, self.y)
        return self.y.to_numpy()

    def gradient(self, point, weights) -> np.ndarray:
        self.x.from_numpy(np.asarray(point, np.float64))
        self.weights.from_numpy(np.asarray(weights, np.float64))
        with ti.ad.Tape(self.loss):
            self.run(self.x, self.y)
            weighted_sum(self.y, self.weights, self.loss)
        return self.x.grad.to_numpy()


def test_every_public_func_has_a_case():
    assert set(CASES) == set(funcs.__all__)


@pytest.mark.parametrize("name", sorted(CASES))
def test_tape_gradient_equals_central_differences(name):
    function, rng = Function(name), np.random.default_rng(zlib.crc32(name.encode()))
    for point in CASES[name][2]:
        point = np.asarray(point, np.float64)
        weights, direction = rng.normal(size=function.y.shape), rng.normal(size=point.shape)
        analytic = function.gradient(point, weights) @ direction

        def objective(eps, point=point, weights=weights, direction=direction):
            return weights @ function.values(point + eps * direction)

        numeric = (objective(1e-6) - objective(-1e-6)) / 2e-6
        assert abs(numeric) > 1e-3, (name, point)  # the direction moves the results
        assert abs(analytic - numeric) <= 1e-6 * abs(numeric), (name, point, analytic, numeric)


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_hand_written_derivatives_equal_autodiff(name):
    of, pairs = HAND_WRITTEN[name]
    hand, value = Function(name), Function(of)
    inputs, outputs, _ = CASES[name]
    at, to = _starts(inputs), _starts(outputs)
    for point in CASES[name][2]:
        results = hand.values(point)
        first_only = np.eye(value.y.shape[0])[0]  # d (the value, its first result) / d arguments
        autodiff = value.gradient(point, first_only)
        for result, arguments in pairs.items():
            arguments = arguments if isinstance(arguments, tuple) else (arguments,)
            expected = np.concatenate([autodiff[at[a] : at[a + 1]] for a in arguments])
            np.testing.assert_allclose(results[to[result] : to[result + 1]], expected, rtol=1e-9, atol=1e-12)
