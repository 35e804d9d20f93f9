"""The primitive table: a batch of scenes flattened to one row per primitive.

Row layout (``COLUMNS`` wide), one row per primitive in depth order (later on top):

    GEOMETRY   the kind's geometry columns (see each kind's module), zero-padded
    COLOUR     base colour, 3 columns (at the fill's anchor)
    SLOPE      colour slope, 3x2 row by row (zero for flat fills)
    OPACITY    opacity, 1 column

Packing is a gather of scene parameters (shared points through their index arrays), the
same code for numpy arrays and torch tensors (where autograd differentiates it); its
adjoint for numpy, :func:`unpack_grad`, is the matching scatter-add, in a fixed order.

A segmented kind's rows hold only their fill: a filled path's geometry, any number of
segments, is packed into the *segment table* beside (:func:`pack_segments`, (B, Q,
SEGMENT_SIZE): each segment's control points through its index array, zero-padded), and
:func:`outline` gives the structure the kernels read it with (the same for every image).
"""

from __future__ import annotations

import numpy as np

from taichi_sdf.funcs.winding import SEGMENT_SIZE
from taichi_sdf.kinds import GEOMETRY_SIZE, kind_of

COLOUR = GEOMETRY_SIZE
SLOPE = COLOUR + 3
OPACITY = SLOPE + 6
COLUMNS = OPACITY + 1

FILL = (("colours", 3, 0.0), ("slopes", 6, 0.0), ("opacities", 1, 1.0))  # name, columns, default


def kind_codes(scene) -> np.ndarray:
    """(M,) int32: the kind code of every primitive of ``scene`` in table order."""
    return np.concatenate([np.full(len(group), kind_of(group).code, np.int32) for group in scene.shapes])


def outline(scene) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The segment table's structure, per image, for ``scene``'s segmented groups (filled
    paths): (Q,) each segment's number of control points, (M + 1,) where each primitive's
    run of segments starts (an empty run for the other kinds) and (M,) each primitive's
    fill rule (0 nonzero, 1 even-odd); int32. None where the scene has no paths."""
    segmented = [group for group in scene.shapes if kind_of(group).segmented]
    if not segmented:
        return None
    counts, rules = [], []
    for group in scene.shapes:
        if kind_of(group).segmented:
            counts.append([len(group.segment_range(i)) for i in range(len(group))])
            rules.append(group.fill_rules)
        else:
            counts.append(np.zeros(len(group), np.int64))
            rules.append(np.zeros(len(group), np.int64))
    points = np.concatenate([group.control_counts() for group in segmented]).astype(np.int32)
    row_segments = np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int32)
    return points, row_segments, np.concatenate(rules).astype(np.int32)


def _backend(array):
    """(full, concat) for numpy arrays or torch tensors, matching ``array``'s dtype and device."""
    if isinstance(array, np.ndarray):
        return (lambda shape, value: np.full(shape, value, array.dtype)), np.concatenate
    import torch

    def full(shape, value):
        return torch.full(shape, value, dtype=array.dtype, device=array.device)

    return full, torch.cat


def pack(scene, values: dict) -> object:
    """The (B, M, COLUMNS) table of a batch of scenes shaped like ``scene``.

    ``values`` maps the names of ``scene.parameters()`` (``"0.centres"``, ...) to arrays
    with a leading batch axis B (numpy arrays or torch tensors, all alike); an optional
    parameter (slopes, opacities) missing from it takes its default (zero slope, opaque).
    """
    some = next(iter(values.values()))
    full, concat = _backend(some)
    batch = some.shape[0]
    groups = []
    for index, group in enumerate(scene.shapes):
        n = len(group)
        blocks = []
        for take in kind_of(group).geometry:
            source = values[f"{index}.{take.param}"]
            if take.index is not None:
                source = source[:, getattr(group, take.index)[:, take.corner]]
            blocks.append(source.reshape(batch, n, take.width) * take.scale)
        padding = GEOMETRY_SIZE - kind_of(group).geometry_size
        if padding:
            blocks.append(full((batch, n, padding), 0.0))
        for name, width, default in FILL:
            value = values.get(f"{index}.{name}")
            blocks.append(full((batch, n, width), default) if value is None else value.reshape(batch, n, width))
        groups.append(concat(blocks, -1))
    return concat(groups, 1)


def pack_segments(scene, values: dict) -> object:
    """The (B, Q, SEGMENT_SIZE) segment table of a batch of scenes shaped like ``scene``
    (``values`` as :func:`pack` takes them): each segment's control points, gathered from
    its group's ``points`` through ``segments``, zero where a segment has fewer than 4."""
    _, concat = _backend(next(iter(values.values())))
    blocks = []
    for index, group in enumerate(scene.shapes):
        if kind_of(group).segmented:
            points = values[f"{index}.points"]
            used = group.segments >= 0
            gathered = points[:, np.maximum(group.segments, 0)]  # (B, S, 4, 2)
            mask = used[None, :, :, None].astype(np.float64)
            if not isinstance(points, np.ndarray):
                mask = points.new_tensor(mask)
            blocks.append((gathered * mask).reshape(points.shape[0], len(group.segments), SEGMENT_SIZE))
    return concat(blocks, 1)


def unpack_grad(
    scene, table_grad: np.ndarray, present: dict, segment_grad: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The adjoint of :func:`pack` (and of :func:`pack_segments`, given the segment
    table's (B, Q, SEGMENT_SIZE) gradient): gradients (B, ...) of the parameters named in
    ``present`` (name -> shape without the batch axis) from the table's (B, M, COLUMNS)
    gradient. Shared points sum the gradients of every row or segment that uses them."""
    batch = table_grad.shape[0]
    grads, row, segment = {}, 0, 0
    for index, group in enumerate(scene.shapes):
        n = len(group)
        rows = table_grad[:, row : row + n]
        column = 0
        for take in kind_of(group).geometry:
            key = f"{index}.{take.param}"
            block = rows[:, :, column : column + take.width] * take.scale
            column += take.width
            if key not in present:
                continue
            grad = grads.setdefault(key, np.zeros((batch, *present[key])))
            if take.index is not None:
                np.add.at(grad, (slice(None), getattr(group, take.index)[:, take.corner]), block)
            else:
                grad += block.reshape(grad.shape)
        column = COLOUR
        for name, width, _ in FILL:
            key = f"{index}.{name}"
            if key in present:
                grads[key] = rows[:, :, column : column + width].reshape(batch, *present[key]).astype(np.float64)
            column += width
        row += n
        if kind_of(group).segmented:
            key, count = f"{index}.points", len(group.segments)
            if key in present:
                grad = grads.setdefault(key, np.zeros((batch, *present[key])))
                block = segment_grad[:, segment : segment + count].reshape(batch, count, 4, 2)
                for corner in range(4):
                    used = group.segments[:, corner] >= 0
                    np.add.at(grad, (slice(None), group.segments[used, corner]), block[:, used, corner])
            segment += count
    return grads
