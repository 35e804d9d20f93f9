"""What a render is asked for: :class:`RenderConfig`, and the image sizes this machine can hold.

A config is static (each combination compiles its own kernels) and checked when it is made,
so a bad value is named before any work starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from taichi_sdf.buffers import on_cpu

MODES = ("mean", "over", "alpha", "softor")
DTYPES = ("f32", "f64")
# Bytes per pixel of a forward and backward pass (image, state, gradients, scratch), an
# upper bound used to refuse image sizes that cannot be allocated before any work starts.
BYTES_PER_PIXEL = 8 * (3 + 4 + 1 + 1 + 3 + 4)


@dataclass(frozen=True)
class RenderConfig:
    """Static settings of a render (each combination compiles its own kernels).

    tile_size: screen tile edge in pixels (8, 16 or 32), or None for the arch's choice:
        32 on the CPU, where larger tiles halve the work done per (tile, primitive) entry
        (list walks, row spans) for 5-8 % less time per frame, and 16 on GPUs, which run
        a thread per tile and want more of them.
    aa_width: half-width in pixels of the anti-aliasing band around every edge.
    dtype: 'f32' or 'f64' for parameters, images and gradients.
    mode: 'mean' (order-free blend), 'over' (seam-free depth order), 'alpha' (classic
        alpha compositing, which leaves seams along shared edges) or 'softor' (order-free
        ink, 1 - prod(1 - opacity * coverage), for drawings).
    culling: False lists every primitive in every tile and evaluates it at every pixel
        (the dense baseline for benchmarks).
    """

    tile_size: int | None = None
    aa_width: float = 1.0
    dtype: str = "f32"
    mode: str = "mean"
    culling: bool = True

    def __post_init__(self):
        if self.tile_size not in (None, 8, 16, 32):
            raise ValueError(f"tile_size must be 8, 16, 32 or None, got {self.tile_size}")
        if not self.aa_width > 0 or not np.isfinite(self.aa_width):
            raise ValueError(f"aa_width must be a positive number, got {self.aa_width}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")

    def tile(self) -> int:
        """The tile edge in pixels that a render with this config uses on the current arch."""
        if self.tile_size is not None:
            return self.tile_size
        return 32 if on_cpu() else 16


def check_image_size(batch: int, width: int, height: int) -> None:
    """ValueError, before anything is allocated, for images too large to render here."""
    pixels = batch * width * height
    if pixels * 4 >= 2**31:
        raise ValueError(f"{batch} image(s) of {width}x{height} pixels are too many for 32-bit indices")
    needed = pixels * BYTES_PER_PIXEL
    available = _memory_bytes()
    if available and needed > available:
        raise ValueError(
            f"{batch} image(s) of {width}x{height} pixels need about {needed / 2**30:.1f} GiB; "
            f"this machine has {available / 2**30:.1f} GiB"
        )


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
