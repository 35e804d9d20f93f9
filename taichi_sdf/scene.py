"""The scene: plain numpy arrays describing primitives, with save/load to ``.npz``.

Units: positions, radii and widths in pixels of the target image (x to the right, y down,
pixel ``(row i, column j)`` centred at ``(j + 0.5, i + 0.5)``); colours in [0, 1].

A scene is a background colour and a sequence of shape groups (:class:`Circles`,
:class:`Triangles`, :class:`Strokes`) drawn in order: later groups, and later primitives
inside a group, are on top. Every group stores its differentiable values as named arrays
(:meth:`parameters`) so that optimisers and gradients treat all groups alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np


def _as_array(value, shape: tuple, name: str, dtype=np.float64) -> np.ndarray:
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

    @property
    def fill(self) -> str:
        """'linear' when the group carries colour slopes, else 'flat'."""
        return "flat" if getattr(self, "slopes", None) is None else "linear"

    def parameters(self) -> dict[str, np.ndarray]:
        """The differentiable arrays present in this group, by name."""
        return {name: getattr(self, name) for name in self.PARAMETERS if getattr(self, name) is not None}

    def with_parameters(self, values: dict[str, np.ndarray]) -> ShapeGroup:
        """A copy with some parameter arrays replaced (same shapes)."""
        return dataclasses.replace(self, **values)

    def opacity_array(self) -> np.ndarray:
        """Per-primitive opacity; ones when the group has none."""
        opacities = getattr(self, "opacities", None)
        return np.ones(len(self)) if opacities is None else opacities

    def check_values(self, name: str) -> None:
        for key, array in self.parameters().items():
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name}.{key} contains NaN or infinite values")
        if len(self) == 0:
            raise ValueError(f"{name} has no primitives")
        for key, what in self.POSITIVE.items():
            if np.any(getattr(self, key) <= 0):
                raise ValueError(f"{name}: {what} must be positive")


def triangle_frames(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear-fill anchors (centroids, (F, 2)) and sizes (RMS vertex distance from the
    centroid, (F,)) of triangles given as (F, 3, 2) corner arrays."""
    centroids = corners.mean(axis=1)
    return centroids, np.sqrt(np.mean(np.sum((corners - centroids[:, None]) ** 2, axis=2), axis=1))


def doubled_signed_areas(corners: np.ndarray) -> np.ndarray:
    """Twice the signed area of triangles given as (F, 3, 2) corner arrays."""
    ab, ac = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    return ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0]


def _set_indexed_points(group, points_name: str, index_name: str, corners: int) -> None:
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


def _optional(group, name: str, shape: tuple) -> None:
    value = getattr(group, name)
    if value is not None:
        object.__setattr__(group, name, _as_array(value, shape, name))


@dataclass(frozen=True)
class Circles(ShapeGroup):
    """N disks. centres (N, 2), radii (N,), colours (N, 3) at the centre; optional slopes
    (N, 3, 2) for a linear fill ``colour + slopes @ (p - centre) / radius`` and opacities (N,).
    """

    centres: np.ndarray
    radii: np.ndarray
    colours: np.ndarray
    slopes: np.ndarray | None = None
    opacities: np.ndarray | None = None

    PARAMETERS: ClassVar = ("centres", "radii", "colours", "slopes", "opacities")
    POSITIVE: ClassVar = {"radii": "circle radii"}

    def __post_init__(self):
        n = len(np.atleast_1d(self.radii))
        object.__setattr__(self, "centres", _as_array(self.centres, (n, 2), "centres"))
        object.__setattr__(self, "radii", _as_array(self.radii, (n,), "radii"))
        object.__setattr__(self, "colours", _as_array(self.colours, (n, 3), "colours"))
        _optional(self, "slopes", (n, 3, 2))
        _optional(self, "opacities", (n,))

    def __len__(self) -> int:
        return len(self.radii)

    def fill_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """Anchor (N, 2) and size (N,) of each linear fill: centres and radii."""
        return self.centres, self.radii


@dataclass(frozen=True)
class Triangles(ShapeGroup):
    """A triangle mesh: vertices (V, 2) shared by faces (F, 3) of vertex indices.

    colours (F, 3) per face at its centroid; optional slopes (F, 3, 2) for a linear fill
    ``colour + slopes @ (p - centroid) / size`` (size: RMS distance of the vertices from the
    centroid) and opacities (F,). Free triangles are a mesh whose faces share no vertices.
    Either winding is fine.
    """

    vertices: np.ndarray
    faces: np.ndarray
    colours: np.ndarray
    slopes: np.ndarray | None = None
    opacities: np.ndarray | None = None

    PARAMETERS: ClassVar = ("vertices", "colours", "slopes", "opacities")
    INDICES: ClassVar = ("faces",)

    def __post_init__(self):
        _set_indexed_points(self, "vertices", "faces", 3)
        n = len(self.faces)
        object.__setattr__(self, "colours", _as_array(self.colours, (n, 3), "colours"))
        _optional(self, "slopes", (n, 3, 2))
        _optional(self, "opacities", (n,))

    def __len__(self) -> int:
        return len(self.faces)

    def fill_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """Anchor (F, 2) and size (F,) of each linear fill: centroids and RMS vertex distances."""
        return triangle_frames(self.vertices[self.faces])

    def unshared(self) -> Triangles:
        """The same triangles, each with its own three vertices (free to move apart)."""
        return dataclasses.replace(
            self, vertices=self.vertices[self.faces].reshape(-1, 2), faces=np.arange(3 * len(self)).reshape(-1, 3)
        )

    def check_values(self, name: str) -> None:
        super().check_values(name)
        doubled_area = np.abs(doubled_signed_areas(self.vertices[self.faces]))
        if np.any(doubled_area <= 1e-9):
            raise ValueError(f"{name}: degenerate triangle (zero area) at face {int(np.argmin(doubled_area))}")


@dataclass(frozen=True)
class Strokes(ShapeGroup):
    """Line segments with round caps (capsules): points (Q, 2) shared by segments (S, 2) of
    point indices, so a polyline is a chain of segments sharing its points. widths (S,) is
    the full stroke width in pixels; colours (S, 3) flat; optional opacities (S,).
    """

    points: np.ndarray
    segments: np.ndarray
    widths: np.ndarray
    colours: np.ndarray
    opacities: np.ndarray | None = None

    PARAMETERS: ClassVar = ("points", "widths", "colours", "opacities")
    POSITIVE: ClassVar = {"widths": "stroke widths"}
    INDICES: ClassVar = ("segments",)

    def __post_init__(self):
        _set_indexed_points(self, "points", "segments", 2)
        n = len(self.segments)
        object.__setattr__(self, "widths", _as_array(self.widths, (n,), "widths"))
        object.__setattr__(self, "colours", _as_array(self.colours, (n, 3), "colours"))
        _optional(self, "opacities", (n,))

    def __len__(self) -> int:
        return len(self.segments)


GROUP_TYPES = {cls.__name__: cls for cls in (Circles, Triangles, Strokes)}
LENGTHS = ("centres", "radii", "vertices", "points", "widths")  # parameters in pixels


@dataclass(frozen=True)
class Scene:
    """What the renderer draws: an image size, a background colour and shape groups.

    ``width``/``height`` are the image size in pixels; ``background`` an RGB colour;
    ``shapes`` a tuple of groups drawn in order. The same type carries gradients
    (``Renderer.backward`` returns a Scene whose parameter arrays hold them).
    """

    width: int
    height: int
    background: np.ndarray
    shapes: tuple

    def __post_init__(self):
        if int(self.width) < 1 or int(self.height) < 1:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))
        object.__setattr__(self, "background", _as_array(self.background, (3,), "background"))
        shapes = (self.shapes,) if isinstance(self.shapes, ShapeGroup) else tuple(self.shapes)
        for group in shapes:
            if not isinstance(group, ShapeGroup):
                raise TypeError(f"shapes must be Circles, Triangles or Strokes, got {type(group).__name__}")
        object.__setattr__(self, "shapes", shapes)

    def __len__(self) -> int:
        """Number of primitives in all groups."""
        return sum(len(group) for group in self.shapes)

    @property
    def fill(self) -> str:
        """'linear' if any group has linear fills, else 'flat'."""
        return "linear" if any(group.fill == "linear" for group in self.shapes) else "flat"

    def replace(self, **changes) -> Scene:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def parameters(self) -> dict[str, np.ndarray]:
        """All differentiable arrays, keyed ``"<group index>.<name>"``, plus ``"background"``."""
        values = {"background": self.background}
        for index, group in enumerate(self.shapes):
            values.update({f"{index}.{name}": array for name, array in group.parameters().items()})
        return values

    def with_parameters(self, values: dict[str, np.ndarray]) -> Scene:
        """A copy with the arrays named as in :meth:`parameters` replaced."""
        shapes = []
        for index, group in enumerate(self.shapes):
            prefix = f"{index}."
            own = {key[len(prefix) :]: value for key, value in values.items() if key.startswith(prefix)}
            shapes.append(group.with_parameters(own))
        return self.replace(background=values.get("background", self.background), shapes=tuple(shapes))

    def scaled(self, factor: float) -> Scene:
        """The scene drawn ``factor`` times larger: positions and sizes scale, colours and
        gradients (which are per radius or triangle size) do not."""
        values = {
            key: value * factor if key.split(".")[-1] in LENGTHS else value for key, value in self.parameters().items()
        }
        size = {"width": max(1, round(self.width * factor)), "height": max(1, round(self.height * factor))}
        return self.with_parameters(values).replace(**size)

    def check_values(self) -> None:
        """Raise ValueError naming the problem if any value cannot be rendered."""
        if not np.all(np.isfinite(self.background)):
            raise ValueError("background contains NaN or infinite values")
        if len(self.shapes) == 0:
            raise ValueError("the scene has no shapes")
        for index, group in enumerate(self.shapes):
            group.check_values(f"shapes[{index}] ({type(group).__name__})")

    def save(self, path: str | Path, **metadata: str) -> None:
        """Write the scene to an ``.npz`` file (loadable by :meth:`load`), with optional
        string ``metadata`` such as the compositing mode (read back by :meth:`metadata`)."""
        arrays = {"width": self.width, "height": self.height, "background": self.background}
        arrays.update({f"meta.{key}": np.array(str(value)) for key, value in metadata.items()})
        arrays["groups"] = np.array([type(group).__name__ for group in self.shapes])
        for index, group in enumerate(self.shapes):
            for name in group.PARAMETERS + group.INDICES:
                value = getattr(group, name)
                if value is not None:
                    arrays[f"{index}.{name}"] = value
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Scene:
        """Read a scene written by :meth:`save`."""
        with np.load(path) as data:
            shapes = []
            for index, kind in enumerate(data["groups"]):
                group_type = GROUP_TYPES[str(kind)]
                fields = {f.name for f in dataclasses.fields(group_type)}
                values = {name: data[f"{index}.{name}"] for name in fields if f"{index}.{name}" in data}
                shapes.append(group_type(**values))
            return cls(int(data["width"]), int(data["height"]), data["background"], tuple(shapes))

    @staticmethod
    def metadata(path: str | Path) -> dict[str, str]:
        """The metadata strings stored by :meth:`save`."""
        with np.load(path) as data:
            return {key[len("meta.") :]: str(data[key]) for key in data.files if key.startswith("meta.")}
