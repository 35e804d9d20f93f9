"""Pictures per second of ``taichi-sdf fit-many`` against ``taichi-sdf fit`` run once per picture,
and of ``fit-many --ray`` (a local Ray) against the local worker processes.

    python benchmarks/bench_fit_many.py [--pictures 8] [--rounds 3] [--workers N] [--steps 200] [--no-fit]

Pictures: ``--pictures`` 64x64 images, each 32 random flat-coloured discs (radius 4-16 px)
over a random background; each is fitted with 32 circles for ``--steps`` steps (the
defaults of ``taichi-sdf fit`` otherwise). A round runs fit-many over the folder (a fresh
OUT, ``--workers`` processes, default one per core, the pictures in batches as by default),
the same with ``--batch 1`` (one picture at a time), then ``taichi-sdf fit`` once per
picture, each a new process as a shell loop would start (not with ``--no-fit``, for the Ray
figure alone), then (with Ray installed) fit-many
``--ray`` over the folder with as many actors as the local run had workers, starting its own
local Ray; whole commands are timed, start-up included. Printed: each round's pictures per
second and the ratios (fit-many / fit per picture, batched / one at a time, Ray / local
fit-many), and the medians
over the rounds (the medians of the per-round ratios: rounds made moments apart on this
shared machine).
"""

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np

CONSOLE = [sys.executable, "-c", "import sys; from taichi_sdf.app.start import taichi_sdf; sys.exit(taichi_sdf())"]
SIZE, DISCS = 64, 32


def disc_picture(seed: int) -> np.ndarray:
    """A SIZE x SIZE RGB uint8 picture of DISCS flat-coloured discs."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    image = np.broadcast_to(rng.uniform(0, 1, 3), (SIZE, SIZE, 3)).copy()
    for (x, y), radius, colour in zip(rng.uniform(0, SIZE, (DISCS, 2)), rng.uniform(4, 16, DISCS),
                                      rng.uniform(0, 1, (DISCS, 3))):  # fmt: skip
        image[(xs - x) ** 2 + (ys - y) ** 2 < radius**2] = colour
    return (255 * image).astype(np.uint8)


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--no-fit", action="store_true", help="skip the runs of taichi-sdf fit per picture")
    args = parser.parse_args()
    ray = importlib.util.find_spec("ray") is not None
    fit = ["--n", str(DISCS), "--steps", str(args.steps)]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "pictures"
        folder.mkdir()
        paths = [folder / f"picture{i:04d}.png" for i in range(args.pictures)]
        for seed, path in enumerate(paths):
            iio.imwrite(path, disc_picture(seed))
        timed([*CONSOLE, "fit", str(paths[0]), *fit, "--out", f"{temporary}/warm"])  # Taichi's offline cache
        many_command = [*CONSOLE, "fit-many", str(folder), *fit, "--workers", str(args.workers)]
        many, unbatched, single, on_ray = [], [], [], []
        for round_ in range(args.rounds):
            many.append(args.pictures / timed([*many_command, "--out", f"{temporary}/many{round_}"]))
            unbatched.append(args.pictures / timed([*many_command, "--out", f"{temporary}/alone{round_}", "--batch", "1"]))
            said = f"round {round_ + 1}: fit-many {many[-1]:.2f} pictures/s ({unbatched[-1]:.2f} with --batch 1)"
            if not args.no_fit:
                seconds = sum(timed([*CONSOLE, "fit", str(path), *fit, "--out", f"{temporary}/one/{path.stem}"])
                              for path in paths)  # fmt: skip
                single.append(args.pictures / seconds)
                said += f", fit per picture {single[-1]:.2f} pictures/s, ratio {many[-1] / single[-1]:.2f}"
            if ray:
                on_ray.append(args.pictures / timed([*many_command, "--out", f"{temporary}/ray{round_}", "--ray"]))
                said += f"; fit-many --ray {on_ray[-1]:.2f} pictures/s, ratio to fit-many {on_ray[-1] / many[-1]:.2f}"
            print(said)
    said = (f"{args.pictures} pictures of {SIZE}x{SIZE}, {DISCS} circles, {args.steps} steps, {args.workers} workers: "
            f"fit-many {np.median(many):.2f} pictures/s, with --batch 1 {np.median(unbatched):.2f} "
            f"(median ratio {np.median(np.array(many) / np.array(unbatched)):.2f})")  # fmt: skip
    if single:
        ratio = float(np.median(np.array(many) / np.array(single)))
        said += f", taichi-sdf fit per picture {np.median(single):.2f} pictures/s, median ratio {ratio:.2f}"
    print(said)
    if ray:
        ratio = float(np.median(np.array(on_ray) / np.array(many)))
        print(
            f"fit-many --ray (a local Ray, {args.workers} actors) {np.median(on_ray):.2f} pictures/s, "
            f"median ratio to the local fit-many {ratio:.2f}"
        )
    else:
        print("Ray is not installed (pip install 'taichi_sdf[ray]'): no fit-many --ray figure")


if __name__ == "__main__":
    main()
