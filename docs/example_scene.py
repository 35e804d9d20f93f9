"""The README's hand-made scene, in all three compositing modes: writes docs/example_scene.png.

python docs/example_scene.py
"""

from pathlib import Path

import numpy as np
import taichi as ti

import taichi_sdf as tsdf
from taichi_sdf.io import save_image

ti.init(arch=ti.cpu)

circles = tsdf.Circles(centres=[[40, 40], [70, 55]], radii=[28, 22], colours=[[0.9, 0.3, 0.1], [0.2, 0.5, 0.9]])
mesh = tsdf.Triangles(
    vertices=[[95, 10], [150, 10], [150, 70], [95, 70]],  # a square made of two triangles
    faces=[[0, 1, 2], [0, 2, 3]],
    colours=[[0.95, 0.8, 0.2], [0.95, 0.8, 0.2]],
)
pen = tsdf.Strokes(
    points=[[15, 95], [60, 82], [105, 100], [150, 85]],  # a polyline of three segments
    segments=[[0, 1], [1, 2], [2, 3]],
    widths=[4, 4, 4],
    colours=[[0.1, 0.1, 0.1]] * 3,
)
scene = tsdf.Scene(width=160, height=110, background=[1, 1, 1], shapes=(circles, mesh, pen))

panels = [tsdf.Renderer(tsdf.RenderConfig(mode=mode)).render(scene) for mode in ("mean", "over", "alpha")]
save_image(Path(__file__).with_name("example_scene.png"), np.concatenate(panels, axis=1))
