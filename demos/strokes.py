"""Fit strokes to an image: ``python demos/strokes.py chelsea.png``.

Writes OUT/render.png, OUT/compare.png (image | fit), OUT/params.npz (``Scene.load``)
and OUT/render.svg.
Run with ``--help`` for the options.
"""

import sys

from taichi_sdf.app.start import started

if __name__ == "__main__":
    sys.exit(started("strokes.py", "taichi_sdf.app.fitting", "demo_main", "strokes"))
