"""taichi_sdf: a differentiable, tile-binned 2D SDF rasterizer on Taichi.

Call ``ti.init(...)`` yourself (any arch) before rendering; importing this package does not.
"""

from taichi_sdf.config import RenderConfig
from taichi_sdf.render import Frame, Renderer
from taichi_sdf.scene import Circles, CubicCurves, QuadraticCurves, Scene, Strokes, Triangles

__all__ = [
    "Circles",
    "CubicCurves",
    "Frame",
    "QuadraticCurves",
    "RenderConfig",
    "Renderer",
    "Scene",
    "Strokes",
    "Triangles",
]
