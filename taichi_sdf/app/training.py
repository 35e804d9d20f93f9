"""Training networks that draw (the learning demos): options, device and Taichi start-up, a
time-boxed loop with progress, and the files a training run writes.

Needs the ``torch`` extra. Used by ``demos/autoencoder.py`` and ``demos/faces.py``. A run
writes OUT/model.pt and OUT/loss.png as soon as training ends (Ctrl-C ends it early), then
evaluates the model and writes OUT/metrics.json and its pictures; Ctrl-C during the
evaluation skips the rest, and the last line says what was written.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from taichi_sdf.app.arguments import OneLineParser, positive_float, positive_int, seed_value
from taichi_sdf.app.outputs import Outputs, check_folder
from taichi_sdf.app.running import UsageError, init_taichi
from taichi_sdf.app.start import EXIT_INTERRUPTED, interrupts_held


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


def begin(args: argparse.Namespace, files: tuple[str, ...]) -> tuple[Outputs, torch.device]:
    """The run's output files (``files`` in OUT, all checked first) and its device, with
    Taichi started and torch and numpy seeded."""
    out = Path(args.out)
    if not out.is_dir():
        check_folder(out)
    outputs = Outputs([out / name for name in ("model.pt", "loss.png", "metrics.json", *files)])
    device = start(args.device, args.seed)
    print(f"device: {device}")
    return outputs, device


def start(device: str, seed: int) -> torch.device:
    """Start Taichi and choose the torch device for ``device`` ('cpu', 'cuda' or 'auto':
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
        init_taichi("cpu", seed)
    torch.manual_seed(seed)
    np.random.seed(seed)
    return torch.device("cuda" if use_cuda else "cpu")


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
) -> TrainingLog:
    """Call ``step(i)`` (it returns the step's loss) until ``minutes`` have passed or
    ``max_steps`` steps are done, with a progress bar of the loss and the rate. Ctrl-C
    ends the loop early (the caller then saves what it has). ``on_step(i)`` runs after
    each step (for pictures of the training)."""
    from tqdm import tqdm

    log = TrainingLog()
    started = time.perf_counter()
    deadline = started + 60.0 * minutes
    with tqdm(total=max_steps, unit="step", dynamic_ncols=True) as bar:
        try:
            i = 0
            while time.perf_counter() < deadline and (max_steps is None or i < max_steps):
                loss = step(i)
                log.losses.append(loss)
                bar.set_postfix(loss=f"{loss:.5f}", refresh=False)
                bar.update()
                if on_step is not None:
                    on_step(i)
                i += 1
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
) -> int:
    """Write what training finished: OUT/model.pt (``checkpoint``) and OUT/loss.png (the
    loss curve); then ``evaluate()``, which returns metrics and the pictures to write (file
    name in OUT -> a function that writes that file), write those and OUT/metrics.json
    (the metrics with the log's steps and time), and ``report(metrics)`` (print them).
    Returns the exit status: 130 after Ctrl-C (which during the evaluation skips the rest),
    with a last line saying what was written."""
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
