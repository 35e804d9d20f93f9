"""taichi_sdf: a differentiable, tile-binned 2D SDF rasterizer on Taichi.

Call ``ti.init(...)`` yourself (any arch) before rendering; importing this package does not.
The names below load their modules on first use, so that importing the package (or its
command-line front end, :mod:`taichi_sdf.app`) does not load Taichi before it is needed.
"""

import importlib

_HOMES = {
    "Circles": "taichi_sdf.scene",
    "CubicCurves": "taichi_sdf.scene",
    "Ellipses": "taichi_sdf.scene",
    "Frame": "taichi_sdf.render",
    "Paths": "taichi_sdf.scene",
    "QuadraticCurves": "taichi_sdf.scene",
    "Rectangles": "taichi_sdf.scene",
    "RenderConfig": "taichi_sdf.config",
    "Renderer": "taichi_sdf.render",
    "Scene": "taichi_sdf.scene",
    "Strokes": "taichi_sdf.scene",
    "Triangles": "taichi_sdf.scene",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'taichi_sdf' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__():
    return sorted(set(globals()) | set(__all__))
