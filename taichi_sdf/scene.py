"""The scene: plain numpy arrays describing primitives, with save/load to ``.npz``.

Units: positions and radii in pixels of the target image (x to the right, y down, pixel
``(row i, column j)`` centred at ``(j + 0.5, i + 0.5)``); colours linear in [0, 1].
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILLS = ("flat", "linear")


def _as_array(value, shape: tuple, name: str) -> np.ndarray:
    array = np.array(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return array


@dataclass(frozen=True)
class Circles:
    """N disks with a flat or linear-gradient fill.

    centres: (N, 2) pixels.  radii: (N,) pixels.  colours: (N, 3), the colour at the centre.
    slopes: (N, 3, 2) or None. With slopes the fill is linear,
    ``colour(p) = colours + slopes @ (p - centre) / radius``; without, it is flat.
    """

    centres: np.ndarray
    radii: np.ndarray
    colours: np.ndarray
    slopes: np.ndarray | None = None

    def __post_init__(self):
        n = len(np.atleast_1d(self.radii))
        object.__setattr__(self, "centres", _as_array(self.centres, (n, 2), "centres"))
        object.__setattr__(self, "radii", _as_array(self.radii, (n,), "radii"))
        object.__setattr__(self, "colours", _as_array(self.colours, (n, 3), "colours"))
        if self.slopes is not None:
            object.__setattr__(self, "slopes", _as_array(self.slopes, (n, 3, 2), "slopes"))

    def __len__(self) -> int:
        return len(self.radii)

    @property
    def fill(self) -> str:
        """'linear' when the circles carry colour slopes, else 'flat'."""
        return "flat" if self.slopes is None else "linear"

    @staticmethod
    def param_groups(fill: str) -> dict[str, slice]:
        """Columns of :meth:`pack`'s (N, P) matrix, by parameter group."""
        groups = {"centres": slice(0, 2), "radii": slice(2, 3), "colours": slice(3, 6)}
        if fill == "linear":
            groups["slopes"] = slice(6, 12)
        return groups

    def pack(self) -> np.ndarray:
        """All parameters as one (N, P) float64 matrix, P = 6 (flat) or 12 (linear)."""
        columns = [self.centres, self.radii[:, None], self.colours]
        if self.slopes is not None:
            columns.append(self.slopes.reshape(len(self), 6))
        return np.concatenate(columns, axis=1)

    @classmethod
    def unpack(cls, packed: np.ndarray, fill: str) -> Circles:
        """Inverse of :meth:`pack`."""
        groups = cls.param_groups(fill)
        slopes = packed[:, groups["slopes"]].reshape(-1, 3, 2) if fill == "linear" else None
        return cls(packed[:, groups["centres"]], packed[:, 2], packed[:, groups["colours"]], slopes)


@dataclass(frozen=True)
class Scene:
    """What the renderer draws: an image size, a background colour and the primitives.

    ``width``/``height`` are the image size in pixels; ``background`` is an RGB colour.
    The same type carries gradients (``Renderer.backward`` returns a Scene of them).
    """

    width: int
    height: int
    background: np.ndarray
    circles: Circles

    def __post_init__(self):
        if int(self.width) < 1 or int(self.height) < 1:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))
        object.__setattr__(self, "background", _as_array(self.background, (3,), "background"))

    @property
    def fill(self) -> str:
        return self.circles.fill

    def replace(self, **changes) -> Scene:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def check_values(self) -> None:
        """Raise ValueError naming the problem if any value cannot be rendered."""
        for name, array in self._arrays().items():
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name} contains NaN or infinite values")
        if len(self.circles) == 0:
            raise ValueError("the scene has no circles")
        if np.any(self.circles.radii <= 0):
            raise ValueError("circle radii must be positive")

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {"background": self.background}
        for field in dataclasses.fields(Circles):
            value = getattr(self.circles, field.name)
            if value is not None:
                arrays[f"circles.{field.name}"] = value
        return arrays

    def save(self, path: str | Path) -> None:
        """Write the scene to an ``.npz`` file (loadable by :meth:`load`)."""
        np.savez(path, width=self.width, height=self.height, **self._arrays())

    @classmethod
    def load(cls, path: str | Path) -> Scene:
        """Read a scene written by :meth:`save`."""
        with np.load(path) as data:
            slopes = data["circles.slopes"] if "circles.slopes" in data else None
            circles = Circles(
                data["circles.centres"], data["circles.radii"], data["circles.colours"], slopes
            )
            return cls(int(data["width"]), int(data["height"]), data["background"], circles)
