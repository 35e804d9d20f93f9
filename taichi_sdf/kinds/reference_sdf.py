"""Numpy twins (float64, brute force) of the coverage profile and the distance functions:
the pieces of the reference renderer that every kind's ``reference_coverage`` uses."""

import numpy as np


def smooth_step(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def coverage(signed_distance: np.ndarray, aa_width: float) -> np.ndarray:
    """Coverage in [0, 1] at a signed distance (pixels, negative inside) from an edge."""
    return smooth_step(0.5 - 0.5 * signed_distance / aa_width)


def band_coverage(distance: np.ndarray, half_width: float, aa_width: float) -> np.ndarray:
    """Coverage of a stroke of ``half_width`` at an unsigned ``distance`` from its centre line."""
    return coverage(distance - half_width, aa_width) - coverage(distance + half_width, aa_width)


def segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from (..., 2) points to the segment a-b."""
    ab = b - a
    t = np.clip(np.sum((points - a) * ab, axis=-1) / max(np.dot(ab, ab), 1e-300), 0.0, 1.0)
    return np.linalg.norm(points - a - t[..., None] * ab, axis=-1)


def triangle_sdf(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Exact signed distance to a triangle: distance to the nearest edge, negative inside."""
    distance = np.min([segment_distance(points, corners[k], corners[(k + 1) % 3]) for k in range(3)], axis=0)
    signs = []
    for k in range(3):
        a, b = corners[k], corners[(k + 1) % 3]
        signs.append(np.sign((b[0] - a[0]) * (points[..., 1] - a[1]) - (b[1] - a[1]) * (points[..., 0] - a[0])))
    inside = np.all(np.array(signs) >= 0, axis=0) | np.all(np.array(signs) <= 0, axis=0)
    return np.where(inside, -distance, distance)


def quadratic_parameters(points: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    """Parameters in [0, 1], each (n,), among which lies the nearest point of the quadratic
    Bézier a-b-c to each of the (n, 2) ``points``: the real roots of d/dt |B(t) - p|^2 = 0
    (eigenvalues of its companion matrix), the chord's projection and the ends, each polished
    by Newton steps and clamped to [0, 1]. Clamped to [t0, t1] they hold the nearest point of
    the arc B([t0, t1]) too (the distance is least at a root or an end)."""
    c1, c2, d = 2.0 * (b - a), a - 2.0 * b + c, a - points
    # (B(t) - p) . B'(t) = 2|c2|^2 t^3 + 3 c1.c2 t^2 + (|c1|^2 + 2 d.c2) t + d.c1
    n = len(points)
    cubic = np.stack([np.full(n, 2.0 * c2 @ c2), np.full(n, 3.0 * c1 @ c2), c1 @ c1 + 2.0 * d @ c2, d @ c1], 1)
    chord = c - a
    candidates = [np.zeros(n), np.ones(n), np.clip((points - a) @ chord / max(chord @ chord, 1e-300), 0, 1)]
    if c2 @ c2 > 1e-300:
        companion = np.zeros((n, 3, 3))
        companion[:, 0, :] = -cubic[:, 1:] / cubic[:, :1]
        companion[:, 1, 0] = companion[:, 2, 1] = 1.0
        candidates += list(np.clip(np.linalg.eigvals(companion).real, 0.0, 1.0).T)
    polished = []
    for t in candidates:
        for _ in range(4):  # Newton on the cubic, staying in [0, 1]
            value = ((cubic[:, 0] * t + cubic[:, 1]) * t + cubic[:, 2]) * t + cubic[:, 3]
            slope = (3.0 * cubic[:, 0] * t + 2.0 * cubic[:, 1]) * t + cubic[:, 2]
            t = np.where(slope > 0, np.clip(t - value / np.where(slope > 0, slope, 1.0), 0.0, 1.0), t)
        polished.append(t)
    return polished


def quadratic_point(a: np.ndarray, b: np.ndarray, c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The points B(t), (..., 2), of the quadratic Bézier a-b-c at parameters ``t`` (...)."""
    t = np.asarray(t)[..., None]
    return a + 2.0 * (b - a) * t + (a - 2.0 * b + c) * t * t


def quadratic_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Distance from (..., 2) points to the quadratic Bézier a-b-c (see :func:`quadratic_parameters`)."""
    p = points.reshape(-1, 2)
    best = np.full(len(p), np.inf)
    for t in quadratic_parameters(p, a, b, c):
        best = np.minimum(best, np.linalg.norm(quadratic_point(a, b, c, t) - p, axis=1))
    return best.reshape(points.shape[:-1])


def cubic_distance(points: np.ndarray, controls: np.ndarray) -> np.ndarray:
    """Distance from (..., 2) points to the cubic Bézier with (4, 2) ``controls``, drawn as
    its quadratic pieces (see :mod:`taichi_sdf.funcs.bezier`)."""
    from taichi_sdf.funcs.bezier import CUBIC_PIECE_WEIGHTS

    return np.min([quadratic_distance(points, *(w @ controls)) for w in CUBIC_PIECE_WEIGHTS], axis=0)
