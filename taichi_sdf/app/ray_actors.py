"""``taichi-sdf fit-many --ray [ADDRESS]``: the pictures fitted by Ray actors instead of local
worker processes (imported only then: Ray is the optional extra ``ray``).

Each actor is one process holding one Taichi runtime, started once (at its first unit of
pictures, by :func:`~taichi_sdf.app.fit_many.fit_pictures`, the function a local worker
runs), and fits unit after unit; the driver keeps each actor busy with one unit and hands
the outcomes to fit-many's loop. Actors read the pictures and write OUT at the paths the
driver names (relative ones from the driver's folder), so every node must reach them at
the same paths. The driver's taichi_sdf package is shipped to the actors (Ray's
``py_modules``), so they run the code the driver runs; its dependencies (Taichi, numpy,
...) must be installed on every node.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import ray

import taichi_sdf
from taichi_sdf.app.fit_many import (
    LOCAL_RAY,
    FitManyPlan,
    Outcome,
    Unit,
    WorkerDied,
    Workers,
    fit_pictures,
    worker_share,
)
from taichi_sdf.app.running import UsageError, one_line
from taichi_sdf.app.start import interrupts_held

ANSWER_WAIT = 5.0  # seconds a cluster's address has to accept a connection
STOPPED_WAIT = 10.0  # seconds a stopped run waits for its killed actors' pictures to end
TEMPORARIES = ".*.partial*"  # Outputs.write's temporary files, which a killed actor leaves behind


@ray.remote(max_restarts=0)  # an actor that dies stops the run, as a local worker that dies does
class FitActor:
    """A Ray actor fitting pictures: ``fit(unit)`` is ``work(unit)`` (their Outcomes), run
    in the driver's folder ``cwd``, where the relative paths of the command line lead."""

    def __init__(self, work: functools.partial, cwd: str):
        with contextlib.suppress(OSError):  # a node without that folder: absolute paths still work
            os.chdir(cwd)
        self.work = work

    def fit(self, unit: Unit) -> list[Outcome]:
        return self.work(unit)


def check_address(address: str) -> None:
    """UsageError unless something answers at ``address`` (HOST:PORT or ray://HOST:PORT;
    other forms, such as "auto", are left to Ray): Ray would retry a wrong one for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not (host and port.isdigit()):
        return
    try:
        socket.create_connection((host, int(port)), timeout=ANSWER_WAIT).close()
    except OSError as error:
        raise UsageError(f"--ray {address}: nothing answers there ({error.strerror or error})") from None


def _connect(address: str) -> None:
    """Connect to the Ray cluster at ``address`` (LOCAL_RAY: start one with this machine's cores),
    with the actors' output kept out of the progress bar. UsageError if it cannot be reached."""
    shared = {
        "log_to_driver": False,  # the actors' stdout and stderr stay in Ray's log files
        "logging_level": logging.ERROR,
        "runtime_env": {
            "py_modules": [str(Path(taichi_sdf.__file__).parent)],
            "excludes": ["__pycache__"],
            # Ray runs workers at nice 15; the fits are the job (local workers run at 0, as do Ray's job supervisors)
            "env_vars": {"RAY_worker_niceness": "0"},
        },
    }
    local = {"num_cpus": os.cpu_count() or 1, "include_dashboard": False} if address == LOCAL_RAY else {}
    try:
        ray.init(address=address, **local, **shared)
    except (ConnectionError, ValueError, RuntimeError) as error:
        raise UsageError(f"--ray {address}: cannot start Ray there ({one_line(str(error))})") from None


def _actor_outcomes(actors: list, units: list[Unit], running: dict) -> Iterator[Outcome]:
    """The outcomes of the pictures of ``units``, each actor fitting one unit at a time, in
    the order they finish. ``running`` (object ref -> (actor, unit)) holds the units being
    fitted. WorkerDied when an actor ends; an error the fit raised (a backend that cannot
    start: UsageError) is raised here, as a local worker's is."""
    waiting = iter(units)

    def give(actor) -> None:
        unit = next(waiting, None)
        if unit is not None:
            running[actor.fit.remote(unit)] = actor, unit

    for actor in actors:
        give(actor)
    while running:
        [ready], _ = ray.wait(list(running))
        try:
            outcomes = ray.get(ready)
        except ray.exceptions.RayActorError:
            raise WorkerDied from None
        except ray.exceptions.RayTaskError as error:
            raise error.cause from error
        actor, _ = running.pop(ready)
        give(actor)
        yield from outcomes


def _stop(actors: list, running: dict, out: Path) -> None:
    """Kill the actors, and once their pictures have ended remove the temporaries they
    were writing (a killed actor cannot: Ray ends it at once); those pictures stay unfinished."""
    for actor in actors:
        ray.kill(actor)
    if running:
        ray.wait(list(running), num_returns=len(running), timeout=STOPPED_WAIT)
    for _, unit in running.values():
        for picture in unit:
            for temporary in (out / picture.name).glob(TEMPORARIES):
                temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def ray_actors(plan: FitManyPlan) -> Iterator[Workers]:
    """Ray actors fitting ``plan.todo`` on the cluster at ``plan.ray``: ``--workers`` of them
    (default: one per CPU of the cluster, or on a GPU arch one per GPU, each asking for
    one), each asking for its share of the cluster's CPUs. Killed on leaving."""
    _connect(plan.ray)
    try:
        resources = ray.cluster_resources()
        cpus, gpus = int(resources.get("CPU", 1)), int(resources.get("GPU", 0))
        on_gpus = plan.args.arch != "cpu" and gpus > 0
        default = gpus if on_gpus else cpus if plan.args.arch == "cpu" else 1
        workers, threads = worker_share(cpus, plan.args.workers, default, len(plan.units))
        work = functools.partial(fit_pictures, plan.shape, plan.args, plan.out, threads)
        # more actors than CPUs (GPUs) asked for: each a fraction of one, so that none waits for one forever
        asks = {"num_cpus": min(threads, cpus / workers), "num_gpus": min(1, gpus / workers) if on_gpus else 0}
        actors = [FitActor.options(**asks).remote(work, os.getcwd()) for _ in range(workers)]
        running: dict = {}
        name = f"{workers} Ray actor{'s' * (workers != 1)}{', one GPU each' * on_gpus} (cluster: {cpus} CPUs)"
        try:
            yield Workers(name, _actor_outcomes(actors, plan.units, running))
        finally:
            with interrupts_held():  # a second Ctrl-C must not leave actors running
                _stop(actors, running, plan.out)
    finally:
        ray.shutdown()
