"""Vectorize a picture into filled closed paths: ``python demos/vectorize.py logo.png --n 32``.

Each path is closed contours of cubic Bézier segments (its region's outline and holes, four
cubics each), started on the outline of a region of one colour
where the picture needs it most (as LIVE and Optimize & Reduce start theirs), then fitted
by gradient descent. Writes OUT/render.png, OUT/compare.png (image | fit), OUT/params.npz
(``Scene.load``) and OUT/render.svg, whose paths a person can select and edit.
Run with ``--help`` for the options.
"""

import sys

from taichi_sdf.app.start import started

if __name__ == "__main__":
    sys.exit(started("vectorize.py", "taichi_sdf.app.fitting", "demo_main", "vectorize"))
