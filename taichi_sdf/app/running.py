"""Running a command: the guard that turns bad input and Ctrl-C into one line and an exit
status, Taichi's start-up, and the stretches (writing finished results) that Ctrl-C must
not cut short.

Imports nothing heavy at module level, so that a command's guard is in place before Taichi
and numpy load (a Ctrl-C during their import then also ends in one line).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

EXIT_FAILED = 1  # a failed write, a fit stopped by NaN
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
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


class Interrupts:
    """Whether Ctrl-C was pressed while :func:`interrupts_held` held it back."""

    def __init__(self):
        self.pressed = False


@contextmanager
def interrupts_held() -> Iterator[Interrupts]:
    """Hold Ctrl-C back for the block (writing a finished result, which must not be cut in
    half); the yielded object says whether it was pressed meanwhile. Outside the main
    thread, where signal handlers cannot be set, the block runs unprotected."""
    interrupts = Interrupts()

    def hold(signum, frame):
        interrupts.pressed = True

    try:
        previous = signal.signal(signal.SIGINT, hold)
    except ValueError:  # not the main thread
        yield interrupts
        return
    try:
        yield interrupts
    finally:
        signal.signal(signal.SIGINT, previous)


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
