"""Training networks that draw (the learning demos): options, device and Taichi start-up, a
time-boxed loop with progress, and the files a training run writes.

Needs the ``torch`` extra. Used by ``demos/autoencoder.py`` and ``demos/faces.py``. A run
writes OUT/model.pt and OUT/loss.png as soon as training ends (Ctrl-C ends it early), then
evaluates the model and writes OUT/metrics.json and its pictures; Ctrl-C during the
evaluation skips the rest, and the last line says what was written.

Started by ``torchrun`` (its RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE in the
environment), a run is one of several :class:`Processes` training one model under
DistributedDataParallel: every process draws the same global batch (same seed), renders
and differentiates its own slice of it, and the gradients are averaged, so each step is the
one a single process takes on the whole batch. Only rank 0 prints and writes files.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from taichi_sdf.app.arguments import OneLineParser, positive_float, positive_int, seed_value
from taichi_sdf.app.outputs import Outputs, check_folder
from taichi_sdf.app.running import UsageError, init_taichi, run_guarded
from taichi_sdf.app.start import EXIT_INTERRUPTED, Interrupts, interrupts_held


def training_parser(description: str, minutes: float, batch: int, out: str) -> argparse.ArgumentParser:
    """The options every training demo has: --minutes, --steps, --batch, --seed, --device, --out."""
    parser = OneLineParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=positive_float, default=minutes, help="training time")
    parser.add_argument("--steps", type=positive_int, help="stop after this many steps (if sooner)")
    parser.add_argument("--batch", type=positive_int, default=batch, help="examples per step")
    parser.add_argument("--seed", type=seed_value, default=0, help="random seed")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to train")
    parser.add_argument("--out", default=out, help="output directory")
    return parser


@dataclass(frozen=True)
class Processes:
    """The processes that train one model together: this one's ``rank`` of ``size`` (all
    machines), and ``local_rank`` of ``local_size`` on this machine. One process (rank 0 of 1)
    without torchrun; several after :meth:`join`."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Processes:
        """The processes torchrun started (its RANK, WORLD_SIZE, LOCAL_RANK and
        LOCAL_WORLD_SIZE), or one process where they are not set."""
        if "WORLD_SIZE" not in environ:
            return cls()
        try:
            rank, size = int(environ["RANK"]), int(environ["WORLD_SIZE"])
            local_rank = int(environ.get("LOCAL_RANK", rank))
            local_size = int(environ.get("LOCAL_WORLD_SIZE", size))
        except (KeyError, ValueError):
            raise UsageError("torchrun's RANK, WORLD_SIZE, LOCAL_RANK must be whole numbers") from None
        if not (0 <= rank < size and 0 <= local_rank < local_size <= size):
            raise UsageError(
                f"RANK {rank} of WORLD_SIZE {size} (LOCAL_RANK {local_rank} of {local_size}) is not a rank"
            )
        return cls(rank, size, local_rank, local_size)

    @property
    def main(self) -> bool:
        """Whether this process prints and writes files (rank 0)."""
        return self.rank == 0

    @property
    def threads(self) -> int | None:
        """CPU threads for this process: the machine's cores shared among its processes
        (None, all of them, for one process)."""
        return None if self.local_size == 1 else max(1, (os.cpu_count() or 1) // self.local_size)

    def check_batch(self, batch: int) -> None:
        """UsageError unless a batch of ``batch`` examples splits evenly among the processes
        (the gradients' average over processes is then the whole batch's mean)."""
        if batch % self.size:
            raise UsageError(f"--batch {batch} does not split evenly among {self.size} processes")

    def join(self, device: torch.device) -> None:
        """Join the process group (gloo on the CPU, nccl on CUDA; torchrun's MASTER_ADDR and
        MASTER_PORT). Nothing to join for one process."""
        if self.size > 1:
            torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def share(self, batch: torch.Tensor) -> torch.Tensor:
        """This process's rows of ``batch`` (B, ...): B / size of them, in rank order."""
        rows = len(batch) // self.size
        return batch[self.rank * rows : (self.rank + 1) * rows]

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """``model`` for the training step: under DistributedDataParallel (gradients averaged
        over the processes) when there are several, else itself. Evaluate the model itself:
        the wrapper is for training only."""
        if self.size == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model)

    def agree(self, loss: float, interrupted: bool, out_of_time: bool) -> tuple[float, bool, bool]:
        """The mean of the processes' ``loss``es (the whole batch's loss), and whether any
        process was interrupted or out of time: every process stops after the same step."""
        if self.size == 1:
            return loss, interrupted, out_of_time
        device = "cuda" if torch.distributed.get_backend() == "nccl" else "cpu"
        votes = torch.tensor([loss, float(interrupted), float(out_of_time)], dtype=torch.float64, device=device)
        torch.distributed.all_reduce(votes)
        total, interrupted, out_of_time = votes.tolist()
        return total / self.size, interrupted > 0, out_of_time > 0

    def interrupts(self):
        """The context the training loop runs in: with several processes it holds Ctrl-C
        back, to be agreed on after the step (a rank stopped inside a collective would leave
        the others waiting); one process takes Ctrl-C at once."""
        return interrupts_held() if self.size > 1 else nullcontext(Interrupts())


def begin(args: argparse.Namespace, files: tuple[str, ...]) -> tuple[Outputs, torch.device, Processes]:
    """The run's output files (``files`` in OUT, all checked first), its device and its
    processes (joined under torchrun), with Taichi started and torch and numpy seeded."""
    processes = Processes.from_environment()
    processes.check_batch(args.batch)
    out = Path(args.out)
    if not out.is_dir():
        check_folder(out)
    outputs = Outputs([out / name for name in ("model.pt", "loss.png", "metrics.json", *files)])
    if processes.size > 1 and args.device != "cpu":
        own_gpu(processes.local_rank)
    device = start(args.device, args.seed, processes.threads)
    processes.join(device)
    if processes.main:
        print(f"device: {device}" + (f" x {processes.size} processes" if processes.size > 1 else ""), flush=True)
    return outputs, device, processes


def own_gpu(local_rank: int) -> None:
    """Let this process see only the ``local_rank``-th GPU (before CUDA starts), so that
    PyTorch's cuda:0 and Taichi's one CUDA device (Taichi always takes the first) are the same."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = visible.split(",") if visible else [str(k) for k in range(local_rank + 1)]
    if local_rank >= len(gpus):
        raise UsageError(f"LOCAL_RANK {local_rank}: CUDA_VISIBLE_DEVICES={visible} has no GPU for it")
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus[local_rank]


def start(device: str, seed: int, threads: int | None = None) -> torch.device:
    """Start Taichi (with at most ``threads`` CPU threads, None: one per core; torch gets as
    many) and choose the torch device for ``device`` ('cpu', 'cuda' or 'auto':
    CUDA when both PyTorch and Taichi have it); seeds torch and numpy. UsageError if 'cuda'
    cannot run."""
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise UsageError("--device cuda: PyTorch has no CUDA here")
    if use_cuda:
        try:
            init_taichi("cuda", seed)
        except UsageError:
            if device == "cuda":
                raise UsageError("--device cuda: Taichi cannot start CUDA here") from None
            use_cuda = False
    if not use_cuda:
        init_taichi("cpu", seed, threads)
    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    np.random.seed(seed)
    return torch.device("cuda" if use_cuda else "cpu")


def run_training(prog: str, main: Callable[[], int]) -> int:
    """:func:`run_guarded` for a training demo: ``main()``'s exit status, then (under
    torchrun) :func:`leave_process_group`, however ``main`` ended."""
    try:
        return run_guarded(prog, main)
    finally:
        leave_process_group()


def leave_process_group() -> None:
    """Leave the process group, if this process joined one, and collect it at once.

    The group lives on in any DistributedDataParallel model made from it, which a reference
    cycle keeps until a garbage collection: collected as Python exits, its gloo worker
    thread could still be letting go of the last all-reduce's tensors, which takes the GIL,
    and a thread taking the GIL while Python finalizes aborts the process ("terminate called
    without an active exception": 1 run in 10 of the faces demo on 2 processes, 5 in 30 of
    a bare training step). So the model and the group are collected here, while Python
    still runs."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
        gc.collect()


def optimisation_step(
    model: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    loss_of: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor],
    batch: torch.Tensor,
    processes: Processes,
) -> float:
    """One step of ``optimiser`` on ``loss_of(model, rows)``, a mean over ``rows``: this
    process's share of ``batch`` (B, ...). With ``model`` from :meth:`Processes.wrap` the
    gradients are averaged over the processes, so the step is one process's on the whole
    batch. Returns this process's loss (:meth:`Processes.agree` gives the batch's)."""
    value = loss_of(model, processes.share(batch))
    optimiser.zero_grad()
    value.backward()
    optimiser.step()
    return value.item()


def small_cnn(features: int = 256) -> torch.nn.Module:
    """(B, 1, H, W) images -> (B, features): three stride-2 3x3 convolutions (16, 32 and 64
    channels), pooled to 4x4, then a linear layer; ReLUs between."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(64 * 16, features), nn.ReLU(),
    )  # fmt: skip


@dataclass
class TrainingLog:
    """What :func:`train` did: the loss of every step, wall time, and whether Ctrl-C stopped it."""

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False


def train(
    step: Callable[[int], float],
    minutes: float,
    max_steps: int | None = None,
    on_step: Callable[[int], None] | None = None,
    processes: Processes = Processes(),
) -> TrainingLog:
    """Call ``step(i)`` (it returns the step's loss) until ``minutes`` have passed or
    ``max_steps`` steps are done, with a progress bar of the loss and the rate. Ctrl-C
    ends the loop early (the caller then saves what it has). ``on_step(i)`` runs after
    each step (for pictures of the training). With several ``processes`` they stop
    together (see :meth:`Processes.agree`), and rank 0 alone shows progress, logs the
    batch's loss and runs ``on_step``."""
    from tqdm import tqdm

    log = TrainingLog()
    started = time.perf_counter()
    deadline = started + 60.0 * minutes
    with tqdm(total=max_steps, unit="step", dynamic_ncols=True, disable=not processes.main) as bar:
        try:
            with processes.interrupts() as interrupts:
                i, out_of_time = 0, False
                while not out_of_time and (max_steps is None or i < max_steps):
                    loss = step(i)
                    loss, log.interrupted, out_of_time = processes.agree(
                        loss, interrupts.pressed, time.perf_counter() >= deadline
                    )
                    log.losses.append(loss)
                    bar.set_postfix(loss=f"{loss:.5f}", refresh=False)
                    bar.update()
                    if on_step is not None and processes.main:
                        on_step(i)
                    i += 1
                    if log.interrupted:
                        break
        except KeyboardInterrupt:
            log.interrupted = True
    log.seconds = time.perf_counter() - started
    return log


def finish(
    outputs: Outputs,
    log: TrainingLog,
    device,
    checkpoint: dict,
    title: str,
    loss: str,
    evaluate: Callable[[], tuple[dict, dict[str, Callable[[Path], None]]]],
    report: Callable[[dict], None],
    processes: Processes = Processes(),
) -> int:
    """Write what training finished: OUT/model.pt (``checkpoint``) and OUT/loss.png (the
    loss curve); then ``evaluate()``, which returns metrics and the pictures to write (file
    name in OUT -> a function that writes that file), write those and OUT/metrics.json
    (the metrics with the log's steps and time), and ``report(metrics)`` (print them).
    Returns the exit status: 130 after Ctrl-C (which during the evaluation skips the rest),
    with a last line saying what was written. Ranks other than 0 write, evaluate and print
    nothing."""
    if not processes.main:
        return EXIT_INTERRUPTED if log.interrupted else 0
    out = outputs.paths[0].parent
    with interrupts_held() as interrupts:
        outputs.write(out / "model.pt", lambda path: torch.save(checkpoint, path))
        curves = {f"{loss} (running mean)": smoothed(log.losses)}
        outputs.write(out / "loss.png", lambda path: plot_curves(path, curves, loss, title))
    print(f"{len(log.losses)} steps in {log.seconds:.1f} s on {device}")
    try:
        if interrupts.pressed:
            raise KeyboardInterrupt
        metrics, pictures = evaluate()
    except KeyboardInterrupt:
        print(f"interrupted before the evaluation ended: {outputs.summary()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    metrics = {"steps": len(log.losses), "seconds": round(log.seconds, 1), "interrupted": log.interrupted, **metrics}
    with interrupts_held() as interrupts:
        for name, write in pictures.items():
            outputs.write(out / name, write)
        outputs.write(out / "metrics.json", lambda path: path.write_text(json.dumps(metrics, indent=2) + "\n"))
    report(metrics)
    if log.interrupted or interrupts.pressed:
        print(f"interrupted after {len(log.losses)} steps: {outputs.summary()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def image_grid(images: np.ndarray, columns: int, gap: int = 2, scale: int = 1) -> np.ndarray:
    """(N, H, W, 3) images in [0, 1] laid out ``columns`` to a row on white, each enlarged
    ``scale`` times (nearest), with ``gap`` pixels between them: (rows*(H+gap), ...)."""
    images = np.clip(np.asarray(images, dtype=np.float64), 0.0, 1.0)
    images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, _ = images.shape
    rows = math.ceil(n / columns)
    grid = np.ones((rows * (h + gap) + gap, columns * (w + gap) + gap, 3))
    for k, image in enumerate(images):
        r, c = divmod(k, columns)
        grid[gap + r * (h + gap) : gap + r * (h + gap) + h, gap + c * (w + gap) : gap + c * (w + gap) + w] = image
    return grid


def plot_curves(path: str | Path, curves: dict[str, list[float]], ylabel: str, title: str) -> None:
    """Write a PNG plot of named curves against the step (log scale), with matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.6), dpi=120)
    for name, values in curves.items():
        axes.plot(np.arange(1, len(values) + 1), values, label=name, linewidth=1)
    axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


def smoothed(values: list[float], window: int = 25) -> list[float]:
    """Running mean over ``window`` steps (for a readable loss curve)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return []
    kernel = np.ones(min(window, len(values))) / min(window, len(values))
    padded = np.concatenate([np.full(len(kernel) - 1, values[0]), values])
    return list(np.convolve(padded, kernel, mode="valid"))
