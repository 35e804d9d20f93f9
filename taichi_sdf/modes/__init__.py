"""The compositing modes, one module each, and their registry.

Adding a mode means writing its module (per-pixel state, Taichi composite and adjoints,
numpy reference; see :mod:`taichi_sdf.modes.base`) and listing its ``MODE`` in
:data:`MODES`.
"""

from taichi_sdf.modes import alpha, mean, over, softor
from taichi_sdf.modes.base import PRECISION, Mode, Precision

MODES: dict[str, Mode] = {mode.name: mode for mode in (mean.MODE, over.MODE, alpha.MODE, softor.MODE)}

__all__ = ["MODES", "PRECISION", "Mode", "Precision"]
