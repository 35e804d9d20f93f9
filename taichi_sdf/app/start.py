"""Where the commands start, and how Ctrl-C is held back.

A command handles Ctrl-C itself once its modules are loaded, but loading them (Taichi above
all) takes a second or more, and Taichi's C extension turns a Ctrl-C during its own start
into an ImportError. So the modules load with Ctrl-C held, and a Ctrl-C meanwhile ends the
command with one line once they have. This module imports nothing heavy, so that the
window before it runs is only Python's start-up.
"""

from __future__ import annotations

import importlib
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 130  # the shell's status for a program ended by Ctrl-C (128 + SIGINT)


class Interrupts:
    """Whether Ctrl-C was pressed while :func:`interrupts_held` held it back."""

    def __init__(self):
        self.pressed = False


@contextmanager
def interrupts_held() -> Iterator[Interrupts]:
    """Hold Ctrl-C back for the block (loading modules, writing a finished result: work
    that must not be cut in half); the yielded object says whether it was pressed
    meanwhile. Outside the main thread, where signal handlers cannot be set, the block
    runs unprotected."""
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


def started(prog: str, module: str, function: str, *args) -> int:
    """Load Taichi and ``module`` with Ctrl-C held, then return ``module.function(*args)``,
    an exit status; if Ctrl-C was pressed while they loaded, print one line and return
    EXIT_INTERRUPTED instead."""
    with interrupts_held() as interrupts:
        importlib.import_module("taichi")
        entry = getattr(importlib.import_module(module), function)
    if interrupts.pressed:
        print(f"{prog}: interrupted: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    return entry(*args)


def taichi_sdf() -> int:
    """The ``taichi-sdf`` command (the entry point pip installs)."""
    return started("taichi-sdf", "taichi_sdf.app.console", "main")
