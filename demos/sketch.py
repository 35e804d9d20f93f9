"""A pen drawing of a photo in cubic Bézier strokes: ``python demos/sketch.py chelsea.png``.

Black ink on white (soft-or compositing) fitted to the photo's edges and darkest tones
(:func:`taichi_sdf.drawing.drawing_target`): strokes start traced along the contours,
their edges start soft and sharpen, a blurred pyramid loss pulls them to ink they do not
yet touch, and strokes that fade out or wander off are re-seeded where ink is missing.
``taichi-sdf fit IMAGE --shape curve`` is the same fit. Writes
OUT/render.png, OUT/compare.png (photo | drawing), OUT/params.npz and OUT/render.svg.
Run with ``--help`` for the options (``--n`` strokes, ``--resume sketch.npy`` to refine a
stroke-3 sketch).
"""

import sys

from taichi_sdf.app.start import started

if __name__ == "__main__":
    sys.exit(started("sketch.py", "taichi_sdf.app.fitting", "demo_main", "sketch"))
