"""The ``taichi-sdf fit-many`` command: fit every picture of a folder or a glob pattern, in
local worker processes or on a Ray cluster, resumably.

Each picture gets a folder OUT/<name>/ holding what ``taichi-sdf fit`` writes
(render.png, compare.png, params.npz, render.svg) and, written last, :data:`RECORD` (its
PSNR, seconds, primitives, fit options): a picture counts as finished only when all of
them are there and the options are those of this run, and each is written to a temporary
name and renamed, so a re-run skips finished pictures and redoes a half-written one. <name> is the file's stem, or (stems shared by several
inputs) its path below the collection's folder, suffix included ("a-x-png").
OUT/summary.csv lists every finished picture; OUT/failures.csv every picture that failed
this run, with its one-line reason, the rest going on. A picture's seed comes from the
run's ``--seed`` and its name, not from the order the workers take the pictures in, so a
seeded run writes the same files whatever ``--workers``.

Workers are spawned processes, each starting Taichi once (with its share of the cores) and
fitting batch after batch with :func:`fit_pictures`; with ``--ray`` they are Ray actors
doing the same (:mod:`taichi_sdf.app.ray_actors`). Small pictures of one size (at most
:data:`BATCH_PIXELS`) go to a worker in batches of up to ``--batch``, which it fits together
through the batched renderer (one render pass per step for all of them); each picture's
fit is bitwise the one it gets alone, so the files do not depend on the batches either. Either kind hands its outcomes to one
loop (:func:`run_fit_many`). Ctrl-C stops them (a picture being written is left
unfinished, to be redone), writes the two CSV files and says how many pictures are done.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import glob
import hashlib
import io
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from taichi_sdf.app.arguments import add_fit_arguments, positive_int
from taichi_sdf.app.console import IMAGE_SUFFIXES
from taichi_sdf.app.fitting import OUTPUTS, fit_planned_batch, plan_fit, write_fit
from taichi_sdf.app.outputs import Outputs, check_folder
from taichi_sdf.app.running import EXIT_FAILED, OutputError, UsageError, init_taichi, one_line
from taichi_sdf.app.start import EXIT_INTERRUPTED, interrupts_held

RECORD = "fit.json"  # OUT/<name>/fit.json: the picture's summary row, written after its files
SUMMARY, FAILURES = "summary.csv", "failures.csv"
SUMMARY_COLUMNS = ("file", "folder", "psnr", "seconds", "primitives")
WORKERS_CHECKED_EVERY = 1.0  # seconds without a finished picture after which the workers are checked
LOCAL_RAY = "local"  # --ray without an address: ray.init's address for a new Ray on this machine
BATCH_PIXELS = 128 * 128  # pictures of at most this many pixels are fitted in batches
BATCH = 8  # --batch's default: small pictures of one size fitted together
TAICHI_BANNER = "ENABLE_TAICHI_HEADER_PRINT"  # Taichi prints its version on import unless this is 0


@dataclass(frozen=True)
class Picture:
    """One input picture: its file, its folder's name under OUT, and its seed."""

    path: Path
    name: str
    seed: int


@dataclass(frozen=True)
class FitManyPlan:
    """A checked fit-many: the fit's options, the pictures (those already finished
    apart), where they are fitted and where the files go."""

    shape: str
    args: argparse.Namespace  # args.workers: the workers asked for, None for the default
    pictures: list[Picture]  # all of the collection, in file order
    todo: list[Picture]  # those not finished by an earlier run
    units: list[tuple[Picture, ...]]  # the todo pictures as workers take them: a batch, or one picture
    ray: str | None  # the Ray cluster's address (LOCAL_RAY: a new one here), None: local processes
    out: Path
    outputs: Outputs  # OUT/summary.csv, OUT/failures.csv


Outcome = tuple[Picture, "str | None"]  # a fitted picture and None, or a failed one and its one-line reason
Unit = tuple[Picture, ...]  # pictures a worker fits at once (see :func:`fit_pictures`)


class Workers(NamedTuple):
    """Started workers: what they are, for the first line ("2 worker processes"), and the
    outcomes of the pictures to fit, in the order they finish (WorkerDied when one ends)."""

    name: str
    outcomes: Iterator[Outcome]


def add_fit_many_arguments(parser: argparse.ArgumentParser, shape: str) -> None:
    """The options of ``taichi-sdf fit-many`` with ``shape``'s defaults: the input, a fit's
    options and ``--workers``."""
    parser.add_argument(
        "input",
        help="a folder (its .png, .jpg, ... files) or a glob pattern in quotes, such as 'icons/**/*.png'",
    )
    add_fit_arguments(parser, shape, one_image=False)
    parser.add_argument(
        "--workers", type=positive_int,
        help="worker processes, or Ray actors with --ray (default: one per core on the CPU, one per GPU on a GPU, "
        "whose kernels fill it)",
    )  # fmt: skip
    parser.add_argument(
        "--batch", type=positive_int, default=BATCH,
        help=f"pictures of one size (at most {BATCH_PIXELS} pixels) that a worker fits together through the batched "
        "renderer; the files are the same whatever the batch (1: one at a time)",
    )  # fmt: skip
    parser.add_argument(
        "--ray", nargs="?", const=LOCAL_RAY, metavar="ADDRESS",
        help="fit on the Ray cluster at ADDRESS (without one: a Ray started on this machine) instead of in local "
        "processes; every node must reach the input and OUT at the same paths (needs the ray extra)",
    )  # fmt: skip


def collect(source: str, out: Path) -> list[Path]:
    """The picture files ``source`` names, sorted: a folder's image files, or the files a
    glob pattern matches (``**`` recursively); none inside ``out``. UsageError if none."""
    folder = Path(source)
    if folder.is_dir():
        files = [path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()]
    else:
        files = [Path(path) for path in glob.glob(source, recursive=True) if Path(path).is_file()]
    outputs = out.resolve()
    files = sorted(path for path in files if not path.resolve().is_relative_to(outputs))
    if not files:
        what = "no image files in the folder" if folder.is_dir() else "no files match"
        raise UsageError(f"{source}: {what}")
    return files


def folder_names(files: list[Path]) -> list[str]:
    """Each file's folder name under OUT: its stem, or for stems that several files share
    its path below their common folder with the suffix ("a/x.png" -> "a-x-png"); a name
    still taken (or one of OUT's own files) is numbered ("-1", "-2") in file order."""
    stems = Counter(path.stem for path in files)
    root = Path(os.path.commonpath([path.resolve().parent for path in files]))
    names = []
    for path in files:
        if stems[path.stem] == 1:
            names.append(path.stem)
        else:
            relative = path.resolve().relative_to(root)
            names.append("-".join((*relative.with_suffix("").parts, path.suffix.lstrip("."))))
    taken = Counter(names) + Counter((SUMMARY, FAILURES))
    numbered = Counter()
    unique = []
    for name in names:
        if taken[name] > 1:
            numbered[name] += 1
            name = f"{name}-{numbered[name]}"
        unique.append(name)
    return unique


def picture_seed(run_seed: int, name: str) -> int:
    """The seed of the picture named ``name`` in a run seeded ``run_seed``, in [0, 2**32)."""
    digest = hashlib.sha256(f"{run_seed}/{name}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def fit_options(args: argparse.Namespace) -> dict:
    """The options that decide a picture's fit (not where it runs), as its record keeps them."""
    where = ("input", "out", "workers", "arch", "ray", "batch")
    chosen = {key: value for key, value in vars(args).items() if key not in where}
    return json.loads(json.dumps(chosen))  # tuples as lists, as read back


def finished(folder: Path, options: dict) -> dict | None:
    """The summary row of the picture fitted into ``folder`` with ``options``, or None
    unless all its files are there and it was fitted with those options."""
    try:
        record = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return None
    complete = all((folder / name).is_file() for name in OUTPUTS)
    return record if complete and isinstance(record, dict) and record.get("options") == options else None


def plan_fit_many(shape: str, args: argparse.Namespace) -> FitManyPlan:
    """Check the input, the options and OUT without starting Taichi or reading a picture."""
    from taichi_sdf.config import RenderConfig, check_primitive_count
    from taichi_sdf.losses import get_loss

    get_loss(args.loss)
    RenderConfig(tile_size=args.tile, aa_width=args.aa, mode=args.mode)
    check_primitive_count(args.n)
    if args.ray is not None:
        try:
            import ray  # noqa: F401  only for --ray: Ray is an optional extra
        except ImportError as error:
            needs = f"--ray needs Ray, which cannot be imported ({error}): pip install 'taichi_sdf[ray]'"
            raise UsageError(needs) from None
        from taichi_sdf.app.ray_actors import check_address

        check_address(args.ray)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: is a file; --out names a folder")
    files = collect(args.input, out)
    pictures = [Picture(path, name, picture_seed(args.seed, name)) for path, name in zip(files, folder_names(files))]
    check_folder(out)
    outputs = Outputs([out / SUMMARY, out / FAILURES], files)
    todo = [picture for picture in pictures if finished(out / picture.name, fit_options(args)) is None]
    # at most each worker's share of them in a batch, so that every worker has work
    share = -(-len(todo) // (args.workers or os.cpu_count() or 1))
    units = batches(todo, max(1, min(args.batch, share)))
    return FitManyPlan(shape, args, pictures, todo, units, args.ray, out, outputs)


def picture_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of the picture in ``path`` from its header, or None if unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size
    except Exception:  # noqa: BLE001  Pillow raises many types; the fit names the problem
        return None


def batches(pictures: list[Picture], batch: int) -> list[Unit]:
    """``pictures`` as work units: those of one size of at most :data:`BATCH_PIXELS` pixels
    in batches of up to ``batch`` (in file order), every other one alone."""
    units, filling = [], {}
    for picture in pictures:
        size = picture_size(picture.path) if batch > 1 else None
        if size is None or size[0] * size[1] > BATCH_PIXELS:
            units.append((picture,))
            continue
        filling.setdefault(size, []).append(picture)
        if len(filling[size]) == batch:
            units.append(tuple(filling.pop(size)))
    return units + [tuple(group) for group in filling.values()]


def worker_share(cpus: int, asked: int | None, default: int, pictures: int) -> tuple[int, int]:
    """``(workers, threads)``: the workers to start (``asked``, else ``default``, at most
    one per picture) and the Taichi CPU threads of each (their share of ``cpus``)."""
    workers = max(1, min(asked or default, pictures))
    return workers, max(1, cpus // workers)


def _start_worker() -> None:
    """A local worker's signals: Ctrl-C is the main process's to handle; its terminate
    (SIGTERM) ends it at once, except while it fits (see :func:`_fit_in_worker`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(EXIT_INTERRUPTED))


def _fit_in_worker(*args) -> list[Outcome]:
    """:func:`fit_pictures` in a local worker, where a terminate ends the fit through
    SystemExit, so that a file being written leaves no temporary (a second terminate ends
    it at once). Only while it fits: the pool terminates workers that are already leaving,
    and SystemExit raised in Python's own shutdown (its threads' or logging's) could leave
    the worker hanging and the pool waiting for it (a fit-many test timed out so once)."""

    def unwind(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.exit(EXIT_INTERRUPTED)

    previous = signal.signal(signal.SIGTERM, unwind)
    try:
        return fit_pictures(*args)
    finally:
        signal.signal(signal.SIGTERM, previous)


@functools.cache
def _worker_taichi(arch: str, seed: int, threads: int) -> str:
    """Start Taichi in this worker, once, quietly (the main process said which version runs)."""
    import taichi  # noqa: F401  imported with the real stdout: Taichi would wrap every kernel call otherwise

    with contextlib.redirect_stdout(io.StringIO()):
        return init_taichi(arch, seed, threads)


@contextlib.contextmanager
def _quiet_taichi_imports() -> Iterator[None]:
    """Processes started in the block print no Taichi banner when they import it."""
    previous = os.environ.get(TAICHI_BANNER)
    os.environ[TAICHI_BANNER] = "0"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[TAICHI_BANNER]
        else:
            os.environ[TAICHI_BANNER] = previous


def fit_pictures(shape: str, args: argparse.Namespace, out: Path, threads: int, unit: Unit) -> list[Outcome]:
    """Fit a unit of pictures in a worker and write each one's files into OUT/<name>/:
    those whose starting scenes share a structure (one size, shape and ``--n``) together
    (:func:`~taichi_sdf.app.fitting.fit_planned_batch`), each other one alone. Returns each
    picture's ``(picture, None)``, or ``(picture, reason)`` (one line) when it failed; a
    picture's seconds in its record are the unit's time shared evenly. A backend that
    cannot start (UsageError) is the whole run's, and is raised."""
    _worker_taichi(args.arch, args.seed, threads)
    started = time.perf_counter()
    from taichi_sdf.render import Renderer

    reasons: dict[Picture, str | None] = {}
    together: dict[tuple, list] = {}  # scene structure -> [(picture, plan)]
    for picture in unit:
        one = {"image": str(picture.path), "out": str(out / picture.name), "seed": picture.seed, "resume": None,
               "gif": False}  # fmt: skip
        try:
            plan = plan_fit(shape, argparse.Namespace(**{**vars(args), **one}), started)
        except (ValueError, UsageError, OutputError) as error:  # ImageError, the library's checks, OUT/<name> unwritable
            reasons[picture] = one_line(str(error))
        else:
            together.setdefault(plan.start.scene.structure(), []).append((picture, plan))
    fitted = []
    for group in together.values():
        renderer = Renderer(group[0][1].config)
        try:
            results = fit_planned_batch([plan for _, plan in group], renderer)
        except ValueError as error:
            reasons.update((picture, one_line(str(error))) for picture, _ in group)
            continue
        fitted += [(picture, plan, renderer, result) for (picture, plan), result in zip(group, results)]
    for picture, plan, renderer, result in fitted:
        reasons[picture] = f"the fit stopped {result.stopped}" if result.stopped is not None else None
    seconds, options = (time.perf_counter() - started) / len(unit), fit_options(args)
    for picture, plan, renderer, result in fitted:
        if reasons[picture] is None:
            reasons[picture] = _write_picture(picture, plan, renderer, result.scene, options, seconds)
    return [(picture, reasons[picture]) for picture in unit]


def _write_picture(picture: Picture, plan, renderer, scene, options: dict, seconds: float) -> str | None:
    """Write a fitted picture's files, then its record (:data:`RECORD`); None, or the
    one-line reason they could not be written."""
    from taichi_sdf.losses import psnr

    folder = plan.out
    try:
        image = write_fit(plan, renderer, scene)
        row = {
            "file": str(picture.path), "folder": picture.name, "psnr": round(float(psnr(image, plan.start.target)), 3),
            "seconds": round(seconds, 3), "primitives": len(scene), "options": options,
        }  # fmt: skip
        Outputs([folder / RECORD]).write(folder / RECORD, lambda path: path.write_text(json.dumps(row) + "\n"))
    except (ValueError, OutputError) as error:
        return one_line(str(error))
    return None


class WorkerDied(Exception):
    """A worker (process or Ray actor) ended while fitting (killed, out of memory, a crash
    inside Taichi)."""


def _pool_outcomes(pool, work, units: list[Unit]) -> Iterator[Outcome]:
    """The outcomes of ``work(unit)`` of each unit, as ``pool``'s workers finish them.
    WorkerDied when one of them ends: the pool would start another and wait for its unit forever."""
    import multiprocessing

    workers = {process.pid for process in multiprocessing.active_children()}
    results = pool.imap_unordered(work, units)
    for _ in units:
        outcomes = None
        while outcomes is None:
            try:
                outcomes = results.next(timeout=WORKERS_CHECKED_EVERY)
            except multiprocessing.TimeoutError:
                if not workers <= {process.pid for process in multiprocessing.active_children()}:
                    raise WorkerDied from None
        yield from outcomes


@contextlib.contextmanager
def local_processes(plan: FitManyPlan) -> Iterator[Workers]:
    """Spawned worker processes on this machine, fitting ``plan.todo``; terminated on leaving."""
    import multiprocessing

    default = (os.cpu_count() or 1) if plan.args.arch == "cpu" else 1
    workers, threads = worker_share(os.cpu_count() or 1, plan.args.workers, default, len(plan.units))
    work = functools.partial(_fit_in_worker, plan.shape, plan.args, plan.out, threads)
    with _quiet_taichi_imports():
        pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker)
    with pool:
        try:
            yield Workers(f"{workers} worker process{'es' * (workers != 1)}", _pool_outcomes(pool, work, plan.units))
        finally:
            pool.terminate()


def _started(plan: FitManyPlan) -> contextlib.AbstractContextManager[Workers]:
    """The workers that fit ``plan.todo``: Ray actors with ``--ray``, else local processes."""
    if not plan.todo:
        return contextlib.nullcontext(Workers("no workers", iter(())))
    if plan.ray is not None:
        from taichi_sdf.app.ray_actors import ray_actors

        return ray_actors(plan)
    return local_processes(plan)


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def run_fit_many(plan: FitManyPlan) -> int:
    """Fit the pictures not yet finished with one progress bar over the collection, then
    write OUT/summary.csv and OUT/failures.csv; the exit status (1 if a picture failed)."""
    from tqdm import tqdm

    total, out, before = len(plan.pictures), plan.out, len(plan.pictures) - len(plan.todo)
    failures: list[dict] = []
    interrupted = died = False
    try:
        with _started(plan) as workers:
            print(f"{total} pictures, {before} fitted before: fitting {len(plan.todo)} in {workers.name} -> {out}/")
            with tqdm(total=total, initial=before, unit="image", dynamic_ncols=True) as bar:
                for picture, reason in workers.outcomes:
                    if reason is not None:
                        failures.append({"file": str(picture.path), "reason": reason})
                        bar.set_postfix(failed=len(failures), refresh=False)
                    bar.update()
    except KeyboardInterrupt:
        interrupted = True
    except WorkerDied:
        died = True
    options = fit_options(plan.args)
    rows = [row for row in (finished(out / picture.name, options) for picture in plan.pictures) if row is not None]
    with interrupts_held() as interrupts:
        plan.outputs.write(out / SUMMARY, lambda path: _write_csv(path, SUMMARY_COLUMNS, rows))
        plan.outputs.write(out / FAILURES, lambda path: _write_csv(path, ("file", "reason"), failures))
    said = f"{len(rows)} of {total} pictures fitted, {len(failures)} failed this run: {plan.outputs.summary()}"
    if interrupted or interrupts.pressed:
        print(f"interrupted: {said}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if died:
        print(f"a worker process ended while fitting (killed? out of memory?): {said}; a re-run goes on",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    print(said)
    return EXIT_FAILED if failures else 0


def fit_many_action(shape: str, args: argparse.Namespace):
    """The planned ``taichi-sdf fit-many``, to run."""
    plan = plan_fit_many(shape, args)
    return lambda: run_fit_many(plan)
