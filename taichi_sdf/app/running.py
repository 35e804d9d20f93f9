"""Running a command: the guard that turns bad input and Ctrl-C into one line and an exit
status, and Taichi's start-up. (Loading a command and holding Ctrl-C back while work must
not be cut short: :mod:`taichi_sdf.app.start`.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from taichi_sdf.app.start import EXIT_INTERRUPTED

EXIT_FAILED = 1  # a failed write, a fit stopped by NaN
EXIT_BAD_INPUT = 2
ARCHES = ("cpu", "cuda", "vulkan", "metal", "gpu", "auto")


class UsageError(Exception):
    """Bad command-line input; the message is shown as one line."""


class OutputError(Exception):
    """An output that could not be written (a full disk, a vanished folder); one line."""


def one_line(text: str) -> str:
    """``text`` with control characters escaped, so that echoed arguments stay on one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def run_guarded(prog: str, action: Callable[[], int]) -> int:
    """Run ``action()`` and return its exit status. Bad input (a UsageError, or a ValueError
    from the library's checks) becomes one line on stderr and exit 2, a failed write one
    line and exit 1, and Ctrl-C that reaches here (the command had written nothing: a
    command that writes handles Ctrl-C itself and says what it wrote) one line and 130."""
    try:
        return action()
    except (UsageError, ValueError) as error:  # ValueError: ImageError, SvgError, the library's checks
        print(f"{prog}: error: {one_line(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputError as error:
        print(f"{prog}: error: {one_line(str(error))}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{prog}: interrupted: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED


def init_taichi(arch: str, seed: int = 0, threads: int | None = None) -> str:
    """``ti.init`` on the named backend (one of :data:`ARCHES`) with random seed ``seed``
    and at most ``threads`` CPU threads (None: one per core); returns the name of the arch
    running. A named GPU backend that cannot start is a UsageError (Taichi would silently
    use the CPU)."""
    import taichi as ti

    chosen = {"auto": ti.gpu}.get(arch) or getattr(ti, arch)
    limit = {} if threads is None else {"cpu_max_num_threads": threads}
    ti.init(arch=chosen, log_level=ti.ERROR, random_seed=seed, **limit)
    running = ti.lang.impl.current_cfg().arch.name
    wanted = {"cpu": ("x64", "arm64"), "gpu": ("cuda", "vulkan", "metal", "opengl", "gles")}.get(arch, (arch,))
    if arch != "auto" and running not in wanted:
        raise UsageError(f"--arch {arch} is not available here (Taichi would run on {running})")
    return running
