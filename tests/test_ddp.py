"""Training across processes (taichi_sdf.app.training.Processes): a step of two gloo processes on
half-batches against one process on the whole batch, and a demo under torchrun."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import interrupted

torch = pytest.importorskip("torch")
from taichi_sdf.app.running import UsageError
from taichi_sdf.app.training import Processes

DEMOS = Path(__file__).resolve().parents[1] / "demos"
SIZE = 12  # pixels across the tiny pictures
CIRCLES = 3
BATCH = 8


def tiny_model():
    """(B, SIZE, SIZE) pictures -> CIRCLES circles each (centres, radii): a linear layer."""
    from torch import nn

    class CircleGuesser(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(SIZE * SIZE, CIRCLES * 3)

        def forward(self, pictures):
            out = self.linear(pictures.flatten(1)).view(len(pictures), CIRCLES, 3)
            return {"0.centres": SIZE * torch.sigmoid(out[..., :2]), "0.radii": 1.5 + 3.0 * torch.sigmoid(out[..., 2])}

    return CircleGuesser()


def one_step(rank: int, size: int, port: int, batches: tuple[int, ...], result: str) -> None:
    """Spawned: process ``rank`` of ``size`` takes, for each B in ``batches``, one SGD step of a
    fresh tiny model on the first B pictures of a fixed batch through the demos' step; rank 0
    saves each step's parameters, batch loss and own loss."""
    from taichi_sdf import Circles, RenderConfig, Scene
    from taichi_sdf.app.training import leave_process_group, optimisation_step, start
    from taichi_sdf.torch import render

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(size))
    os.environ["TORCHELASTIC_USE_AGENT_STORE"] = "True"  # every rank a client of the test's store, as under torchrun
    os.environ.update(LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(size))
    processes = Processes.from_environment()
    processes.join(start("cpu", seed=0, threads=1))
    circles = Circles(np.full((CIRCLES, 2), 6.0), np.full(CIRCLES, 3.0), np.zeros((CIRCLES, 3)))
    template = Scene(SIZE, SIZE, [1.0, 1.0, 1.0], (circles,))
    pictures = torch.tensor(np.random.default_rng(1).uniform(0, 1, (BATCH, SIZE, SIZE)), dtype=torch.float32)

    def loss_of(net, batch):
        return ((render(template, net(batch), RenderConfig(mode="over")).mean(dim=-1) - batch) ** 2).mean()

    results = []
    for rows in batches:
        torch.manual_seed(0)
        model = tiny_model()
        optimiser = torch.optim.SGD(model.parameters(), lr=0.5)  # SGD: the step scales with the gradient
        own = optimisation_step(processes.wrap(model), optimiser, loss_of, pictures[:rows], processes)
        loss, _, _ = processes.agree(own, False, False)
        results.append({"loss": loss, "own_loss": own, **model.state_dict()})
    if processes.main:
        torch.save(results, result)
    leave_process_group()


def stepped(tmp_path, size: int, batches: tuple[int, ...]) -> list[dict]:
    """:func:`one_step` in ``size`` spawned processes; rank 0's results. The processes meet
    at a store this process holds on a port the system chose (as torchrun's agent does), so
    no port is picked and then lost to another program before the processes bind it."""
    result = tmp_path / f"{size}.pt"
    store = torch.distributed.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False)
    torch.multiprocessing.spawn(one_step, args=(size, store.port, batches, str(result)), nprocs=size)
    return torch.load(result)


def test_two_processes_on_half_batches_step_as_one_on_the_whole_batch(tmp_path):
    torch.manual_seed(0)
    start = tiny_model().state_dict()
    one, half = stepped(tmp_path, 1, (BATCH, BATCH // 2))
    (two,) = stepped(tmp_path, 2, (BATCH,))
    assert two["own_loss"] == pytest.approx(half["loss"], rel=1e-6)  # rank 0 drew the first half only
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-6)
    for name, value in start.items():
        assert not torch.allclose(one[name], value)  # the step moved every parameter
        assert torch.allclose(two[name], one[name], rtol=1e-6, atol=1e-7), name
    # The first half alone steps elsewhere: the two processes' gradients were combined.
    assert not torch.allclose(half["linear.weight"], one["linear.weight"], rtol=1e-4, atol=1e-6)


def test_processes_come_from_torchruns_environment():
    assert Processes.from_environment({}) == Processes()
    environ = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    processes = Processes.from_environment(environ)
    assert processes == Processes(rank=3, size=4, local_rank=1, local_size=2) and not processes.main
    assert processes.share(torch.arange(8)).tolist() == [6, 7]
    with pytest.raises(UsageError, match="--batch 6 does not split evenly among 4 processes"):
        processes.check_batch(6)
    with pytest.raises(UsageError, match="RANK 4 of WORLD_SIZE 4"):
        Processes.from_environment({**environ, "RANK": "4"})


def test_torchrun_trains_a_demo_and_only_rank_0_writes(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(DEMOS / "faces.py"), "--device", "cpu", "--steps", "6", "--batch", "8", "--out", str(tmp_path)]  # fmt: skip
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=600)
    said = result.stdout + result.stderr  # for the message of a failed assert
    assert result.returncode == 0, said
    assert result.stdout.count("device: cpu x 2 processes") == 1, said
    assert result.stdout.count("held-out MSE of the predicted shapes") == 1, said
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["steps"] == 6 and not metrics["interrupted"], said
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["grid.png", "loss.png", "metrics.json", "model.pt", "training.gif"], said


def test_ctrl_c_under_torchrun_stops_every_process_and_rank_0_writes(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(DEMOS / "autoencoder.py"), "--device", "cpu", "--minutes", "10", "--out", str(tmp_path)]  # fmt: skip
    _, stderr = interrupted(command, ready=re.compile(r"\b[1-9]\d*step"), after=0.5)  # rank 0's progress bar
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["interrupted"] and metrics["steps"] > 0
    wrote = (
        f"interrupted after {metrics['steps']} steps: wrote model.pt, loss.png, grid.png, metrics.json in {tmp_path}/"
    )
    assert stderr.count("interrupted after") == 1 and wrote in stderr, stderr  # from rank 0 only
    assert sorted(path.name for path in tmp_path.iterdir()) == ["grid.png", "loss.png", "metrics.json", "model.pt"]
