"""What every shape group shares: frozen numpy arrays, their checks, and named parameters.

A shape group (:class:`~taichi_sdf.kinds.circle.Circles`, ...) holds one kind of primitive:
its differentiable arrays (``PARAMETERS``), its integer index arrays (``INDICES``, for
shared points), and class-level facts the optimiser and the scene use (which parameters
are lengths, their learning rates and bounds).

Units: positions, radii and widths in pixels; colours in [0, 1].
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

# The largest magnitude any parameter may have: positions and sizes in pixels, colours. A
# float32 render keeps 1/16 pixel at 1e6 pixels; far beyond, squares of positions overflow
# and a shape vanishes or turns the picture black without a word.
MAX_VALUE = 1e6


def first_bad(array: np.ndarray, limit: float = MAX_VALUE) -> tuple[tuple[int, ...], float] | None:
    """The index and value of the first element of ``array`` that is not finite or lies
    beyond ``limit`` in magnitude, or None if there is none."""
    bad = ~(np.abs(array) <= limit)  # NaN compares false
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), np.shape(array)))
    return index, float(np.asarray(array)[index])


def describe_bad(name: str, index: tuple[int, ...], value: float, limit: float = MAX_VALUE) -> str:
    """One line naming a bad value: where it is and what is wrong with it."""
    where = f"{name}[{', '.join(map(str, index))}]" if index else name
    if np.isnan(value):
        return f"{where} is NaN"
    if np.isinf(value):
        return f"{where} is infinite"
    return f"{where} is {value:g}, beyond the +-{limit:g} that a float32 render holds"


def as_array(value, shape: tuple, name: str, dtype=np.float64) -> np.ndarray:
    """``value`` as an array of exactly ``shape``, or ValueError naming ``name``."""
    array = np.array(value, dtype=dtype)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return array


class ShapeGroup:
    """Shared behaviour of the shape groups (frozen dataclasses of numpy arrays).

    Subclasses list their differentiable arrays in ``PARAMETERS`` and their integer index
    arrays in ``INDICES``; ``slopes`` (linear fills) and ``opacities`` may be None.
    """

    PARAMETERS: ClassVar[tuple[str, ...]]
    INDICES: ClassVar[tuple[str, ...]] = ()
    POSITIVE: ClassVar[dict[str, str]] = {}  # sizes that must be > 0, with what to call them
    LENGTHS: ClassVar[tuple[str, ...]] = ()  # parameters in pixels (they scale with the picture)
    # Adam step sizes in natural units per step (pixels for lengths) and the ranges that
    # values are projected back into after each step, for the geometry parameters.
    LEARNING_RATES: ClassVar[dict[str, float]] = {}
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {}

    @property
    def fill(self) -> str:
        """'linear' when the group carries colour slopes, else 'flat'."""
        return "flat" if getattr(self, "slopes", None) is None else "linear"

    def parameters(self) -> dict[str, np.ndarray]:
        """The differentiable arrays present in this group, by name."""
        return {name: getattr(self, name) for name in self.PARAMETERS if getattr(self, name) is not None}

    def parameter_shape(self, name: str) -> tuple:
        """The shape parameter ``name`` has, or would have if given (slopes, opacities)."""
        value = getattr(self, name, None)
        if value is not None:
            return np.shape(value)
        return {"slopes": (len(self), 3, 2), "opacities": (len(self),)}[name]

    def with_parameters(self, values: dict[str, np.ndarray]) -> ShapeGroup:
        """A copy with some parameter arrays replaced (same shapes)."""
        return dataclasses.replace(self, **values)

    def structure(self) -> tuple:
        """What a batch of groups must share to render in one pass: the type, the number
        of primitives, which optional parameters are present and the index arrays."""
        present = tuple(name for name in self.PARAMETERS if getattr(self, name) is not None)
        indices = tuple(getattr(self, name).tobytes() for name in self.INDICES)
        shapes = tuple(np.shape(getattr(self, name)) for name in present)
        return (type(self), len(self), present, shapes, indices)

    def opacity_array(self) -> np.ndarray:
        """Per-primitive opacity; ones when the group has none."""
        opacities = getattr(self, "opacities", None)
        return np.ones(len(self)) if opacities is None else opacities

    def check_values(self, name: str) -> None:
        """Raise ValueError naming the problem if a value cannot be rendered."""
        for key, array in self.parameters().items():
            bad = first_bad(array)
            if bad is not None:
                raise ValueError(describe_bad(f"{name}.{key}", *bad))
        if len(self) == 0:
            raise ValueError(f"{name} has no primitives")
        for key, what in self.POSITIVE.items():
            if np.any(getattr(self, key) <= 0):
                raise ValueError(f"{name}: {what} must be positive")
        opacities = getattr(self, "opacities", None)
        if opacities is not None and np.any((opacities < 0) | (opacities > 1)):
            raise ValueError(f"{name}: opacities must lie in [0, 1]")


def set_indexed_points(group, points_name: str, index_name: str, corners: int) -> None:
    """Validate and store a (P, 2) point array and an (n, corners) array indexing it."""
    points = np.array(getattr(group, points_name), dtype=np.float64)
    index = np.array(getattr(group, index_name))
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"{points_name} must have shape (N, 2), got {points.shape}")
    if index.ndim != 2 or index.shape[1] != corners or not np.issubdtype(index.dtype, np.integer):
        raise ValueError(
            f"{index_name} must be an integer array of shape (N, {corners}), got {index.dtype} {index.shape}"
        )
    if index.size and (index.min() < 0 or index.max() >= len(points)):
        raise ValueError(f"{index_name} refer to {points_name} that do not exist")
    object.__setattr__(group, points_name, points)
    object.__setattr__(group, index_name, index.astype(np.int32))


def set_optional(group, name: str, shape: tuple) -> None:
    """Validate and store an optional array (None, or a group without it, stays so)."""
    value = getattr(group, name, None)
    if value is not None:
        object.__setattr__(group, name, as_array(value, shape, name))


def set_fill(group, n: int) -> None:
    """Validate and store the fill arrays every group has: colours (n, 3), optional slopes
    (n, 3, 2) and opacities (n,)."""
    object.__setattr__(group, "colours", as_array(group.colours, (n, 3), "colours"))
    set_optional(group, "slopes", (n, 3, 2))
    set_optional(group, "opacities", (n,))


class PenGroup(ShapeGroup):
    """Pen strokes: shared ``points`` (Q, 2) used by each stroke through an index array
    (``INDEX``, (N, CORNERS)), so chains of strokes share their joints; ``widths`` (N,) the
    full width in pixels; flat ``colours`` (N, 3) and optional ``opacities`` (N,)."""

    INDEX: ClassVar[str]
    CORNERS: ClassVar[int]
    PARAMETERS: ClassVar = ("points", "widths", "colours", "opacities")
    POSITIVE: ClassVar = {"widths": "stroke widths"}
    LENGTHS: ClassVar = ("points", "widths")
    LEARNING_RATES: ClassVar = {"points": 1.0, "widths": 0.2}
    BOUNDS: ClassVar = {"widths": (0.5, np.inf)}

    def __post_init__(self):
        set_indexed_points(self, "points", self.INDEX, self.CORNERS)
        n = len(getattr(self, self.INDEX))
        object.__setattr__(self, "widths", as_array(self.widths, (n,), "widths"))
        set_fill(self, n)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.INDICES = (cls.INDEX,)

    def __len__(self) -> int:
        return len(getattr(self, self.INDEX))
