"""The primitive kinds, one module each, and their registry.

Adding a kind means writing its module (scene group, Taichi coverage with gradient,
footprint, fill frame, numpy reference; see :mod:`taichi_sdf.kinds.base`) and listing
its ``KIND`` in :data:`KINDS`.
"""

from taichi_sdf.kinds import bezier, circle, ellipse, path, rect, segment, triangle
from taichi_sdf.kinds.base import Kind, Take
from taichi_sdf.kinds.bezier import CubicCurves, QuadraticCurves
from taichi_sdf.kinds.circle import Circles
from taichi_sdf.kinds.ellipse import Ellipses
from taichi_sdf.kinds.path import Paths
from taichi_sdf.kinds.rect import Rectangles
from taichi_sdf.kinds.segment import Strokes
from taichi_sdf.kinds.triangle import Triangles

KINDS: tuple[Kind, ...] = (
    circle.KIND, triangle.KIND, segment.KIND, bezier.QUADRATIC, bezier.CUBIC, ellipse.KIND, rect.KIND, path.KIND,
)  # fmt: skip
GEOMETRY_SIZE = max(kind.geometry_size for kind in KINDS)  # geometry columns of the table

_BY_GROUP = {kind.group: kind for kind in KINDS}
GROUP_TYPES = {kind.group.__name__: kind.group for kind in KINDS}
assert sorted(kind.code for kind in KINDS) == list(range(len(KINDS))), "kind codes must be 0, 1, 2, ..."


def kind_of(group) -> Kind:
    """The kind of a shape group (an instance or its type)."""
    return _BY_GROUP[group if isinstance(group, type) else type(group)]


__all__ = [
    "GEOMETRY_SIZE",
    "GROUP_TYPES",
    "KINDS",
    "Circles",
    "CubicCurves",
    "Ellipses",
    "Kind",
    "Paths",
    "QuadraticCurves",
    "Rectangles",
    "Strokes",
    "Take",
    "Triangles",
    "kind_of",
]
