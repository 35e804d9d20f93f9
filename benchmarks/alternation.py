"""What the op benchmarks share: timing a step against a baseline in alternation, and their scene.

Timings on a shared machine drift; alternating the candidate and the baseline in one process
and taking the median of the per-round ratios compares runs made moments apart.
"""

import time

import numpy as np

from taichi_sdf import Circles, Scene


def seconds(step, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats


def alternated_ratio(step, baseline, rounds: int, repeats: int = 5) -> tuple[float, float, float]:
    """Median over ``rounds`` of time(step) / time(baseline), timed in alternation, and
    the two medians in milliseconds. The median of the ratios is not the ratio of the
    medians: each ratio compares two runs made moments apart, so it holds when this shared
    machine's speed drifts between rounds."""
    step(), baseline()  # compile and warm up
    mine, theirs = [], []
    for _ in range(rounds):
        mine.append(seconds(step, repeats))
        theirs.append(seconds(baseline, repeats))
    ratios = np.array(mine) / np.array(theirs)
    return float(np.median(ratios)), 1e3 * float(np.median(mine)), 1e3 * float(np.median(theirs))


def circles(n: int, width: int, height: int, seed: int = 0) -> Scene:
    """``n`` circles of radius 4-40 px with linear fills over a grey background."""
    rng = np.random.default_rng(seed)
    group = Circles(
        rng.uniform(0, 1, (n, 2)) * [width, height], rng.uniform(4, 40, n), rng.uniform(0, 1, (n, 3)),
        rng.normal(0, 0.1, (n, 3, 2)),
    )  # fmt: skip
    return Scene(width, height, [0.5, 0.5, 0.5], (group,))
