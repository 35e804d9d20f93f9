"""Fitting a scene to a target image: Adam, its learning rates and bounds, and the fit loop."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from taichi_sdf.config import RenderConfig
from taichi_sdf.losses import MSE, Loss, get_loss, mse_to_psnr
from taichi_sdf.render import Renderer
from taichi_sdf.scene import Scene

# Adam step sizes in natural units per step for the fill and the background ([0, 1] units);
# each shape group adds its geometry's (pixels for positions and sizes, ``LEARNING_RATES``).
FILL_LEARNING_RATES = {"colours": 0.02, "slopes": 0.02, "opacities": 0.02, "background": 0.01}
# A fit with ``anneal`` narrows its anti-aliasing band over this share of the steps, and
# ``relocate`` runs until this share of them (the rest settle what it moved).
ANNEAL_SHARE = 0.6
RELOCATE_UNTIL = 0.8
# After every step values are projected back into these ranges (plus each group's ``BOUNDS``).
FILL_BOUNDS = {"colours": (0.0, 1.0), "opacities": (0.0, 1.0), "background": (0.0, 1.0)}


class Adam:
    """Adam (Kingma & Ba) on a numpy array, with a learning rate per element (broadcast)
    and a step count per element, so that elements can start afresh (:meth:`restart`)."""

    def __init__(self, shape: tuple, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.m = np.zeros(shape)
        self.v = np.zeros(shape)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = np.zeros(shape)

    def step(self, params: np.ndarray, grad: np.ndarray, lr) -> np.ndarray:
        """Updated parameters; ``lr`` is the largest step per element, in its units."""
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * grad
        self.v = self.beta2 * self.v + (1 - self.beta2) * grad * grad
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v / (1 - self.beta2**self.t)
        return params - lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def reorder(self, order: np.ndarray) -> None:
        """Permute the state along the first axis with the values: position i takes the
        state of ``order[i]``."""
        self.m, self.v, self.t = self.m[order], self.v[order], self.t[order]

    def restart(self, elements: np.ndarray) -> None:
        """Forget the moments of the elements where the boolean mask ``elements`` is true
        (values that were moved by hand), as if they had never been stepped."""
        for state in (self.m, self.v, self.t):
            state[elements] = 0.0


def learning_rates_and_bounds(scene: Scene) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Default learning rate and bounds of every parameter of ``scene``, by its key."""
    rates, bounds = {}, {}
    for key in scene.parameters():
        name = key.split(".")[-1]
        group = scene.shapes[int(key.split(".")[0])] if "." in key else None
        rates[key] = (group.LEARNING_RATES if group is not None else {}).get(name, FILL_LEARNING_RATES.get(name))
        bounds[key] = {**FILL_BOUNDS, **(group.BOUNDS if group is not None else {})}.get(name, (-np.inf, np.inf))
    return rates, bounds


@dataclass(frozen=True)
class Relocated:
    """What a ``relocate`` hook of :func:`fit` returns when it also reorders values: the
    scene, and for each parameter key it permuted along the first axis the permutation
    (new position -> old index), so that the optimiser's state moves with the values.
    A hook that only changes values returns the scene itself."""

    scene: Scene
    orders: dict[str, np.ndarray]


@dataclass(frozen=True)
class FitStep:
    """What :func:`fit` tells its callback after each step."""

    step: int
    loss: float
    mse: float
    scene: Scene  # the scene this step evaluated


@dataclass
class FitResult:
    """Outcome of :func:`fit`: the best scene seen (lowest loss), its loss and mean squared
    error, and per-step histories."""

    scene: Scene
    loss: float
    mse: float = math.inf
    losses: list[float] = field(default_factory=list)
    mses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    stopped: str | None = None  # why the fit stopped early (a loss or gradient that is not finite)

    @property
    def psnr(self) -> float:
        """PSNR (dB) of the best scene's unclipped render against the target."""
        return mse_to_psnr(self.mse)

    @property
    def psnrs(self) -> list[float]:
        return [mse_to_psnr(mse) for mse in self.mses]


def rank_one(slopes: np.ndarray) -> np.ndarray:
    """The nearest (N, 3, 2) slopes in which every channel changes along one direction
    (rank one, as in an SVG linear gradient)."""
    u, s, vt = np.linalg.svd(slopes, full_matrices=False)
    return s[:, :1, None] * u[:, :, :1] @ vt[:, :1, :]


def check_target(target, scene: Scene) -> None:
    """ValueError naming the problem unless ``target`` is a float (height, width, 3) image
    of the scene's size with finite values in [0, 1]."""
    if not isinstance(target, np.ndarray):
        raise ValueError(f"target must be a numpy array, got {type(target).__name__}")
    if target.shape != (scene.height, scene.width, 3):
        raise ValueError(f"target shape {target.shape} does not match the scene's ({scene.height}, {scene.width}, 3)")
    if not np.issubdtype(target.dtype, np.floating):
        raise ValueError(f"target must be a float image in [0, 1], got {target.dtype} (taichi_sdf.io.to_rgb converts)")
    if not np.all(np.isfinite(target)):
        raise ValueError("target contains NaN or infinite values")
    low, high = float(target.min()), float(target.max())
    if low < -1e-6 or high > 1 + 1e-6:
        hint = " (it looks like 0-255: divide by 255)" if high > 1.5 else ""
        raise ValueError(f"target values must lie in [0, 1], got [{low:.4g}, {high:.4g}]{hint}")


def fit(
    target: np.ndarray,
    scene: Scene,
    steps: int,
    renderer: Renderer | None = None,
    learning_rates: dict[str, float] | None = None,
    final_lr_fraction: float = 0.1,
    callback: Callable[[FitStep], None] | None = None,
    svg_gradients: bool = True,
    loss: str | Loss = "mse",
    anneal: float = 1.0,
    relocate: Callable[[Scene, np.ndarray, np.ndarray], Scene] | None = None,
    relocate_every: int | None = None,
) -> FitResult:
    """Fit ``scene`` to ``target`` (height, width, 3 floats in [0, 1]) by Adam on ``loss``.

    ``loss`` is a :mod:`taichi_sdf.losses` name (``mse``, ``l1``, ``pyramid``, ``msssim``)
    or a :class:`~taichi_sdf.losses.Loss`. Learning rates (per parameter name, or per key
    such as ``"0.radii"``; each group's ``LEARNING_RATES`` and :data:`FILL_LEARNING_RATES`
    by default) decay along a cosine to ``final_lr_fraction`` of their start.
    ``callback(FitStep)`` runs after every step. With ``svg_gradients`` linear fills stay
    of rank one (every channel changes along one direction), so that SVG export is exact.
    ``anneal`` > 1 starts the anti-aliasing band that many times wider (soft edges feel
    ink further away) and narrows it geometrically to the renderer's over the first
    :data:`ANNEAL_SHARE` of the steps; the best scene is then chosen among the sharp steps.
    ``relocate(scene, image, target) -> scene`` or :class:`Relocated` (e.g.
    :class:`taichi_sdf.drawing.Reseeder`, :class:`taichi_sdf.densify.Densifier`)
    runs every ``relocate_every`` steps (by default the hook's ``every`` attribute, else 50)
    until :data:`RELOCATE_UNTIL` of them, and the values it changes restart their Adam
    moments.
    Ctrl-C stops the loop early: the result then has ``interrupted=True`` and still holds
    the best scene seen; a loss or a gradient that is not finite (NaN) stops it too, said
    in ``stopped``. Returns the best scene, not the last.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not 1.0 <= anneal < math.inf:
        raise ValueError(f"anneal must be a factor of at least 1, got {anneal}")
    if relocate_every is None:
        relocate_every = getattr(relocate, "every", 50)
    if relocate_every <= 0:
        raise ValueError(f"relocate_every must be positive, got {relocate_every}")
    check_target(target, scene)
    loss = get_loss(loss)
    scene.check_values()
    renderer = renderer or Renderer(RenderConfig())
    # In the render's precision, once: a float32 render would otherwise convert a float64
    # target in every step's loss.
    target = np.asarray(target, {"f32": np.float32, "f64": np.float64}[renderer.config.dtype])
    rates, bounds = learning_rates_and_bounds(scene)
    for name, rate in (learning_rates or {}).items():
        keys = [key for key in rates if key == name or key.split(".")[-1] == name]
        if not keys:
            names = sorted(set(rates) | {key.split(".")[-1] for key in rates})
            raise ValueError(f"learning_rates names {name!r}, which is no parameter of the scene ({', '.join(names)})")
        number = isinstance(rate, (int, float, np.integer, np.floating)) and not isinstance(rate, bool)
        if not number or not 0 <= rate < math.inf:
            raise ValueError(f"learning_rates[{name!r}] must be a number >= 0 (a step in the parameter's units), "
                             f"got {rate!r}")  # fmt: skip
        rates.update({key: float(rate) for key in keys})
    values = {key: array.copy() for key, array in scene.parameters().items()}
    optimisers = {key: Adam(array.shape) for key, array in values.items()}

    result = FitResult(scene, math.inf)
    sharp_from = int(ANNEAL_SHARE * steps) if anneal > 1 else 0
    start = time.perf_counter()
    try:
        for step in range(steps):
            current = scene.with_parameters(values)
            band = renderer.config.aa_width * anneal ** max(0.0, 1.0 - step / max(sharp_from, 1))
            frame = Renderer(replace(renderer.config, aa_width=band)).forward(current)
            value, image_grad = loss.value_and_grad(frame.image, target)
            if not math.isfinite(value):
                result.stopped = f"at step {step + 1} the loss is {value}"
                break
            result.losses.append(value)
            result.mses.append(value if type(loss) is MSE else float(np.mean((frame.image - target) ** 2)))
            if step <= sharp_from or value < result.loss:  # softened steps are not compared
                result.scene, result.loss, result.mse = current, value, result.mses[-1]
            grads = frame.backward(image_grad).parameters()
            bad = next((key for key, grad in grads.items() if not np.all(np.isfinite(grad))), None)
            if bad is not None:  # a step would spread it to every value: stop with the best scene so far
                result.stopped = f"at step {step + 1} the gradient of {bad} is not finite"
                break
            decay = final_lr_fraction + (1 - final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * step / steps))
            for key, optimiser in optimisers.items():
                updated = optimiser.step(values[key], grads[key], decay * rates[key])
                values[key] = np.clip(updated, *bounds[key])
                if key.endswith(".slopes") and svg_gradients:
                    values[key] = rank_one(values[key])
            if relocate is not None and step % relocate_every == relocate_every - 1 and step < RELOCATE_UNTIL * steps:
                relocated = relocate(scene.with_parameters(values), frame.image, target)
                if not isinstance(relocated, Relocated):
                    relocated = Relocated(relocated, {})
                moved = relocated.scene.parameters()
                for key, optimiser in optimisers.items():
                    if key in relocated.orders:
                        optimiser.reorder(relocated.orders[key])
                        values[key] = values[key][relocated.orders[key]]
                    optimiser.restart(moved[key] != values[key])
                values = {key: moved[key].copy() for key in values}
            if callback is not None:
                callback(FitStep(step, value, result.mses[-1], current))
    except KeyboardInterrupt:
        result.interrupted = True
    result.seconds = time.perf_counter() - start
    return result
