"""Signed distance functions in pixel units, negative inside."""

import taichi as ti


@ti.func
def sdf_circle(p, centre, radius):
    """Signed distance from point ``p`` to a circle."""
    return (p - centre).norm() - radius


@ti.func
def safe_norm(v):
    """Euclidean norm whose autodiff gradient is 0, not NaN, at exactly zero."""
    return ti.sqrt(ti.max(v.dot(v), 1e-30))


@ti.func
def segment_distance(p, a, b):
    """Unsigned distance from ``p`` to the segment ``a``-``b`` (a point if a == b)."""
    ab = b - a
    length_sq = ab.dot(ab)
    t = 0.0
    if length_sq > 0.0:
        t = ti.math.clamp((p - a).dot(ab) / length_sq, 0.0, 1.0)
    return safe_norm(p - a - t * ab)


@ti.func
def sdf_capsule(p, a, b, half_width):
    """Signed distance to a stroke from ``a`` to ``b`` with round caps, ``half_width`` thick each side."""
    return segment_distance(p, a, b) - half_width


@ti.func
def sdf_triangle(p, a, b, c):
    """Exact signed distance from ``p`` to the triangle ``a, b, c`` (either winding).

    The nearest edge decides. Where the nearest point lies inside that edge, the distance
    is the signed distance to the edge's line (negative on the triangle's side), which is
    smooth across the edge, so its gradient is right even for pixels exactly on it; where
    it is a vertex, the distance to that vertex (always outside).
    """
    corners = ti.Matrix.rows([a, b, c])
    ab, ac = b - a, c - a
    orientation = ti.math.sign(ab[0] * ac[1] - ab[1] * ac[0])
    nearest_sq = 1e30
    result = 0.0
    for k in ti.static(range(3)):
        start = ti.Vector([corners[k, 0], corners[k, 1]])
        edge = ti.Vector([corners[(k + 1) % 3, 0], corners[(k + 1) % 3, 1]]) - start
        v = p - start
        t = v.dot(edge) / edge.dot(edge)
        closest = v - edge * ti.math.clamp(t, 0.0, 1.0)
        distance_sq = closest.dot(closest)
        if distance_sq < nearest_sq:
            nearest_sq = distance_sq
            if 0.0 < t < 1.0:
                result = -orientation * (edge[0] * v[1] - edge[1] * v[0]) / edge.norm()
            else:
                result = safe_norm(closest)
    return result
