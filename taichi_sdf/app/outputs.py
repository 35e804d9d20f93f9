"""A command's output files: every path checked before any work starts, each file written
whole or not at all, and a record of what was written.

A file is written to a temporary name beside it and renamed into place, so a failed or
interrupted write never leaves half a file where a finished one was (or where the user's
own file was). Special files (``/dev/stdout``, ``/dev/full``, pipes) are written directly.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from taichi_sdf.app.running import OutputError, UsageError


def _is_special(path: Path) -> bool:
    """Whether ``path`` exists and is not a regular file or folder (a device, a pipe)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def check_folder(path: str | Path) -> Path:
    """``path`` as an output folder: created if need be (the one thing a plan leaves
    behind) and proven writable. UsageError otherwise."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".taichi_sdf-{os.getpid()}.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UsageError(f"{path}: cannot write there ({_reason(error)})") from None
    return folder


class Outputs:
    """The files a command will write. Made (checked) while the command is planned; then
    :meth:`write` writes each whole and :attr:`written` lists what is on disk.

    ``paths`` are the output files; ``inputs`` the files the command reads, which no output
    may be. Each output must not be a folder, and its folder must exist (see
    :func:`check_folder`) and take new files.
    """

    def __init__(self, paths: Iterable[str | Path], inputs: Iterable[str | Path] = ()):
        self.paths = [Path(path) for path in paths]
        self.written: list[Path] = []
        inputs = [Path(path) for path in inputs]
        for path in self.paths:
            if path.is_dir():
                raise UsageError(f"{path}: is a folder, not a file that can be written")
            for source in inputs:
                if _same_file(path, source):
                    raise UsageError(f"{path}: is also an input of this command; write to another file")
            if not _is_special(path):
                self._probe(path)

    @staticmethod
    def _probe(path: Path) -> None:
        """Prove that a new file can be made beside ``path`` (where its temporary goes)."""
        folder = path.parent
        if not folder.exists():
            raise UsageError(f"{path}: cannot write there (the folder {folder} does not exist)")
        if not folder.is_dir():
            raise UsageError(f"{path}: cannot write there ({folder} is not a folder)")
        probe = folder / f".{path.name}.{os.getpid()}.probe"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise UsageError(f"{path}: cannot write there ({_reason(error)})") from None

    def write(self, path: str | Path, write: Callable[[Path], None]) -> None:
        """Write one of the planned files: ``write(temporary_path)`` writes the content (the
        temporary name keeps the file's suffix, for writers that go by it), which then
        replaces ``path`` in one rename. OutputError (one line) if it cannot be written."""
        path = Path(path)
        if path not in self.paths:
            raise ValueError(f"{path} is not one of the planned outputs")
        if _is_special(path):
            try:
                write(path)
            except OSError as error:
                raise OutputError(f"{path}: could not be written ({_reason(error)})") from None
            self.written.append(path)
            return
        temporary = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
        try:
            write(temporary)
            os.replace(temporary, path)
        except OSError as error:
            raise OutputError(f"{path}: could not be written ({_reason(error)})") from None
        finally:
            temporary.unlink(missing_ok=True)
        self.written.append(path)

    def summary(self) -> str:
        """What was written, for the line a command ends with: 'a.png, b.npz in out/'."""
        if not self.written:
            return "nothing written"
        folders = {path.parent for path in self.written}
        if len(folders) == 1:
            folder = folders.pop()
            names = ", ".join(path.name for path in self.written)
            return f"wrote {names}" + (f" in {folder}/" if str(folder) != "." else "")
        return "wrote " + ", ".join(str(path) for path in self.written)
