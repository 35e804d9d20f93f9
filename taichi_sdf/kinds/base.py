"""What a primitive kind contributes to the pipeline: :class:`Kind` and :class:`Take`.

The renderer flattens a scene into a primitive table with one row per primitive (see
:mod:`taichi_sdf.table`): first the kind's geometry columns, then its fill. A kind says
which scene parameters fill its geometry columns (:class:`Take`), and supplies the Taichi
functions that the kernels call on a row's geometry vector ``g`` (pixel units):

* ``guide(g, aa) -> guide``: what the kind's other functions share (a vector of
  ``GUIDE_SIZE`` values), computed once per primitive by the binning and stored for the
  forward pass (once per tile entry by the backward pass), rather than once per row or
  pixel: a curve's pieces and its chords' row spans; a circle's reciprocals, which the
  forward pass's pixel loop then reads from memory instead of dividing;
* ``row_span(guide, y) -> (lo, hi, spans)``: an x-interval holding every point of the line
  at height ``y`` that it covers (empty when lo > hi), so the kernels visit only those
  pixels of a row, and what the row's pixels share (a vector: where each of a curve's
  pieces reaches the row; the height itself for the kinds that need nothing of it);
* ``row_pixels(g, guide, spans, y, x0, count, aa) -> row`` (optional; by default
  ``spans``): what the ``count`` points (x0 + c, y) of the row (pixel centres, at most
  ROW_COLUMNS) share: a curve solves for each point's nearest point here, a row at a
  time, so that the compiler can vectorise the solve;
* ``coverage_grad(g, guide, row, p, aa) -> (cov, d cov / d g)``: anti-aliased coverage in
  [0, 1] at pixel position ``p`` (``row`` from ``row_pixels`` for points that hold ``p``) and its
  (total) gradient (a vector of g's size; the backward pass needs
  nothing else of the geometry). The forward pass calls the same function and keeps the
  value (the compiler drops the unused gradient), so both passes agree on every coverage;
* ``fill_frame(g) -> (anchor, scale)`` and ``fill_frame_vjp(g, d_anchor, d_scale) -> d g``:
  where a linear fill is anchored and per how many pixels its slope is given;
* ``footprint(g, aa) -> (lo, hi)``: a box holding every pixel centre the kind covers;
* ``touches(g, aa, lo, hi)``: whether its coverage reaches the rectangle [lo, hi] (the
  binning's exact test).

and, in Python, ``reference_coverage(group, i, points, aa)`` (numpy) for the brute-force
reference renderer that the tests compare against, and ``svg_element(group, i, paint,
number)``: primitive ``i`` as an SVG element painted with ``paint`` (numbers written with
``number``).

A *segmented* kind (filled paths, :mod:`taichi_sdf.kinds.path`) keeps its geometry of any
length in the segment table beside the primitive table instead (its rows hold only the
fill); the kernels bin, draw and differentiate its entries with the functions of
:mod:`taichi_sdf.kernels.paths`, so it has none of the Taichi functions above, only the
two Python ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import taichi as ti


@ti.func
def row_spans(geometry, guide, spans, y, x0, count, aa_width):
    """The default ``row_pixels``: the row's pixels share what ``row_span`` gave."""
    return spans


@dataclass(frozen=True)
class Take:
    """Geometry columns filled from one scene parameter: ``param[index[:, corner]]`` for
    shared points (a mesh's vertices through its faces), else ``param``, times ``scale``."""

    param: str
    width: int = 2
    index: str | None = None
    corner: int = 0
    scale: float = 1.0


FUNCTIONS = (
    "coverage_grad", "fill_frame", "fill_frame_vjp", "footprint", "guide", "row_span", "row_pixels", "touches",
    "reference_coverage",
    "svg_element",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Kind:
    """One primitive kind: its name, its code in the table, its scene group, its geometry
    columns, the size of its guide, and the functions described in this module's docstring
    (the Taichi ones None for a ``segmented`` kind)."""

    name: str
    code: int
    group: type
    geometry: tuple[Take, ...]
    guide_size: int
    coverage_grad: Callable | None
    fill_frame: Callable | None
    fill_frame_vjp: Callable | None
    footprint: Callable | None
    guide: Callable | None
    row_span: Callable | None
    row_pixels: Callable | None
    touches: Callable | None
    reference_coverage: Callable
    svg_element: Callable
    segmented: bool = False

    @classmethod
    def from_functions(cls, name: str, code: int, group: type, geometry: tuple[Take, ...], functions: dict) -> Kind:
        """A kind whose functions are those of ``functions`` (a kind module's ``globals()``)
        named as this module's docstring lists them, and whose guide has
        ``functions["GUIDE_SIZE"]`` values."""
        functions = {"row_pixels": row_spans, **functions}
        return cls(
            name, code, group, geometry, functions["GUIDE_SIZE"], **{field: functions[field] for field in FUNCTIONS}
        )

    @property
    def geometry_size(self) -> int:
        """Number of geometry columns this kind fills."""
        return sum(take.width for take in self.geometry)
