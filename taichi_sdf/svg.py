"""SVG export of a scene: vector output to view, edit or print at any size.

SVG paints shapes in order with alpha compositing, so an exported scene looks like the
renderer's ``mode="alpha"`` (and, for opaque shapes that do not share edges, like ``over``).
A linear fill becomes a ``<linearGradient>`` in user space along the direction in which the
colour changes most; it is exact when every channel changes along the same direction
(slope matrix of rank one), which includes flat fills.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import numpy as np

from taichi_sdf.scene import Circles, Scene, Strokes, Triangles


def _colour(rgb: np.ndarray) -> str:
    r, g, b = (int(round(255 * float(np.clip(c, 0.0, 1.0)))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _number(value: float) -> str:
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


def _gradient(gid: str, anchor, scale: float, base, slope, corners: np.ndarray) -> str:
    """A userSpaceOnUse linearGradient approximating base + slope @ (p - anchor) / scale
    over the points ``corners`` (the shape's extent)."""
    _, _, directions = np.linalg.svd(slope)
    direction = directions[0]
    along = (corners - anchor) @ direction / scale
    start, end = along.min(), along.max()
    if end - start < 1e-9:
        end = start + 1.0
    p0, p1 = anchor + start * scale * direction, anchor + end * scale * direction
    c0, c1 = base + slope @ direction * start, base + slope @ direction * end
    return (
        f'<linearGradient id="{gid}" gradientUnits="userSpaceOnUse" x1="{_number(p0[0])}" y1="{_number(p0[1])}" '
        f'x2="{_number(p1[0])}" y2="{_number(p1[1])}"><stop offset="0" stop-color="{_colour(c0)}"/>'
        f'<stop offset="1" stop-color="{_colour(c1)}"/></linearGradient>'
    )


def scene_to_svg(scene: Scene) -> str:
    """The scene as an SVG document of its width x height, background first."""
    definitions, shapes = [], []
    for g, group in enumerate(scene.shapes):
        opacities = group.opacity_array()
        for i in range(len(group)):
            paint = _colour(group.colours[i])
            if group.fill == "linear":
                gid = f"g{g}_{i}"
                if isinstance(group, Circles):
                    anchor, scale = group.centres[i], group.radii[i]
                    extent = anchor + scale * np.array([[1, 0], [-1, 0], [0, 1], [0, -1.0]])
                else:
                    extent = group.vertices[group.faces[i]]
                    anchor = extent.mean(axis=0)
                    scale = np.sqrt(np.mean(np.sum((extent - anchor) ** 2, axis=1)))
                definitions.append(_gradient(gid, anchor, scale, group.colours[i], group.slopes[i], extent))
                paint = f"url(#{gid})"
            opacity = _number(opacities[i])
            if isinstance(group, Circles):
                (cx, cy), r = group.centres[i], group.radii[i]
                shapes.append(
                    f'<circle cx="{_number(cx)}" cy="{_number(cy)}" r="{_number(r)}" fill="{paint}" '
                    f'fill-opacity="{opacity}"/>'
                )
            elif isinstance(group, Triangles):
                points = " ".join(f"{_number(x)},{_number(y)}" for x, y in group.vertices[group.faces[i]])
                shapes.append(f'<polygon points="{points}" fill="{paint}" fill-opacity="{opacity}"/>')
            elif isinstance(group, Strokes):
                (x1, y1), (x2, y2) = group.points[group.segments[i]]
                shapes.append(
                    f'<line x1="{_number(x1)}" y1="{_number(y1)}" x2="{_number(x2)}" y2="{_number(y2)}" '
                    f'stroke="{paint}" stroke-width="{_number(group.widths[i])}" stroke-linecap="round" '
                    f'stroke-opacity="{opacity}"/>'
                )
    width, height = scene.width, scene.height
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    )
    defs = f"<defs>{''.join(definitions)}</defs>" if definitions else ""
    background = (
        f'<rect width={quoteattr(str(width))} height={quoteattr(str(height))} fill="{_colour(scene.background)}"/>'
    )
    return "\n".join([header, defs, background, *shapes, "</svg>"]) + "\n"


def save_svg(scene: Scene, path) -> None:
    """Write :func:`scene_to_svg` to ``path``."""
    with open(path, "w", encoding="utf-8") as file:
        file.write(scene_to_svg(scene))
