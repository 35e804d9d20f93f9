"""Seconds per picture of fits batched B at a time (``fit_planned_batch``) against one by one (``fit_planned``).

    python benchmarks/bench_fit_batch.py [--pictures 16] [--batches 4 8 16] [--rounds 3] [--steps 200]

Pictures: ``--pictures`` 64x64 images of 32 random flat-coloured discs (those of
bench_fit_many.py), each planned as ``taichi-sdf fit --n 32`` plans it (the command's
defaults otherwise: its starting scene and its Densifier, seeded by the picture), in one
process with one Taichi runtime (``--threads`` CPU threads, default all). A round fits
every picture one by one (B = 1), then in batches of each B, in turns; each picture's
results are checked equal (bitwise) between the ways. Printed: each round's seconds per
picture, and per B the median over the rounds and the median of the per-round ratios to
B = 1 (rounds made moments apart on this shared machine).
"""

import argparse
import tempfile
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from bench_fit_many import DISCS, disc_picture  # this folder is on the path when run as a script

from taichi_sdf.app.fitting import fit_parser, fit_planned, fit_planned_batch, plan_fit
from taichi_sdf.app.running import init_taichi
from taichi_sdf.render import Renderer


def plans(paths: list[Path], out: Path, steps: int) -> list:
    """Fresh plans (a Densifier's generator advances as it fits) of ``paths``."""
    made = []
    for seed, path in enumerate(paths):
        argv = [str(path), "--n", str(DISCS), "--steps", str(steps), "--seed", str(seed), "--out", str(out / path.stem)]
        made.append(plan_fit("circle", fit_parser("circle", "fit").parse_args(argv), time.perf_counter()))
    return made


def fitted(paths: list[Path], out: Path, steps: int, batch: int) -> tuple[float, list]:
    """Seconds per picture to fit ``paths`` ``batch`` at a time, and their results."""
    planned = plans(paths, out, steps)
    renderer = Renderer(planned[0].config)
    start = time.perf_counter()
    if batch == 1:
        results = [fit_planned(plan, renderer) for plan in planned]
    else:
        results = [result for i in range(0, len(planned), batch) for result in
                   fit_planned_batch(planned[i : i + batch], renderer)]  # fmt: skip
    return (time.perf_counter() - start) / len(paths), results


def same(one: list, other: list) -> bool:
    return all(
        a.losses == b.losses
        and all(np.array_equal(value, b.scene.parameters()[key]) for key, value in a.scene.parameters().items())
        for a, b in zip(one, other)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=16)
    parser.add_argument("--batches", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--arch", default="cpu")
    args = parser.parse_args()
    print(f"taichi arch: {init_taichi(args.arch, threads=args.threads)}")
    sizes = [1, *args.batches]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        paths = [folder / f"picture{i:04d}.png" for i in range(args.pictures)]
        for seed, path in enumerate(paths):
            iio.imwrite(path, disc_picture(seed))
        fitted(paths[:1], folder / "out", 2, 1), fitted(paths[:2], folder / "out", 2, 2)  # compile
        seconds = {size: [] for size in sizes}
        for round_ in range(args.rounds):
            one_by_one = None
            for size in sizes:
                taken, results = fitted(paths, folder / "out", args.steps, size)
                seconds[size].append(taken)
                one_by_one = one_by_one or results
                if not same(one_by_one, results):
                    raise SystemExit(f"B = {size}: the results differ from those fitted one by one")
            print(f"round {round_ + 1}: " + ", ".join(f"B={size} {seconds[size][-1]:.3f} s" for size in sizes))
    print(f"{args.pictures} pictures 64x64, {DISCS} circles, {args.steps} steps (results equal whatever B):")
    for size in sizes:
        ratio = np.median(np.array(seconds[1]) / np.array(seconds[size]))
        print(f"  B = {size:2d}: {np.median(seconds[size]):.3f} s per picture, {ratio:.2f}x the pictures/s of B = 1")


if __name__ == "__main__":
    main()
