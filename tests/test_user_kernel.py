"""Other Taichi programs can call the library's @ti.func building blocks in their own kernels."""

import math

import numpy as np
import taichi as ti

from taichi_sdf.funcs import blend_mean, circle_coverage, coverage, sdf_circle


@ti.kernel
def soft_disk(out: ti.types.ndarray(), cx: ti.f64, cy: ti.f64, radius: ti.f64):
    for row, col in ti.ndrange(out.shape[0], out.shape[1]):
        p = ti.Vector([col + 0.5, row + 0.5])
        distance = sdf_circle(p, ti.Vector([cx, cy]), radius)
        area = circle_coverage(p, ti.Vector([cx, cy]), radius, 1.0)
        out[row, col, 0] = distance
        out[row, col, 1] = coverage(distance, 1.0)
        out[row, col, 2] = coverage(-distance, 1.0)
        out[row, col, 3] = area
        out[row, col, 4] = blend_mean(area, ti.Vector([1.0, 0.0, 0.0]), ti.Vector([0.0, 0.0, 1.0]))[2]


def test_user_kernel_calls_sdf_and_coverage_funcs():
    out = np.zeros((24, 32, 5))
    soft_disk(out, 15.3, 11.7, 6.0)
    xs, ys = np.meshgrid(np.arange(32) + 0.5, np.arange(24) + 0.5)
    distance = np.hypot(xs - 15.3, ys - 11.7) - 6.0
    np.testing.assert_allclose(out[..., 0], distance, atol=1e-12)
    inside, outside = out[..., 1][distance <= -1.0], out[..., 1][distance >= 1.0]
    assert np.all(inside == 1.0) and np.all(outside == 0.0)  # compact support
    np.testing.assert_allclose(out[..., 1] + out[..., 2], 1.0, atol=1e-12)  # cov(d) + cov(-d) = 1
    assert abs(out[..., 3].sum() - math.pi * 36.0) < 1e-3 * math.pi * 36.0
    np.testing.assert_allclose(out[..., 4], 1.0 - out[..., 3], atol=1e-12)  # background fills the rest
