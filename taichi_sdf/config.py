"""What a render is asked for: :class:`RenderConfig`, and the image sizes this machine can hold.

A config is static (each combination compiles its own kernels) and checked when it is made,
so a bad value is named before any work starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from taichi_sdf import modes
from taichi_sdf.buffers import on_cpu

MODES = tuple(modes.MODES)  # the compositing modes' names
DTYPES = ("f32", "f64")
TILE_SIZES = (8, 16, 32)
# The anti-aliasing band's half-width, in pixels: narrower than AA_WIDTHS[0] an edge is
# aliased (and its coverage's slope, 1 / aa_width, overflows float32 for tiny bands);
# wider than AA_WIDTHS[1] every shape is a blur over the whole picture.
AA_WIDTHS = (1e-3, 1e3)
# Bytes per pixel of a forward and backward pass (image 3, state 5 in the widest mode,
# events 1, background weight 1, image gradient 3, scratch 5), in float64: an upper bound
# used to refuse image sizes that cannot be allocated before any work starts.
BYTES_PER_PIXEL = 8 * (3 + 5 + 1 + 1 + 3 + 5)
# Bytes a fitted primitive takes at most (the scene's copies, Adam's moments, its table
# row, guide and entries, gradients): the bound that refuses counts no memory holds.
BYTES_PER_PRIMITIVE = 4096


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
        integer = isinstance(self.tile_size, (int, np.integer)) and not isinstance(self.tile_size, bool)
        if self.tile_size is not None and (not integer or self.tile_size not in TILE_SIZES):
            raise ValueError(f"tile_size must be one of the integers {TILE_SIZES} or None, got {self.tile_size!r}")
        check_aa_width(self.aa_width)
        if not isinstance(self.dtype, str) or self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        if not isinstance(self.mode, str) or self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if not isinstance(self.culling, bool):
            raise ValueError(f"culling must be True or False, got {self.culling!r}")

    def tile(self) -> int:
        """The tile edge in pixels that a render with this config uses on the current arch."""
        if self.tile_size is not None:
            return self.tile_size
        return 32 if on_cpu() else 16

    def scaled(self, factor: float) -> RenderConfig:
        """The config that renders a scene ``factor`` times larger (``Scene.scaled``) the way
        it looked: one output pixel of band stays one pixel (edges stay sharp), and the part
        of a wider band beyond it (the soft shading of a mesh fit) scales with the picture."""
        if not 0 < factor < np.inf:
            raise ValueError(f"the scale factor must be a positive number, got {factor}")
        band = self.aa_width if self.aa_width <= 1.0 else 1.0 + (self.aa_width - 1.0) * factor
        return replace(self, aa_width=band)


def check_aa_width(aa_width) -> float:
    """``aa_width`` (a band's half-width in pixels) as a float, or ValueError unless it is a
    number in the range :data:`AA_WIDTHS`."""
    low, high = AA_WIDTHS
    if isinstance(aa_width, bool) or not isinstance(aa_width, (int, float, np.integer, np.floating)):
        raise ValueError(f"aa_width must be a number of pixels, got {aa_width!r}")
    if not low <= aa_width <= high:  # also refuses NaN
        raise ValueError(f"the anti-aliasing band must be {low:g} to {high:g} pixels wide, got {aa_width:g}")
    return float(aa_width)


def check_primitive_count(n: int) -> None:
    """ValueError, before anything is allocated, for more primitives than this machine's
    memory can fit (:data:`BYTES_PER_PRIMITIVE` each)."""
    needed, available = n * BYTES_PER_PRIMITIVE, _memory_bytes()
    if available and needed > available:
        raise ValueError(f"{n} primitives need about {needed / 2**30:.1f} GiB; this machine has "
                         f"{available / 2**30:.1f} GiB")  # fmt: skip


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
