"""The auto-encoder demo's training step in one process against two under DistributedDataParallel.

    python benchmarks/bench_ddp.py [--rounds 3] [--steps 60] [--batch 64]

Each round spawns one process, then two gloo processes (each with half the machine's cores, as
under torchrun), and times ``--steps`` steps of ``demos/autoencoder.py``'s model on its global
batch of ``--batch`` digits after 3 warm-up steps, as the demo's loop runs them (the step, then
the processes' agreement on the loss). Prints steps/s of both per round, their medians, and
the median of the per-round ratios. On a 2-core CPU no speed-up is expected: the two
processes split the same cores and add an all-reduce of the gradients per step.

Sets OMP_WAIT_POLICY=PASSIVE (unless set) before importing torch; see the README.
"""

import argparse
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demos"))
import autoencoder

from taichi_sdf import RenderConfig
from taichi_sdf.app.training import Processes, leave_process_group, optimisation_step, start
from taichi_sdf.losses import get_loss

WARM_UP = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(rank: int, size: int, port: int, steps: int, batch: int, result: str) -> None:
    """Spawned: process ``rank`` of ``size`` trains the auto-encoder for WARM_UP + ``steps``
    steps; rank 0 writes the steps/s of the last ``steps`` to ``result``."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(size))
    os.environ.update(LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(size))
    processes = Processes.from_environment()
    device = start("cpu", 0, processes.threads)
    processes.join(device)
    (train_paper, _), _ = autoencoder.digits(0)
    train_t = torch.tensor(train_paper, dtype=torch.float32)
    template, config, loss = autoencoder.stroke_template(6), RenderConfig(mode="over"), get_loss("mse")
    model = autoencoder.make_model(6)
    trained = processes.wrap(model)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(0)

    def batch_loss(net, rows):
        ink = autoencoder.drawn(net, template, rows, config)[..., None].expand(-1, -1, -1, 3)
        return loss(ink, rows[..., None].expand(-1, -1, -1, 3))

    def step():
        rows = train_t[torch.randint(len(train_t), (batch,), generator=generator)]
        processes.agree(optimisation_step(trained, optimiser, batch_loss, rows, processes), False, False)

    for _ in range(WARM_UP):
        step()
    began = time.perf_counter()
    for _ in range(steps):
        step()
    rate = steps / (time.perf_counter() - began)
    if processes.main:
        Path(result).write_text(f"{rate}\n")
    leave_process_group()


def steps_per_second(size: int, steps: int, batch: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "rate"
        torch.multiprocessing.spawn(timed, args=(size, free_port(), steps, batch, str(result)), nprocs=size)
        return float(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    print(f"auto-encoder training step, global batch {args.batch}, {os.cpu_count()} cores")
    one, two = [], []
    for round_ in range(args.rounds):
        one.append(steps_per_second(1, args.steps, args.batch))
        two.append(steps_per_second(2, args.steps, args.batch))
        print(f"round {round_ + 1}: 1 process {one[-1]:.2f} steps/s, 2 processes {two[-1]:.2f} steps/s")
    ratio = float(np.median(np.array(two) / np.array(one)))
    print(f"median: 1 process {np.median(one):.2f} steps/s, 2 processes {np.median(two):.2f} steps/s "
          f"(2 / 1: {ratio:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
