"""The scene: plain numpy arrays describing primitives, with save/load to ``.npz``.

Units: positions, radii and widths in pixels of the target image (x to the right, y down,
pixel ``(row i, column j)`` centred at ``(j + 0.5, i + 0.5)``); colours in [0, 1].

A scene is a background colour and a sequence of shape groups (one per primitive kind,
see :mod:`taichi_sdf.kinds`: :class:`Circles`, :class:`Triangles`, :class:`Strokes`,
:class:`QuadraticCurves`, :class:`CubicCurves`, :class:`Ellipses`, :class:`Rectangles`,
:class:`Paths`)
drawn in order: later groups, and later primitives inside a group, are on top. Every
group stores its differentiable values as named arrays (:meth:`Scene.parameters`) so that
optimisers and gradients treat all groups alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taichi_sdf.groups import ShapeGroup, as_array, describe_bad, first_bad
from taichi_sdf.kinds import (
    GROUP_TYPES,
    Circles,
    CubicCurves,
    Ellipses,
    Paths,
    QuadraticCurves,
    Rectangles,
    Strokes,
    Triangles,
)

__all__ = [
    "Circles",
    "CubicCurves",
    "Ellipses",
    "Paths",
    "QuadraticCurves",
    "Rectangles",
    "Scene",
    "ShapeGroup",
    "Strokes",
    "Triangles",
]

MAX_SIDE = 1 << 16  # pixels: a scene's width or height at most


def _side(value, name: str) -> int:
    """An image side in pixels as an int, or ValueError naming ``name`` unless it is a whole
    number from 1 to :data:`MAX_SIDE`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"the image {name} must be a whole number of pixels, got {value!r}") from None
    if not 1 <= number <= MAX_SIDE or number != int(number):  # NaN fails the first test
        raise ValueError(f"the image {name} must be a whole number of pixels from 1 to {MAX_SIDE}, got {value!r}")
    return int(number)


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
        object.__setattr__(self, "width", _side(self.width, "width"))
        object.__setattr__(self, "height", _side(self.height, "height"))
        object.__setattr__(self, "background", as_array(self.background, (3,), "background"))
        shapes = (self.shapes,) if isinstance(self.shapes, ShapeGroup) else tuple(self.shapes)
        for group in shapes:
            if not isinstance(group, ShapeGroup):
                raise TypeError(f"shapes must be shape groups ({', '.join(GROUP_TYPES)}), got {type(group).__name__}")
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
        values = {"background": self.background}
        for index, group in enumerate(self.shapes):
            for name, value in group.parameters().items():
                values[f"{index}.{name}"] = value * factor if name in group.LENGTHS else value
        size = {"width": max(1, round(self.width * factor)), "height": max(1, round(self.height * factor))}
        return self.with_parameters(values).replace(**size)

    def structure(self) -> tuple:
        """What scenes rendered in one batch must share (see :meth:`ShapeGroup.structure`)."""
        return (self.width, self.height, tuple(group.structure() for group in self.shapes))

    def check_values(self) -> None:
        """Raise ValueError naming the problem if any value cannot be rendered."""
        bad = first_bad(self.background)
        if bad is not None:
            raise ValueError(describe_bad("background", *bad))
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
        with open(path, "wb") as file:  # exactly this path (np.savez would add .npz to a name without it)
            np.savez(file, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Scene:
        """Read a scene written by :meth:`save`, checked (:meth:`check_values`). ValueError,
        one line naming the file, for a file that is not one or holds values a scene cannot
        have. Never unpickles: an array of Python objects is refused, not run."""
        try:
            data = np.load(path)  # allow_pickle=False
        except Exception as error:  # numpy and zipfile raise many types for a broken file
            raise ValueError(f"{path}: not a taichi_sdf params file ({type(error).__name__})") from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: not a taichi_sdf params file (one array, not an archive of them)")

        def read(key: str) -> np.ndarray:
            if key not in data.files:
                raise ValueError(f"not a taichi_sdf params file (it has no {key!r})")
            try:
                return data[key]
            except ValueError:  # an array of Python objects, which only unpickling would read
                raise ValueError(f"{key} holds pickled Python objects, which are never loaded") from None

        try:
            with data:
                shapes = []
                for index, kind in enumerate(read("groups")):
                    group_type = GROUP_TYPES.get(str(kind))
                    if group_type is None:
                        raise ValueError(f"unknown shape group {str(kind)!r}")
                    fields = [f.name for f in dataclasses.fields(group_type)]
                    values = {name: read(f"{index}.{name}") for name in fields if f"{index}.{name}" in data.files}
                    shapes.append(group_type(**values))
                scene = cls(read("width").item(), read("height").item(), read("background"), tuple(shapes))
            scene.check_values()
        except (ValueError, TypeError) as error:  # and values a scene cannot have
            raise ValueError(f"{path}: {error}") from None
        except Exception as error:  # a broken archive member
            raise ValueError(f"{path}: not a taichi_sdf params file ({type(error).__name__})") from None
        return scene

    @staticmethod
    def metadata(path: str | Path) -> dict[str, str]:
        """The metadata strings stored by :meth:`save`."""
        with np.load(path) as data:
            return {key[len("meta.") :]: str(data[key]) for key in data.files if key.startswith("meta.")}
