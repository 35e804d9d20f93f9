"""taichi_sdf: a differentiable, tile-binned 2D SDF rasterizer on Taichi.

Call ``ti.init(...)`` yourself (any arch) before rendering; importing this package does not.
"""

from taichi_sdf.render import RenderConfig, Renderer
from taichi_sdf.scene import Circles, Scene, Strokes, Triangles

__all__ = ["Circles", "RenderConfig", "Renderer", "Scene", "Strokes", "Triangles"]
