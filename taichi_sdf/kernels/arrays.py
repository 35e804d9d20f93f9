"""A frame's arrays as the kernels take them: each declared once, with its element type,
rank and shape, in the group of the pass that fills it.

The kernels name their parameters after these fields and take their types from
:func:`ndarray_types`; :func:`launch` passes each kernel the fields it names, so no call
lists arrays in order, and an array added to a group reaches every kernel that names it.
The arrays are numpy arrays on the CPU, Taichi ndarrays on GPU archs and torch tensors in
the torch op (see :mod:`taichi_sdf.buffers`): ``ti.types.ndarray`` takes all three.

Sizes: B images of H x W pixels; M primitives per image and R = B M table rows (image
after image); E (tile, row) entries; T tiles (image after image); S the compositing mode's
state width; G the largest guide size of the kinds present; and for the segmented kinds
(filled paths) Q segments per image (B Q segment rows), C grid tiles of all path rows
and N segment references of all entries.
"""

import collections
import functools
import inspect
from dataclasses import dataclass, field, fields
from types import SimpleNamespace

import taichi as ti

Array = object  # a numpy array, a Taichi ndarray or a torch tensor
REAL, INDEX = "real", "index"  # element types: the render's float type, or i32


def _array(element: str, ndim: int, segmented: bool = False):
    """A field declaring an array; ``segmented``: used only where a scene has filled paths."""
    return field(metadata={"element": element, "ndim": ndim, "segmented": segmented})


@dataclass
class SceneArrays:
    """The batch's primitive table, and what the count kernel derives per table row."""

    table: Array = _array(REAL, 2)  # (R, COLUMNS): one row per primitive (see taichi_sdf.table)
    kind_codes: Array = _array(INDEX, 1)  # (M,): each primitive's kind code
    background: Array = _array(REAL, 2)  # (B, 3)
    guides: Array = _array(REAL, 2)  # (R, G): each row's kind's guide (see taichi_sdf.kinds.base)
    footprints: Array = _array(REAL, 2)  # (R, 4): each row's footprint box (lo x, lo y, hi x, hi y)
    row_offsets: Array = _array(INDEX, 1)  # (R + 1,): row r's entries are row_offsets[r]:row_offsets[r + 1]


@dataclass
class TileArrays:
    """The binning's (tile, row) entries and each tile's list of them (see
    :mod:`taichi_sdf.kernels.binning`)."""

    entry_tiles: Array = _array(INDEX, 1)  # (E,): each entry's tile
    entry_rows: Array = _array(INDEX, 1)  # (E,): each entry's table row
    tile_offsets: Array = _array(INDEX, 1)  # (T + 1,): tile t lists tile_lists[tile_offsets[t]:tile_offsets[t + 1]]
    tile_fill: Array = _array(INDEX, 1)  # (T,): each tile's number of entries, then its fill cursor
    tile_lists: Array = _array(INDEX, 1)  # (E,): entries, tile after tile, in depth order within a tile


@dataclass
class PixelArrays:
    """What the forward pass keeps per pixel (see :mod:`taichi_sdf.modes.base`), and the image."""

    state: Array = _array(REAL, 4)  # (B, H, W, S): the mode's running state
    events: Array = _array(INDEX, 3)  # (B, H, W): the mode's record
    background_weight: Array = _array(REAL, 3)  # (B, H, W): d image / d background
    image: Array = _array(REAL, 4)  # (B, H, W, 3)


@dataclass
class OutlineArrays:
    """The segment table of the segmented kinds (filled paths) beside the primitive table,
    and what the binning derives from it (see :mod:`taichi_sdf.kernels.paths`). Without
    paths, kernels take each as an unused integer (see :func:`ndarray_types`)."""

    segments: Array = _array(REAL, 2, True)  # (B Q, SEGMENT_SIZE): each segment's control points (pixels, zero-padded)
    segment_points: Array = _array(INDEX, 1, True)  # (Q,): each segment's number of control points (2, 3 or 4)
    row_segments: Array = _array(INDEX, 1, True)  # (M + 1,): primitive m's segments are row_segments[m]:[m + 1]
    row_rules: Array = _array(INDEX, 1, True)  # (M,): each path's fill rule (0 nonzero, 1 even-odd)
    pieces: Array = _array(REAL, 2, True)  # (B Q, PIECES_SIZE): each segment's quadratic pieces
    grid_offsets: Array = _array(INDEX, 1, True)  # (R + 1,): row r's grid is grid[grid_offsets[r]:grid_offsets[r + 1]]
    grid: Array = _array(INDEX, 2, True)  # (C, GRID_FIELDS): a path row's tiles (see taichi_sdf.kinds.path_binning)
    row_refs: Array = _array(INDEX, 1, True)  # (R + 1,): row r's segment references are refs[row_refs[r]:row_refs[r + 1]]
    entry_bases: Array = _array(INDEX, 1, True)  # (E,): each path entry's winding base
    entry_refs: Array = _array(INDEX, 1, True)  # (E + 1,): entry e lists segments refs[entry_refs[e]:entry_refs[e + 1]]
    refs: Array = _array(INDEX, 1, True)  # (N,): the segments (global rows) each path entry lists


@dataclass
class BoundaryArrays:
    """What the forward pass keeps of each path entry's pixels for the backward, so that
    the backward redoes none of its rows' setup (see :mod:`taichi_sdf.kernels.paths`): per
    pixel row of an entry's tile, which pixels are filled and which have a piece within
    the cutoff ("near"), and per near pixel, in row order, its nearest boundary point.
    K, the records' room, is a bound on the near pixels (see ``prepare_row`` there)."""

    row_masks: Array = _array(INDEX, 3, True)  # (E, tile, 3): per entry, per row: first record, filled and near bits
    records: Array = _array(REAL, 2, True)  # (K, 3): per near pixel its signed distance, t and s
    record_points: Array = _array(INDEX, 2, True)  # (K, 2): piece and what the point is, packed; the other piece
    record_count: Array = _array(INDEX, 1, True)  # (1,): the records written


@dataclass
class GradientArrays:
    """The backward pass's input, working arrays and results."""

    image_grad: Array = _array(REAL, 4)  # (B, H, W, 3): dL / d image
    scratch: Array = _array(REAL, 4)  # (B, H, W, S): the mode's backward state
    entry_grads: Array = _array(REAL, 2)  # (E, COLUMNS): each entry's gradient of its row
    tile_background: Array = _array(REAL, 2)  # (T, 3): each tile's gradient of its image's background
    table_grad: Array = _array(REAL, 2)  # (R, COLUMNS)
    background_grad: Array = _array(REAL, 2)  # (B, 3)
    ref_grads: Array = _array(REAL, 2, True)  # (N, SEGMENT_SIZE): each segment reference's gradient of its segment
    segment_grad: Array = _array(REAL, 2, True)  # (B Q, SEGMENT_SIZE)


GROUPS = (SceneArrays, TileArrays, PixelArrays, OutlineArrays, BoundaryArrays, GradientArrays)
# The kernels' views of an OutlineArrays and a BoundaryArrays, made in a kernel from its
# parameters and passed to its functions as one template: named tuples, as ti.static takes
# tuples of arrays.
Outline = collections.namedtuple("Outline", [array.name for array in fields(OutlineArrays)])
Boundary = collections.namedtuple("Boundary", [array.name for array in fields(BoundaryArrays)])


def view_of(view: type, segmented: bool, *arrays):
    """In a kernel: its parameters of a segmented group as that group's ``view`` (Outline
    or Boundary), or None in a scene without ``segmented`` kinds (the parameters are then
    unused integers)."""
    return view(*arrays) if segmented else None


@functools.cache
def ndarray_types(dtype: str, segmented: bool) -> SimpleNamespace:
    """The kernel parameter type (``ti.types.ndarray(dtype, ndim)``) of every field of
    :data:`GROUPS`, by its name, for a render in ``dtype`` ('f32' or 'f64'). Without
    ``segmented`` kinds (filled paths) the arrays only they use are ``ti.i32``, passed as 0
    (see :func:`unused`): an array argument costs several microseconds a launch."""
    element = {REAL: {"f32": ti.f32, "f64": ti.f64}[dtype], INDEX: ti.i32}
    return SimpleNamespace(**{
        array.name: ti.types.ndarray(dtype=element[array.metadata["element"]], ndim=array.metadata["ndim"])
        if segmented or not array.metadata["segmented"] else ti.i32
        for group in GROUPS for array in fields(group)
    })  # fmt: skip


def unused(group: type) -> dict:
    """For a scene without segmented kinds: 0 for each of ``group``'s arrays that only they
    use (the value its ``ti.i32`` parameter takes), by name."""
    return {array.name: 0 for array in fields(group) if array.metadata["segmented"]}


def launch(kernel, *groups, **scalars):
    """Call ``kernel`` with each of its parameters by name: from ``scalars``, else the
    array of that name in one of ``groups``; returns what the kernel returns."""
    values = {name: value for group in groups for name, value in vars(group).items()}
    values.update(scalars)
    # In order, not by keyword: Taichi matches keywords to parameters one by one.
    return kernel(*(values[name] for name in _parameters(kernel)))


@functools.cache
def _parameters(kernel) -> tuple[str, ...]:
    return tuple(inspect.signature(kernel).parameters)
