"""Fitting scenes to target images: Adam, its learning rates and bounds, and the fit loop
(:func:`fit` for one picture, :func:`fit_batch` for several of one size in one pass)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from taichi_sdf.config import RenderConfig
from taichi_sdf.losses import MSE, Loss, get_loss, mse_to_psnr
from taichi_sdf.render import Renderer, stack_parameters
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

    def reorder(self, order: np.ndarray, batch: int | None = None) -> None:
        """Move the state along the first axis with the values: position i takes the state
        of ``order[i]`` (a permutation, or a selection that keeps those positions). With
        ``batch``, the state is stacked (B, ...) and only its row ``batch`` is reordered,
        along that row's first axis."""
        if batch is None:
            self.m, self.v, self.t = self.m[order], self.v[order], self.t[order]
            return
        for state in (self.m, self.v, self.t):
            state[batch] = state[batch][order]

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


Hook = Callable[[Scene, np.ndarray, np.ndarray], Scene | Relocated]  # relocate(scene, image, target) of fit


@dataclass(frozen=True)
class FitStep:
    """What :func:`fit` tells its callback after each step (:func:`fit_batch`: one per picture)."""

    step: int
    loss: float
    mse: float
    scene: Scene  # the scene this step evaluated
    picture: int = 0  # its index in the batch of :func:`fit_batch`


@dataclass
class FitResult:
    """Outcome of :func:`fit` (of one picture of :func:`fit_batch`): the best scene seen
    (lowest loss), its loss and mean squared error, per-step histories, and the seconds
    from the start of the fit (of the whole batch) until this picture's fit ended."""

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
    """The nearest (..., 3, 2) slopes in which every channel changes along one direction
    (rank one, as in an SVG linear gradient); each 3 x 2 matrix on its own."""
    u, s, vt = np.linalg.svd(slopes, full_matrices=False)
    return s[..., :1, None] * u[..., :, :1] @ vt[..., :1, :]


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
    relocate: Hook | None = None,
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
    told = None if callback is None else lambda states: callback(states[0])
    hooks = None if relocate is None else [relocate]
    return fit_batch(
        [target], [scene], steps, renderer, learning_rates, final_lr_fraction, told, svg_gradients, loss, anneal,
        hooks, relocate_every,
    )[0]  # fmt: skip


def fit_batch(
    targets: Sequence[np.ndarray],
    scenes: Sequence[Scene],
    steps: int,
    renderer: Renderer | None = None,
    learning_rates: dict[str, float] | Sequence[dict[str, float]] | None = None,
    final_lr_fraction: float = 0.1,
    callback: Callable[[list[FitStep]], None] | None = None,
    svg_gradients: bool = True,
    loss: str | Loss = "mse",
    anneal: float = 1.0,
    relocate: Sequence[Hook | None] | None = None,
    relocate_every: int | None = None,
) -> list[FitResult]:
    """Fit B ``scenes`` of one structure (size, groups, counts: see
    :func:`~taichi_sdf.render.stack_parameters`) to their B ``targets`` together, as
    :func:`fit` fits one: each step renders all of them in one binned pass and
    differentiates it in one backward pass, and Adam, the bounds and the rank-one
    projection work on the parameters stacked (B, ...). Each picture's loss is taken on
    its own image against its own target, so each is fitted exactly (bitwise) as
    :func:`fit` would fit it alone; the arguments mean what they mean there.

    Per picture: ``learning_rates`` is one dict for all or a list of B; ``relocate`` is
    None or a list of B hooks (or None), each picture's own (a
    :class:`~taichi_sdf.densify.Densifier` keeps a random generator), seeing only its
    picture's scene, image and target. ``callback(states)`` runs after every step with a
    list of :class:`FitStep`, one per picture still being fitted (``FitStep.picture`` says
    which). A picture whose loss or gradient is not finite stops alone (``stopped``, its
    best scene kept) and leaves the batch; the others go on. Ctrl-C stops them all: the
    results of those still going have ``interrupted=True``. Returns B :class:`FitResult`,
    in the order of ``scenes``.
    """
    scenes, count = list(scenes), len(scenes)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not 1.0 <= anneal < math.inf:
        raise ValueError(f"anneal must be a factor of at least 1, got {anneal}")
    hooks = _hooks(relocate, relocate_every, count)
    if len(targets) != count or count == 0:
        raise ValueError(f"fit_batch takes as many targets as scenes (at least one), got {len(targets)} and {count}")
    values = stack_parameters(scenes)  # (B, ...) per key; ValueError for scenes of different structures
    _for_each_picture(count, lambda b: check_target(targets[b], scenes[b]))
    loss = get_loss(loss)
    _for_each_picture(count, lambda b: scenes[b].check_values())
    renderer = renderer or Renderer(RenderConfig())
    rates, bounds = _batch_rates(scenes[0], learning_rates, count)
    # In the render's precision, once: a float32 render would otherwise convert a float64
    # target in every step's loss.
    dtype = {"f32": np.float32, "f64": np.float64}[renderer.config.dtype]
    targets = [np.asarray(target, dtype) for target in targets]
    optimisers = {key: Adam(array.shape) for key, array in values.items()}

    results = [FitResult(scene, math.inf) for scene in scenes]
    going = list(range(count))  # the pictures still being fitted: row i of the stacked arrays is picture going[i]
    sharp_from = int(ANNEAL_SHARE * steps) if anneal > 1 else 0
    start = time.perf_counter()
    try:
        for step in range(steps):
            current = [scenes[b].with_parameters(_row(values, row)) for row, b in enumerate(going)]
            band = renderer.config.aa_width * anneal ** max(0.0, 1.0 - step / max(sharp_from, 1))
            frame = Renderer(replace(renderer.config, aa_width=band)).forward(current)
            states, image_grads = _losses(step, loss, current, frame.image, targets, going, results, sharp_from)
            grads = frame.parameter_grads(np.stack(image_grads))
            for key in values:  # a step would spread it to every value: stop with the best scene so far
                for row in np.flatnonzero(~np.isfinite(grads[key].reshape(len(going), -1)).all(axis=1)):
                    if results[going[row]].stopped is None:
                        results[going[row]].stopped = f"at step {step + 1} the gradient of {key} is not finite"
            kept = [row for row, b in enumerate(going) if results[b].stopped is None]
            images = [frame.image[row] for row in kept]
            if len(kept) < len(going):  # the pictures that stopped leave the batch
                for b in going:
                    if results[b].stopped is not None:
                        results[b].seconds = time.perf_counter() - start
                values, grads, rates = (_rows(arrays, kept) for arrays in (values, grads, rates))
                for optimiser in optimisers.values():
                    optimiser.reorder(kept)
                going = [going[row] for row in kept]
                states = [state for state in states if state.picture in going]
                if not going:
                    break
            decay = final_lr_fraction + (1 - final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * step / steps))
            for key, optimiser in optimisers.items():
                updated = optimiser.step(values[key], grads[key], decay * rates[key])
                values[key] = np.clip(updated, *bounds[key])
                if key.endswith(".slopes") and svg_gradients:
                    values[key] = rank_one(values[key])
            due = [(row, b) for row, b in enumerate(going) if hooks[b] is not None and hooks[b].due(step, steps)]
            if due:
                values = _relocate(due, hooks, scenes, values, images, targets, optimisers)
            if callback is not None:
                callback(states)
    except KeyboardInterrupt:
        for b in going:
            results[b].interrupted = True
    for b in going:
        results[b].seconds = time.perf_counter() - start
    return results


def _losses(step, loss, scenes, images, targets, going, results, sharp_from) -> tuple[list[FitStep], list]:
    """Take each picture's loss on its image (``images[row]`` for picture ``going[row]``),
    record it and the best scene in its result, or stop it where the loss is not finite;
    the FitSteps of those that go on, and every picture's image gradient (zero for those
    that stopped)."""
    states, image_grads = [], []
    for row, b in enumerate(going):
        image, result = images[row], results[b]
        value, image_grad = loss.value_and_grad(image, targets[b])
        if not math.isfinite(value):
            result.stopped = f"at step {step + 1} the loss is {value}"
            image_grads.append(np.zeros_like(image))
            continue
        image_grads.append(image_grad)
        result.losses.append(value)
        result.mses.append(value if type(loss) is MSE else float(np.mean((image - targets[b]) ** 2)))
        if step <= sharp_from or value < result.loss:  # softened steps are not compared
            result.scene, result.loss, result.mse = scenes[row], value, result.mses[-1]
        states.append(FitStep(step, value, result.mses[-1], scenes[row], b))
    return states, image_grads


def _row(values: dict[str, np.ndarray], row: int) -> dict[str, np.ndarray]:
    """One picture's parameters from the stacked (B, ...) ones."""
    return {key: value[row] for key, value in values.items()}


def _rows(values: dict[str, np.ndarray], rows: list[int]) -> dict[str, np.ndarray]:
    """The stacked arrays of the pictures in ``rows`` only."""
    return {key: value[rows] for key, value in values.items()}


def _for_each_picture(count: int, check: Callable[[int], None]) -> None:
    """Run ``check(b)`` for every picture; in a batch of several, its ValueError names the picture."""
    for b in range(count):
        try:
            check(b)
        except ValueError as error:
            if count == 1:
                raise
            raise ValueError(f"picture {b}: {error}") from None


@dataclass(frozen=True)
class _Scheduled:
    """A picture's relocate hook and the steps between its calls."""

    hook: Hook
    every: int

    def due(self, step: int, steps: int) -> bool:
        """Whether it runs after step ``step`` (from 0) of ``steps``."""
        return step % self.every == self.every - 1 and step < RELOCATE_UNTIL * steps


def _hooks(relocate, relocate_every: int | None, count: int) -> list[_Scheduled | None]:
    """Each picture's relocate hook and the steps between its calls (the hook's ``every``
    unless ``relocate_every`` is given, else 50), or None."""
    if relocate is None:
        relocate = [None] * count
    elif callable(relocate) or not isinstance(relocate, Sequence) or len(relocate) != count:
        raise ValueError(f"relocate must be None or a list of {count} hooks, one per picture (each its own)")
    hooks = []
    for hook in relocate:
        every = getattr(hook, "every", 50) if relocate_every is None else relocate_every
        if every <= 0:
            raise ValueError(f"relocate_every must be positive, got {every}")
        hooks.append(None if hook is None else _Scheduled(hook, every))
    return hooks


def _batch_rates(scene: Scene, learning_rates, count: int) -> tuple[dict[str, np.ndarray], dict[str, tuple]]:
    """Each parameter key's learning rates, (B, 1, ...) to broadcast over its stacked
    values, and bounds, from the defaults of the batch's structure (``scene``'s) and
    ``learning_rates`` (None, one dict for all pictures, or a list of one per picture)."""
    defaults, bounds = learning_rates_and_bounds(scene)
    if learning_rates is None or isinstance(learning_rates, dict):
        per_picture = [_chosen_rates(defaults, learning_rates or {})] * count
    elif not isinstance(learning_rates, Sequence) or len(learning_rates) != count:
        raise ValueError(f"learning_rates must be a dict or a list of {count} dicts, one per picture")
    else:
        per_picture = [defaults] * count

        def choose(b: int) -> None:
            per_picture[b] = _chosen_rates(defaults, learning_rates[b] or {})

        _for_each_picture(count, choose)
    shapes = scene.parameters()
    return {
        key: np.array([rates[key] for rates in per_picture]).reshape((count,) + (1,) * np.ndim(shapes[key]))
        for key in defaults
    }, bounds


def _chosen_rates(defaults: dict[str, float], chosen: dict[str, float]) -> dict[str, float]:
    """The learning rate of every key: ``defaults`` with ``chosen`` (by key or by name) over them."""
    rates = dict(defaults)
    for name, rate in chosen.items():
        keys = [key for key in rates if key == name or key.split(".")[-1] == name]
        if not keys:
            names = sorted(set(rates) | {key.split(".")[-1] for key in rates})
            raise ValueError(f"learning_rates names {name!r}, which is no parameter of the scene ({', '.join(names)})")
        number = isinstance(rate, (int, float, np.integer, np.floating)) and not isinstance(rate, bool)
        if not number or not 0 <= rate < math.inf:
            raise ValueError(f"learning_rates[{name!r}] must be a number >= 0 (a step in the parameter's units), "
                             f"got {rate!r}")  # fmt: skip
        rates.update({key: float(rate) for key in keys})
    return rates


def _relocate(due, hooks, scenes, values, images, targets, optimisers) -> dict[str, np.ndarray]:
    """Run the relocate hooks of the pictures ``due`` ((row, picture) pairs) on their
    scenes, images and targets; the stacked values with what they moved, the Adam state
    of the values a hook reordered moved along and that of the values it changed restarted."""
    reordered = {key: value.copy() for key, value in values.items()}
    moved = {key: value.copy() for key, value in values.items()}
    for row, b in due:
        relocated = hooks[b].hook(scenes[b].with_parameters(_row(values, row)), images[row], targets[b])
        if not isinstance(relocated, Relocated):
            relocated = Relocated(relocated, {})
        for key, optimiser in optimisers.items():
            if key in relocated.orders:
                optimiser.reorder(relocated.orders[key], row)
                reordered[key][row] = reordered[key][row][relocated.orders[key]]
        for key, value in relocated.scene.parameters().items():
            moved[key][row] = value
    for key, optimiser in optimisers.items():
        optimiser.restart(moved[key] != reordered[key])
    return moved
