"""Render inside Taichi programs: a render that takes part in Taichi's own autodiff.

A :class:`RenderKernel` draws a scene whose parameters live in the user's Taichi fields
(or ndarrays, on CPU and CUDA) into an image field, and registers the renderer's
hand-written backward with ``ti.ad.grad_replaced`` / ``ti.ad.grad_for``: inside
``ti.ad.Tape`` (or by hand, ``render.grad()`` between the kernels' ``.grad()`` calls)
gradients flow from a loss on the image, through the render, into the kernels that
computed the parameters. A template :class:`~taichi_sdf.scene.Scene` fixes what does not
change (size, groups, counts, index arrays) and the values of the parameters not given.

    import taichi as ti
    import taichi_sdf as tsdf
    from taichi_sdf.taichi import RenderKernel, scene_fields

    ti.init(arch=ti.cpu)
    template = tsdf.Scene(64, 48, [1, 1, 1], (tsdf.Circles([[20, 20], [40, 30]], [8, 6], [[1, 0, 0], [0, 0, 1]]),))
    params = scene_fields(template, ["0.centres"])  # {"0.centres": ti.Vector.field(2, ti.f32, 2, needs_grad=True)}
    render = RenderKernel(template, params)         # render.image: ti.Vector.field(3, ti.f32, (48, 64))
    loss = ti.field(ti.f32, (), needs_grad=True)

    @ti.kernel
    def ink():
        for i, j in render.image:
            loss[None] += 1.0 - render.image[i, j].sum() / 3.0

    with ti.ad.Tape(loss):
        render()  # after the kernels that write params["0.centres"]
        ink()
    params["0.centres"].grad  # d loss / d centres, in pixels^-1

Containers: a parameter named like ``scene.parameters()`` (``"0.centres"``, shape (N, 2))
is a field or ndarray of shape (N,) whose elements hold the rest: scalars for (N,)
(radii, widths, opacities), ``ti.Vector`` of 2 or 3 for (N, 2) (points) and (N, 3)
(colours), ``ti.Matrix`` 3x2 for (N, 3, 2) (slopes); ``"background"`` is a 0-D field of
``ti.Vector`` 3. The image is a (height, width) field of ``ti.Vector`` 3, unclipped. All
hold floats of the config's dtype. Positions and sizes are in pixels, colours in [0, 1].

Gradients behave as Taichi's own kernels' do: they are added to each container's
``.grad`` (fields made with ``needs_grad=True``; a container without one is a constant),
and since the render overwrites the image, it reads the image's ``.grad`` and sets it to
zero. Taichi differentiates ndarrays only on CPU and CUDA, so elsewhere (Vulkan) keep
differentiated parameters in fields. Every call keeps its forward pass (per pixel about 10
numbers of the config's dtype) for its backward, until the Tape that recorded it and the
next call let go of it; a Tape may hold any number of calls.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import taichi as ti

from taichi_sdf.buffers import Buffers, on_cpu, to_numpy
from taichi_sdf.config import RenderConfig, check_image_size
from taichi_sdf.groups import describe_bad, first_bad
from taichi_sdf.funcs.winding import SEGMENT_SIZE
from taichi_sdf.raster import RasterFrame, rasterize
from taichi_sdf.scene import Scene
from taichi_sdf.table import COLUMNS, kind_codes, outline, pack, pack_segments

__all__ = ["RenderKernel", "scene_fields"]

_TAICHI_DTYPES = {"f32": ti.f32, "f64": ti.f64}
_NUMPY_DTYPES = {"f32": np.float32, "f64": np.float64}


def scene_fields(scene: Scene, names=None, dtype: str = "f32", needs_grad: bool = True) -> dict[str, ti.Field]:
    """Fields holding ``scene``'s parameters (those in ``names``, default all), laid out as
    :class:`RenderKernel` takes them and filled with the scene's values. They share one SNode
    tree, those of one length one dense node: a Tape clears the gradients under each node
    with a kernel launch of its own (on 2 CPU cores, 20-100 us each). The background gets
    a 0-D dense node: placed at the tree's root, each of its components and their
    gradients would get a node of their own, and a Tape three launches."""
    values = scene.parameters()
    names = list(values) if names is None else list(names)
    real = _TAICHI_DTYPES[dtype]
    tree, nodes, fields = ti.FieldsBuilder(), {}, {}
    for key in names:
        if key not in values:
            raise ValueError(f"the scene has no parameter {key!r}; it has {', '.join(values)}")
        shape = np.shape(values[key])
        if key == "background":
            field, node = ti.Vector.field(3, real, needs_grad=needs_grad), tree.dense(ti.axes(), ())
        else:
            element = shape[1:]
            field = (ti.field(real, needs_grad=needs_grad) if not element else
                     ti.Vector.field(element[0], real, needs_grad=needs_grad) if len(element) == 1 else
                     ti.Matrix.field(*element, real, needs_grad=needs_grad))  # fmt: skip
            if shape[0] not in nodes:
                nodes[shape[0]] = tree.dense(ti.i, shape[0])
            node = nodes[shape[0]]
        node.place(field, field.grad) if needs_grad else node.place(field)
        fields[key] = field
    tree.finalize()
    for key, field in fields.items():
        field.from_numpy(np.asarray(values[key], _NUMPY_DTYPES[dtype]))
    return fields


# ---------------------------------------------------------------------------------------------
# Moving values between the user's containers and the renderer's arrays. The renderer packs
# the table, the background and the segment table as one (M + 1 + Q, COLUMNS) array of
# values (see _packed): the table's M rows, the background in the first 3 columns of the next
# row, then the Q segment rows of filled paths. A parameter's elements land at its entries
# there (see _Placement). The gathers write only some of the values: off the CPU they write
# into a Taichi ndarray, since there Taichi copies a numpy argument to the device only if the
# kernel reads it, and copies all of it back (on Vulkan the values not written came back as
# stale device memory).


class _Layout(NamedTuple):
    """What the kernels need to know of one container, at compile time: whether it is 0-D
    (the background), its elements' shape, where its elements' offsets start and how many
    elements it has (see _Placement), and whether to copy them in one thread (on the CPU,
    where starting the threads cost more than copying a few thousand values)."""

    zero_d: bool
    shape: tuple
    start: int
    count: int
    serial: bool

    @property
    def width(self) -> int:
        return int(np.prod(self.shape))


@ti.func
def _element(container: ti.template(), s, zero_d: ti.template()):
    """Element ``s`` of ``container`` (its only element if it is 0-D)."""
    if ti.static(zero_d):
        return container[None]
    else:
        return container[s]


@ti.func
def _component(value, k: ti.template(), shape: ti.template()):
    """Component ``k`` (row by row) of an element of ``shape``: (), (n,) or (n, m)."""
    if ti.static(len(shape) == 0):
        return value
    elif ti.static(len(shape) == 1):
        return value[k]
    else:
        return value[k // shape[1], k % shape[1]]


@ti.func
def _add_component(value: ti.template(), k: ti.template(), shape: ti.template(), amount):
    if ti.static(len(shape) == 0):
        value += amount
    elif ti.static(len(shape) == 1):
        value[k] += amount
    else:
        value[k // shape[1], k % shape[1]] += amount


@ti.func
def _gather(source: ti.template(), layout: ti.template(), values: ti.template(), offsets: ti.template(),
            entries: ti.template(), scales: ti.template()):  # fmt: skip
    """Write ``source``'s elements into ``values`` (see _Placement)."""
    ti.loop_config(serialize=layout.serial)
    for s in range(layout.count):
        value = _element(source, s, layout.zero_d)
        for e in range(offsets[layout.start + s], offsets[layout.start + s + 1]):
            for k in ti.static(range(layout.width)):
                values[entries[e, 0], entries[e, 1] + k] = scales[e] * _component(value, k, layout.shape)


@ti.func
def _scatter(target: ti.template(), layout: ti.template(), grads: ti.template(), offsets: ti.template(),
             entries: ti.template(), scales: ti.template()):  # fmt: skip
    """The adjoint of _gather: add to each element of ``target`` the gradients of its
    entries in ``grads``, summed in a fixed order (so the result is deterministic)."""
    ti.loop_config(serialize=layout.serial)
    for s in range(layout.count):
        total = _element(target, s, layout.zero_d) * 0.0
        for e in range(offsets[layout.start + s], offsets[layout.start + s + 1]):
            for k in ti.static(range(layout.width)):
                _add_component(total, k, layout.shape, scales[e] * grads[entries[e, 0], entries[e, 1] + k])
        if ti.static(layout.zero_d):
            target[None] += total
        else:
            target[s] += total


def _annotation(ndarray: bool):
    return ti.types.ndarray() if ndarray else ti.template()


@functools.cache
def _image_kernels(ndarray: bool):
    """(put_image, take_image_grad) for an image field (ndarray: an image ndarray). Their
    loops run over rows in parallel and along each row in order, which copied a 451x300
    image in a third of the time of one parallel loop over its pixels."""

    @ti.kernel
    def put_image(image: _annotation(ndarray), source: ti.types.ndarray()):  # source (1, H, W, 3)
        for i in range(source.shape[1]):
            for j in range(source.shape[2]):
                image[i, j] = ti.Vector([source[0, i, j, 0], source[0, i, j, 1], source[0, i, j, 2]])

    @ti.kernel
    def take_image_grad(image_grad: _annotation(ndarray), out: ti.types.ndarray()):  # out (1, H, W, 3)
        """Move the image's gradient into ``out``: the render overwrote the image, so
        nothing before it sees this gradient (as in Taichi's adjoint of a store)."""
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                grad = image_grad[i, j]
                for k in ti.static(range(3)):
                    out[0, i, j, k] = grad[k]
                image_grad[i, j] = grad * 0.0

    return put_image, take_image_grad


def _is_ndarray(container) -> bool:
    return isinstance(container, ti.Ndarray)


def _arch():
    return ti.lang.impl.current_cfg().arch


def _element_shape(container) -> tuple:
    if _is_ndarray(container):
        return tuple(container.element_shape)
    if isinstance(container, ti.MatrixField):
        return (container.n,) if container.ndim == 1 else (container.n, container.m)
    return ()


def _grad_of(container):
    """The container's gradient (a container like it), or None where it has none."""
    if _is_ndarray(container):
        return container.grad
    return container.grad if container.snode.ptr.has_adjoint() else None  # as ti.ad.Tape asks a field


def _check_container(name: str, container, shape: tuple, element: tuple, dtype: str) -> None:
    """ValueError unless ``container`` has ``shape`` with elements of ``element`` in ``dtype``."""
    if not isinstance(container, (ti.Field, ti.Ndarray)):
        raise TypeError(f"{name} must be a Taichi field or ndarray, got {type(container).__name__}")
    got = (tuple(container.shape), _element_shape(container))
    if got != (shape, element):
        kind = ("scalars", f"ti.Vector {element[0] if element else ''}", "ti.Matrix 3x2")[len(element)]
        raise ValueError(f"{name} must have shape {shape} with elements of shape {element} ({kind}), "
                         f"got shape {got[0]} with elements of shape {got[1]}")  # fmt: skip
    if container.dtype != _TAICHI_DTYPES[dtype]:
        raise ValueError(f"{name} holds {container.dtype}, but the render is in {dtype} (RenderConfig(dtype=...))")
    if _is_ndarray(container) and container.grad is not None and not (on_cpu() or _arch() == ti.cuda):
        raise ValueError(f"{name}: Taichi differentiates ndarrays only on CPU and CUDA; use a field on {_arch()}")


@dataclass(frozen=True)
class _Placement:
    """Where one parameter's elements land in the values (the table, then the background
    row): element s at ``entries[offsets[s]:offsets[s + 1]]`` (row, first column), times
    ``scales``, its ``width`` components side by side."""

    offsets: np.ndarray  # (S + 1,) int32
    entries: np.ndarray  # (E, 2) int32
    scales: np.ndarray  # (E,) the config's dtype
    shape: tuple  # the parameter's
    per_primitive: bool = True  # its first axis counts its elements (else, as the background, it is one)

    @property
    def width(self) -> int:
        return int(np.prod(self.shape[1:] if self.per_primitive else self.shape))

    def values(self, values: np.ndarray) -> np.ndarray:
        """(E, width): the parameter's values at its entries of ``values``."""
        return values[self.entries[:, :1], self.entries[:, 1:] + np.arange(self.width)] / self.scales[:, None]

    def index(self, entry: int, component: int) -> tuple[int, ...]:
        """The index into the parameter of ``component`` of the element at ``entry``."""
        if not self.per_primitive:
            return (component,)
        element = int(np.searchsorted(self.offsets, entry, side="right")) - 1
        return (element, *(int(i) for i in np.unravel_index(component, self.shape[1:])))


def _packed(template: Scene, values: dict, background: np.ndarray) -> np.ndarray:
    """What a render reads, (M + 1 + Q, COLUMNS): the primitive table of
    :func:`~taichi_sdf.table.pack` (M rows), the background row (its first 3 columns), then
    the segment table of :func:`~taichi_sdf.table.pack_segments` (Q rows, their first
    SEGMENT_SIZE columns; none without filled paths). ``values`` as pack takes them (B = 1)."""
    table = pack(template, values)[0]
    segments = pack_segments(template, values)[0] if outline(template) is not None else np.zeros((0, SEGMENT_SIZE))
    packed = np.zeros((len(table) + 1 + len(segments), COLUMNS))
    packed[: len(table)], packed[len(table), :3] = table, background
    packed[len(table) + 1 :, :SEGMENT_SIZE] = segments
    return packed


def _placement(template: Scene, key: str, shapes: dict, dtype: str) -> _Placement:
    """Where ``key`` lands, read off :func:`_packed`, which is linear in each parameter:
    packing the element numbers 1, 2, ... of ``key`` (all other parameters zero) and then
    ones shows where every component lands and with what scale, so the gather cannot
    disagree with pack."""
    shape, real = shapes[key], _NUMPY_DTYPES[dtype]
    if key == "background":  # the row after the table
        return _Placement(
            np.array([0, 1], np.int32), np.array([[len(template), 0]], np.int32), np.ones(1, real), shape, False
        )
    width = int(np.prod(shape[1:]))
    zeros = {name: np.zeros((1, *s)) for name, s in shapes.items() if name != "background"}
    numbers = _packed(template, {**zeros, key: np.arange(1.0, np.prod(shape) + 1).reshape(1, *shape)}, np.zeros(3))
    scales = _packed(template, {**zeros, key: np.ones((1, *shape))}, np.zeros(3))
    rows, columns = np.nonzero(scales)
    component = np.rint(numbers[rows, columns] / scales[rows, columns]).astype(np.int64) - 1
    first = component % width == 0
    rows, columns, component = rows[first], columns[first], component[first]
    for k in range(width):  # a primitive's components lie side by side, as pack's reshape puts them
        assert np.all(np.rint(numbers[rows, columns + k] / scales[rows, columns + k]) == component + k + 1)
    elements = component // width
    order = np.argsort(elements, kind="stable")
    return _Placement(
        np.searchsorted(elements[order], np.arange(shape[0] + 1)).astype(np.int32),
        np.stack([rows[order], columns[order]], axis=1).astype(np.int32),
        scales[rows[order], columns[order]].astype(real),
        shape,
    )


def _value_rules(template: Scene, key: str) -> list[tuple[str, float, float]]:
    """What values of parameter ``key`` can be rendered: (what, low, high) for low < v <= high."""
    if key == "background":
        return []
    index, name = key.split(".")
    group = template.shapes[int(index)]
    rules = [(f"{what} must be positive", 0.0, np.inf) for param, what in group.POSITIVE.items() if param == name]
    if name == "opacities":
        rules.append(("opacities must lie in [0, 1]", -np.inf, 1.0))
    return rules


@ti.data_oriented
class _Containers:
    """The user's containers of one render and where their elements land in its values (the
    primitive table, the background row and the segment table; see _packed and _Placement):
    ``gather`` them into values, ``scatter`` the values' gradients back into their
    gradients, ``check`` values. Fields go
    in one kernel launch (this object is the kernels' template argument), ndarrays in one
    each; where the elements land is kept in Taichi fields, so the launches pass one array."""

    def __init__(self, template: Scene, params: dict, shapes: dict, dtype: str):
        self.placements = {key: _placement(template, key, shapes, dtype) for key in params}
        self.rules = [(key, *rule) for key in params for rule in _value_rules(template, key)]
        layouts, start = {}, 0
        for key, container in params.items():
            count = len(self.placements[key].offsets) - 1
            layouts[key] = _Layout(key == "background", _element_shape(container), start, count, on_cpu())
            start += count + 1
        fields = [(container, layouts[key]) for key, container in params.items() if not _is_ndarray(container)]
        self.fields, self.field_layouts = tuple(zip(*fields)) or ((), ())
        grads = [(_grad_of(container), layout) for container, layout in fields if _grad_of(container) is not None]
        self.grads, self.grad_layouts = tuple(zip(*grads)) or ((), ())
        self.ndarrays = [(container, layouts[key]) for key, container in params.items() if _is_ndarray(container)]
        placements = list(self.placements.values())
        firsts = np.cumsum([0] + [len(p.entries) for p in placements])[:-1]
        offsets = np.concatenate([p.offsets + first for p, first in zip(placements, firsts)] or [np.zeros(1)])
        entries = np.concatenate([p.entries for p in placements] or [np.zeros((1, 2))])
        scales = np.concatenate([p.scales for p in placements] or [np.zeros(1)])
        tree = ti.FieldsBuilder()
        self.offsets, self.entries = ti.field(ti.i32), ti.field(ti.i32)
        self.scales = ti.field(_TAICHI_DTYPES[dtype])
        tree.dense(ti.i, len(offsets)).place(self.offsets)
        tree.dense(ti.ij, (max(len(entries), 1), 2)).place(self.entries)
        tree.dense(ti.i, max(len(scales), 1)).place(self.scales)
        tree.finalize()
        self._load(offsets.astype(np.int32), entries.astype(np.int32), scales)

    @ti.kernel
    def _load(self, offsets: ti.types.ndarray(), entries: ti.types.ndarray(), scales: ti.types.ndarray()):
        for i in range(offsets.shape[0]):
            self.offsets[i] = offsets[i]
        for e in range(entries.shape[0]):
            self.entries[e, 0], self.entries[e, 1] = entries[e, 0], entries[e, 1]
            self.scales[e] = scales[e]

    def gather(self, values) -> None:
        """Write the containers' values into ``values`` (M + 1 + Q, COLUMNS)."""
        if self.fields:
            self._gather_fields(values)
        for container, layout in self.ndarrays:
            self._gather_ndarray(container, layout, values)

    def scatter(self, grads) -> None:
        """Add the gradients ``grads`` (M + 1 + Q, COLUMNS) of the values to the containers'."""
        if self.grads:
            self._scatter_fields(grads)
        for container, layout in self.ndarrays:
            if container.grad is not None:
                self._scatter_ndarray(container.grad, layout, grads)

    @ti.kernel
    def _gather_fields(self, values: ti.types.ndarray()):
        for p in ti.static(range(len(self.fields))):
            _gather(self.fields[p], self.field_layouts[p], values, self.offsets, self.entries, self.scales)

    @ti.kernel
    def _gather_ndarray(self, source: ti.types.ndarray(), layout: ti.template(), values: ti.types.ndarray()):
        _gather(source, layout, values, self.offsets, self.entries, self.scales)

    @ti.kernel
    def _scatter_fields(self, grads: ti.types.ndarray()):
        for p in ti.static(range(len(self.grads))):
            _scatter(self.grads[p], self.grad_layouts[p], grads, self.offsets, self.entries, self.scales)

    @ti.kernel
    def _scatter_ndarray(self, target: ti.types.ndarray(), layout: ti.template(), grads: ti.types.ndarray()):
        _scatter(target, layout, grads, self.offsets, self.entries, self.scales)

    def check(self, values: np.ndarray) -> None:
        """ValueError naming the first container and index whose value is NaN, infinite or
        beyond what a render holds (as ``Scene.check_values`` does), or breaks a rule of its
        parameter (a radius or width not positive, an opacity outside [0, 1])."""
        if first_bad(values) is not None:  # the template's own values were checked: one of the containers'
            for key, placement in self.placements.items():
                bad = first_bad(placement.values(values))
                if bad is not None:
                    (entry, component), value = bad
                    raise ValueError(describe_bad(key, placement.index(entry, component), value))
        for key, what, low, high in self.rules:
            held = self.placements[key].values(values)
            if np.any(held <= low) or np.any(held > high):
                raise ValueError(f"{key}: {what}")


@dataclass
class _Pass:
    """One call's forward pass, kept for its backward (a Tape keeps each call's own)."""

    image: object  # the container drawn into
    frame: RasterFrame | None = None


class RenderKernel:
    """Renders a scene whose parameters live in Taichi fields or ndarrays, differentiably
    under ``ti.ad.Tape`` (see the module docstring for the containers' layout).

    ``template``: the scene whose structure every render has (size, groups, counts, index
    arrays) and whose values the parameters left out of ``params`` keep. ``params``: names
    of ``template.parameters()`` (an optional one the template lacks, such as
    ``"0.opacities"``, may be given) to containers. ``image``: a (height, width) field of
    ``ti.Vector`` 3 in the config's dtype, created (with a gradient) when not given.
    Requires ``ti.init``. Call it to render; ``grad()`` runs the backward of the last call
    by hand (a Tape runs each call's own).
    """

    def __init__(self, template: Scene, params: Mapping, config: RenderConfig | None = None, image=None):
        config = RenderConfig() if config is None else config
        if not isinstance(template, Scene):
            raise TypeError(f"RenderKernel takes a template Scene, got {type(template).__name__}")
        if not isinstance(params, Mapping):
            raise TypeError(f"params must map parameter names to fields or ndarrays, got {type(params).__name__}")
        if not isinstance(config, RenderConfig):
            raise TypeError(f"RenderKernel takes a RenderConfig, got {type(config).__name__}")
        template.check_values()
        size = (template.height, template.width)
        check_image_size(1, template.width, template.height)
        shapes = {"background": (3,)}
        for index, group in enumerate(template.shapes):
            shapes.update({f"{index}.{name}": group.parameter_shape(name) for name in group.PARAMETERS})
        for key, container in params.items():
            if key not in shapes:
                raise ValueError(f"unknown parameter {key!r}; the scene takes {', '.join(shapes)}")
            lead = () if key == "background" else shapes[key][:1]
            _check_container(key, container, lead, shapes[key][len(lead) :], config.dtype)
        if image is None:
            image = ti.Vector.field(3, _TAICHI_DTYPES[config.dtype], size, needs_grad=True)
        _check_container("image", image, size, (3,), config.dtype)
        self.template, self.config, self.image, self.params = template, config, image, dict(params)
        real = _NUMPY_DTYPES[config.dtype]
        values = {key: value[None] for key, value in template.parameters().items()}
        background = values.pop("background")
        self._values = _packed(template, values, background[0]).astype(real)
        self._outline = outline(template)
        self._containers = _Containers(template, self.params, shapes, config.dtype)
        self._codes = kind_codes(template)
        self._linear = template.fill == "linear" or any(key.endswith(".slopes") for key in self.params)
        self._image_grad = np.empty((1, *size, 3), real)  # used only during a backward
        # Every call draws here first, then copies into its image: memory written before
        # costs no page faults, which a new image may (0 to 0.9 ms at 451x300, as the
        # allocator reuses freed memory or maps fresh pages).
        self._drawn = Buffers(self._values).output((1, *size, 3), config.dtype)
        self._last: _Pass | None = None

    def __call__(self, image=None) -> None:
        """Render the containers' current values into ``image`` (default: ``self.image``;
        another container of its shape and dtype, such as one per frame of a simulation)."""
        if image is None:
            image = self.image
        else:
            _check_container("image", image, (self.template.height, self.template.width), (3,), self.config.dtype)
        self._last = _Pass(image)
        _render(self, self._last)

    def grad(self) -> None:
        """The backward of the last call: from ``image.grad`` into the containers' ``.grad``."""
        if self._last is None:
            raise RuntimeError("call the render before its grad()")
        _render_grad(self, self._last)

    def _forward(self, record: _Pass) -> None:
        values = self._values.copy()  # the frame keeps its table
        if not on_cpu():  # off the CPU, Taichi uploads only the arrays a kernel reads (see the docstring)
            values, host = ti.ndarray(_TAICHI_DTYPES[self.config.dtype], values.shape), values
            values.from_numpy(host)
        self._containers.gather(values)
        values = to_numpy(values)
        self._containers.check(values)
        width, height, rows = self.template.width, self.template.height, len(self.template)
        segments = None if self._outline is None else np.ascontiguousarray(values[None, rows + 1 :, :SEGMENT_SIZE])
        frame = rasterize(self.config, self._codes, values[None, :rows], values[rows : rows + 1, :3], width, height,
                          self._linear, segments, self._outline, self._drawn)  # fmt: skip
        _image_kernels(_is_ndarray(record.image))[0](record.image, frame.image)
        record.frame = frame

    def _backward(self, record: _Pass) -> None:
        image_grad = _grad_of(record.image)
        if record.frame is None or image_grad is None:  # the forward failed (its error is on its way), or no gradient
            return
        _image_kernels(_is_ndarray(record.image))[1](image_grad, self._image_grad)
        table_grad, background_grad, segment_grad = record.frame.backward(self._image_grad)
        grads, rows = np.zeros_like(self._values), len(self.template)
        grads[:rows], grads[rows, :3] = to_numpy(table_grad)[0], to_numpy(background_grad)[0]
        if segment_grad is not None:
            grads[rows + 1 :, :SEGMENT_SIZE] = to_numpy(segment_grad)[0]
        self._containers.scatter(grads)


@ti.ad.grad_replaced
def _render(renderer: RenderKernel, record: _Pass) -> None:
    renderer._forward(record)


@ti.ad.grad_for(_render)
def _render_grad(renderer: RenderKernel, record: _Pass) -> None:
    renderer._backward(record)
