"""The speed and memory survey: every primitive kind and compositing mode, 256 to 100k
primitives, images from 451x300 to 2048x2048, written to a Markdown report.

    python benchmarks/run.py [--quick] [--arch cpu|cuda|vulkan] [--dtype f32|f64] [--rounds N]
                             [--out FILE]

--quick runs a small subset (mostly compilation, well under a minute) as a smoke check.
The report is printed and written to out/benchmarks/RESULTS.md (untracked); only
--out benchmarks/RESULTS.md replaces the tracked report (do that with a full run).

Every case runs in a fresh Python process (this script, called back with --case), so that
its compilation and its memory are its own. In that process, after ti.init:

- compile ms: the first forward+backward of a 1-primitive 32x32 scene of the case's kind,
  mode and fill, which compiles every kernel the case uses (running them takes well under
  a millisecond). Kernels go to an offline cache made empty for each run, so the first case
  of a kind and mode compiles them and the later ones load them from the cache; the
  compile table gives both. The first call of a process costs compile + f+b.
- fwd ms: the median of Renderer.forward calls (binning, the forward kernel, the image).
- f+b ms: the median of fitting steps as in bench_render.py: forward, the MSE loss and its
  image gradient, Frame.backward to a gradient scene. Each call is timed between
  ti.sync()s; reps calls for each median: --repeats (10, 3 with --quick), fewer where they
  would take more than --budget seconds, never fewer than 3.
- other load: the cores that other processes kept busy meanwhile (/proc/stat's busy time
  less this process's CPU time, over the wall time of the timed calls): near 0 on a quiet
  machine; where it nears 1 of 2 cores, the kernels ran on about one core and the times
  are up to twice what they would be alone. A case disturbed by 0.5 cores or more is run
  again (--retries, default 1, 0 with --quick) and the less disturbed run is kept; in the
  primitives x pixels tables a * marks times still measured so.
- f+b of each run: the speed issue's cases (the first table) are measured in --rounds
  rounds (default 3, 1 with --quick), each round all of them in turn, each case in a
  fresh process, so that the runs of a case lie a minute or more apart; the table keeps the run
  with the lowest f+b median, and this column lists every run's. The machine this was
  written for is a shared VM whose neighbours at times take half of its cores for tens of
  seconds without it showing in /proc/stat (no steal time, other load 0): such runs come
  out up to 2x slower, so the least disturbed run is the one that measures the code.
- peak MB: the peak of the memory that Python and numpy allocate (tracemalloc) during the
  first forward+backward of the case's scene, kernels compiled, starting from an empty
  buffer cache: the frame's working buffers (with their 25 % room to grow), the image, the
  loss's arrays, the gradients and the primitive table. Taichi's own small allocations and
  the compiler's memory are not in it. On the CPU the buffers are numpy arrays; on GPU
  archs they are Taichi ndarrays on the device, so there it counts host arrays only.
- cubic vs straight: the 1000 cubic curves' case also times the same fitting step of
  1000 straight strokes with the same end points in turn with its own, in its process:
  the median over 9 rounds of (curves' 3-call median) / (strokes' 3-call median), which
  load from other processes hits alike, unlike two cases' separate processes.
- dense f+b ms (calls), dense / binned: the same fitting step with
  RenderConfig(culling=False) (every primitive listed in every tile and evaluated at every
  pixel), the median of up to 3 calls, only where primitives x pixels <= 4096 x 512^2, and
  in the kinds x modes table in mean mode only (each mode compiles its own dense kernels).

The growth tables divide f+b at one grid point by f+b at the previous one (4x the
primitives, or 4x the pixels; 100000 / 16384 = 6.1x), and give the same as a factor per
doubling, ratio^(1 / log2(step)). Scenes are random with a fixed seed: positions uniform
over the image, sizes uniform in the range shown (radius for circles, circumradius for
triangles, half-length for strokes and curves, whose widths are 1-3 px), linear fills for
circles and triangles, flat colours for the pen kinds, opacities 0.5-1; pen kinds share
their end points, widths and colours, so straight strokes and curves differ only in their
bends.
"""

import argparse
import datetime
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import NamedTuple

# Taichi and PyTorch each keep a pool of worker threads; with OpenMP's default policy idle
# workers spin and take cores from Taichi's kernels (see bench_torch.py): let them sleep.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

from taichi_sdf.config import MODES  # noqa: E402  (the compositing modes' names)

KINDS = ("circles", "triangles", "strokes", "quadratic", "cubic")
DENSE_LIMIT = 4096 * 512 * 512  # primitives x pixels up to which the dense baseline runs
DENSE_REPEATS = 3
CASE_TIMEOUT_S = 300
CONTENDED = 0.5  # cores kept busy by other processes from which a case is measured again
ALTERNATIONS = 9  # rounds of the curves-against-straight-strokes ratio, timed in turn in one process


class Case(NamedTuple):
    """One measurement: ``n`` primitives of ``kind`` of sizes ``size`` at width x height."""

    kind: str
    mode: str
    n: int
    width: int
    height: int
    size: tuple[float, float]
    dense: bool = False
    versus_straight: bool = False  # also time it against straight strokes in alternation

    def label(self) -> str:
        return f"{self.n} {self.kind} {self.size[0]:g}-{self.size[1]:g} px, {self.width}x{self.height}"


def make_scene(kind: str, n: int, width: int, height: int, size: tuple[float, float], seed: int = 0):
    """A random scene of ``n`` primitives of ``kind`` (see the module docstring)."""
    from taichi_sdf import Circles, CubicCurves, QuadraticCurves, Scene, Strokes, Triangles

    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, (n, 2)) * [width, height]
    scales = rng.uniform(*size, n)
    colours = rng.uniform(0, 1, (n, 3))
    opacities = rng.uniform(0.5, 1.0, n)
    background = rng.uniform(0, 1, 3)
    if kind == "circles":
        group = Circles(centres, scales, colours, rng.normal(0, 0.1, (n, 3, 2)), opacities)
    elif kind == "triangles":
        angles = rng.uniform(0, 2 * np.pi, (n, 1)) + [0, 2 * np.pi / 3, 4 * np.pi / 3] + rng.uniform(-0.5, 0.5, (n, 3))
        corners = centres[:, None] + scales[:, None, None] * np.stack([np.cos(angles), np.sin(angles)], -1)
        group = Triangles(corners.reshape(-1, 2), np.arange(3 * n).reshape(n, 3), colours,
                          rng.normal(0, 0.1, (n, 3, 2)), opacities)  # fmt: skip
    else:
        angle = rng.uniform(0, 2 * np.pi, n)
        half = scales[:, None] * np.stack([np.cos(angle), np.sin(angle)], -1)
        normal = half @ [[0, 1], [-1, 0]]
        widths = rng.uniform(1, 3, n)
        start, end = centres - half, centres + half
        if kind == "strokes":
            points, group_type = [start, end], Strokes
        elif kind == "quadratic":
            points, group_type = [start, centres + rng.uniform(-1, 1, (n, 1)) * normal, end], QuadraticCurves
        else:
            bends = rng.uniform(-0.8, 0.8, (2, n, 1)) * normal
            controls = [start + 2 / 3 * half + bends[0], end - 2 / 3 * half + bends[1]]
            points, group_type = [start, *controls, end], CubicCurves
        corners = len(points)
        group = group_type(np.stack(points, 1).reshape(-1, 2), np.arange(corners * n).reshape(n, corners), widths,
                           colours, opacities)  # fmt: skip
    return Scene(width, height, background, (group,))


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by the whole machine (busy time in /proc/stat) and by this process."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]  # user ... steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK"), time.process_time()  # less idle, iowait


def measure_case(case: Case, args) -> dict:
    """Times and peak memory of ``case`` (see the module docstring), in this process."""
    import taichi as ti

    from taichi_sdf import RenderConfig, Renderer
    from taichi_sdf.losses import MSE

    ti.init(arch=getattr(ti, args.arch), default_fp={"f32": ti.f32, "f64": ti.f64}[args.dtype],
            offline_cache_file_path=args.cache, log_level=ti.WARN)  # fmt: skip
    loss = MSE()

    def fitting_step(scene, culling: bool = True):
        renderer = Renderer(RenderConfig(dtype=args.dtype, mode=case.mode, culling=culling))
        precision = {"f32": np.float32, "f64": np.float64}[args.dtype]
        target = np.full((scene.height, scene.width, 3), 0.5, precision)  # in the render's precision, as fit() holds it

        def step():
            frame = renderer.forward(scene)
            _, image_grad = loss.value_and_grad(frame.image, target)
            return frame.backward(image_grad)

        return renderer, step

    def milliseconds(call) -> float:
        ti.sync()
        start = time.perf_counter()
        call()
        ti.sync()
        return 1e3 * (time.perf_counter() - start)

    def median_ms(call, repeats: int) -> float:
        return statistics.median(milliseconds(call) for _ in range(repeats))

    scene = make_scene(case.kind, case.n, case.width, case.height, case.size)
    tiny = make_scene(case.kind, 1, 32, 32, case.size)
    result = {"arch": ti.lang.impl.current_cfg().arch.name, "taichi": ".".join(map(str, ti.__version__)),
              "compile": milliseconds(fitting_step(tiny)[1])}  # fmt: skip
    renderer, step = fitting_step(scene)
    gc.collect()
    tracemalloc.start()
    step()  # traced, so not timed
    result["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    warm = milliseconds(step)  # sizes the repeats
    result["reps"] = int(max(3, min(args.repeats, 1e3 * args.budget / warm)))
    (machine, mine), start = cpu_seconds(), time.perf_counter()
    result["fwd"] = median_ms(lambda: renderer.forward(scene), result["reps"])
    result["fb"] = median_ms(step, result["reps"])
    machine_after, mine_after = cpu_seconds()
    result["other"] = max(0.0, machine_after - machine - (mine_after - mine)) / (time.perf_counter() - start)
    if case.versus_straight:  # the same scene with straight strokes, timed in turn with it
        straight = fitting_step(make_scene("strokes", case.n, case.width, case.height, case.size))[1]
        straight()  # compiles the strokes' kernels
        ratios = [median_ms(step, 3) / median_ms(straight, 3) for _ in range(ALTERNATIONS)]
        result["vs_straight"] = statistics.median(ratios)
    if case.dense:
        result["dense_compile"] = milliseconds(fitting_step(tiny, culling=False)[1])
        dense_step = fitting_step(scene, culling=False)[1]
        times = [milliseconds(dense_step)]
        while len(times) < DENSE_REPEATS and sum(times) < 1e3 * args.budget:
            times.append(milliseconds(dense_step))
        result.update(dense=statistics.median(times), dense_reps=len(times))
    return result


def run_case(case: Case, args) -> dict:
    """``case`` measured in a fresh process; on failure or timeout, {'note': why}."""
    command = [sys.executable, os.path.abspath(__file__), "--case", json.dumps(case._asdict()), "--arch", args.arch,
               "--dtype", args.dtype, "--repeats", str(args.repeats), "--budget", str(args.budget),
               "--cache", args.cache]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CASE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"note": f"skipped: over {CASE_TIMEOUT_S} s on this machine"}
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or [f"exit status {done.returncode}"]
        return {"note": f"failed: {lines[-1][:120]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measured(case: Case, args) -> dict:
    """``case`` run again (up to --retries times) while other processes kept CONTENDED cores
    busy: the least disturbed run, with the first run's compile times (later runs load the
    kernels from the cache)."""
    first = best = run_case(case, args)
    for _ in range(args.retries):
        if best.get("other", 0.0) < CONTENDED:
            break
        again = run_case(case, args)
        if again.get("other", np.inf) < best["other"]:
            best = again
    return {**best, **{key: first[key] for key in ("compile", "dense_compile") if key in first}}


def least_disturbed(runs: list[dict]) -> dict:
    """Of several runs of one case, the one with the lowest f+b median, with every run's
    f+b (``fb_runs``), the median of every run's curves-to-strokes ratio, and the first
    run's compile times (later runs load the kernels from the cache)."""
    timed = [run for run in runs if "fb" in run]
    if not timed:
        return runs[0]
    best = {**min(timed, key=lambda run: run["fb"]), "fb_runs": [run["fb"] for run in timed]}
    if "vs_straight" in best:
        best["vs_straight"] = statistics.median(run["vs_straight"] for run in timed)
    return {**best, **{key: runs[0][key] for key in ("compile", "dense_compile") if key in runs[0]}}


def survey(quick: bool) -> list[tuple[str, list[Case]]]:
    """The sections of the report, (title, cases), the dense baseline marked where it runs."""
    small, pen, photo, dots = (2.0, 16.0), (5.0, 30.0), (2.0, 40.0), (1.0, 8.0)
    drawing = [Case(kind, "softor", 1000, 451, 300, pen, versus_straight=kind == "cubic")
               for kind in ("strokes", "cubic")]  # fmt: skip
    if quick:
        named = [Case("circles", "mean", 256, 451, 300, photo), Case("circles", "mean", 4096, 512, 512, small)]
        named, kinds_mode, kinds_n, kinds_side = named + drawing, ("softor",), 256, 256
        counts, sides, dense_limit = (256, 1024), (256, 512), 256 * 451 * 300
    else:
        named = [Case("circles", mode, 256, 451, 300, photo) for mode in MODES]
        named += [Case("circles", mode, 4096, 512, 512, small) for mode in MODES]
        named += [Case("circles", mode, 100000, 1024, 1024, dots) for mode in MODES] + drawing
        kinds_mode, kinds_n, kinds_side = MODES, 1024, 512
        counts, sides, dense_limit = (256, 1024, 4096, 16384, 100000), (512, 1024, 2048), DENSE_LIMIT
    kinds = [Case(kind, mode, kinds_n, kinds_side, kinds_side, pen if kind in KINDS[2:] else small)
             for kind in KINDS for mode in kinds_mode]  # fmt: skip
    grid = [Case("circles", "mean", n, side, side, dots) for n in counts for side in sides]

    def marked(cases, modes=MODES):
        return [c._replace(dense=c.n * c.width * c.height <= dense_limit and c.mode in modes) for c in cases]

    return [
        ("The speed issue's cases: a photo fit, many small circles, 100k dots, cubic curves vs straight strokes",
         marked(named)),
        (f"Kinds x modes, {kinds_n} primitives at {kinds_side}x{kinds_side}", marked(kinds, ("mean",))),
        ("Circles of radius 1-8 px, mean mode: primitives x pixels", marked(grid)),
    ]  # fmt: skip


HEADER = ["| case | mode | fwd ms | f+b ms | f+b of each run | peak MB | reps | other load | dense f+b ms (calls) "
          "| dense / binned |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip


def table_row(case: Case, result: dict) -> str:
    """The Markdown table row of ``case``."""
    if "note" in result:
        return f"| {case.label()} | {case.mode} | {result['note']} |" + " |" * 7
    dense = "— | —"
    if case.dense:
        dense = f"{result['dense']:.0f} ({result['dense_reps']}) | {result['dense'] / result['fb']:.1f}×"
    fb_runs = result.get("fb_runs", [])
    runs = " / ".join(f"{fb:.1f}" for fb in fb_runs) if len(fb_runs) > 1 else "—"
    return (f"| {case.label()} | {case.mode} | {result['fwd']:.1f} | {result['fb']:.1f} | {runs} "
            f"| {result['peak_mb']:.1f} | {result['reps']} | {result['other']:.1f} | {dense} |")  # fmt: skip


def compile_table(results: dict) -> list[str]:
    """Markdown lines: per kind and mode, compile time, and load time from the cache."""
    lines = ["| kind | mode | compile ms | later cases: from the cache, ms | dense: compile ms |",
             "|---|---|---|---|---|"]  # fmt: skip
    for kind in KINDS:
        for mode in MODES:
            runs = [r for c, r in results.items() if (c.kind, c.mode) == (kind, mode) and "compile" in r]
            if runs:
                loads = "—"
                if runs[1:]:
                    loads = f"{statistics.median(r['compile'] for r in runs[1:]):.0f} ({len(runs) - 1})"
                dense = next((f"{r['dense_compile']:.0f}" for r in runs if "dense_compile" in r), "—")
                lines.append(f"| {kind} | {mode} | {runs[0]['compile']:.0f} | {loads} | {dense} |")
    return lines


def growth_tables(grid: list[Case], results: dict) -> list[str]:
    """Markdown lines: the grid's f+b times and their growth along each axis, a * where a
    time was measured while other processes kept CONTENDED cores busy."""
    counts, sides = sorted({c.n for c in grid}), sorted({c.width for c in grid})
    point = {(c.n, c.width): results[c] for c in grid}

    def mark(*runs):
        return "*" if any(run["other"] >= CONTENDED for run in runs) else ""

    def cell(run):
        return "—" if "fb" not in run else f"{run['fb']:.1f}{mark(run)}"

    def growth(after, before, step):
        if "fb" not in after or "fb" not in before:
            return "—"
        ratio = after["fb"] / before["fb"]
        return f"{ratio:.2f}× ({ratio ** (1 / np.log2(step)):.2f}× per doubling){mark(after, before)}"

    columns = " | ".join(f"{s}x{s}" for s in sides)
    lines = ["f+b ms:", "", f"| primitives | {columns} |", "|---|" + "---|" * len(sides)]
    lines += [f"| {n} | " + " | ".join(cell(point[n, s]) for s in sides) + " |" for n in counts]
    lines += ["", "Growth of f+b with the primitive count:", "", f"| primitives | {columns} |",
              "|---|" + "---|" * len(sides)]  # fmt: skip
    lines += [f"| {a} → {b} | " + " | ".join(growth(point[b, s], point[a, s], b / a) for s in sides) + " |"
              for a, b in zip(counts, counts[1:])]  # fmt: skip
    steps = list(zip(sides, sides[1:]))
    lines += ["", "Growth of f+b with the pixel count:", "",
              "| primitives | " + " | ".join(f"{a}² → {b}²" for a, b in steps) + " |",
              "|---|" + "---|" * len(steps)]  # fmt: skip
    lines += [f"| {n} | " + " | ".join(growth(point[n, b], point[n, a], (b / a) ** 2) for a, b in steps) + " |"
              for n in counts]  # fmt: skip
    return lines


def cubic_vs_straight(cases: list[Case], results: dict) -> str:
    """The sentence comparing 1000 cubic curves with 1000 straight strokes."""
    straight, cubic = (results[next(c for c in cases if c.kind == kind)] for kind in ("strokes", "cubic"))
    if "fb" not in straight or "fb" not in cubic:
        return "Cubic curves vs straight strokes: not measured (see the table)."
    alternated = ""
    if "vs_straight" in cubic:
        alternated = (f"; f+b {cubic['vs_straight']:.2f}× timed in turn in one process (median of {ALTERNATIONS} "
                      f"rounds of 3-call medians, so that load from other processes hits both alike; the median "
                      f"over the case's runs)")
    return (f"1000 cubic curves / 1000 straight strokes with the same end points (451x300, softor): "
            f"fwd {cubic['fwd'] / straight['fwd']:.2f}×, f+b {cubic['fb'] / straight['fb']:.2f}× "
            f"from the table's separate processes{alternated}.")


def machine() -> str:
    """CPU model, cores, memory and load of this machine."""
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    with open("/proc/meminfo") as meminfo:
        ram = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")) / 2**20
    return (f"- Machine: {model}, {os.cpu_count()} cores, {ram:.1f} GiB RAM, {platform.system()} "
            f"{platform.release()}; load average {os.getloadavg()[0]:.2f} when the run started")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small subset, for smoke checks")
    parser.add_argument("--arch", default="cpu", choices=("cpu", "cuda", "vulkan"), help="taichi arch (default cpu)")
    parser.add_argument("--dtype", default="f32", choices=("f32", "f64"), help="render dtype (default f32)")
    parser.add_argument("--out", default="out/benchmarks/RESULTS.md",
                        help="the Markdown report (default %(default)s; the tracked one is benchmarks/RESULTS.md)")
    parser.add_argument("--repeats", type=int, help="calls per median (default 10, 3 with --quick)")
    parser.add_argument("--retries", type=int, help="runs again of a disturbed case (default 1, 0 with --quick)")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per median before fewer repeats (default 3)")
    parser.add_argument("--rounds", type=int, help="runs of each of the speed issue's cases (default 3, 1 with --quick)")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the survey calls itself back with one case
    parser.add_argument("--cache", help=argparse.SUPPRESS)  # and the run's offline cache
    args = parser.parse_args()
    args.repeats = args.repeats or (3 if args.quick else 10)
    args.retries = (0 if args.quick else 1) if args.retries is None else args.retries
    args.rounds = max(1, (1 if args.quick else 3) if args.rounds is None else args.rounds)
    if args.case:
        fields = json.loads(args.case)
        print(json.dumps(measure_case(Case(**{**fields, "size": tuple(fields["size"])}), args)))
        return

    started = time.perf_counter()
    command = "python " + shlex.join([os.path.relpath(__file__), *sys.argv[1:]])
    head = ["# taichi_sdf benchmark results", "", machine()]
    print("\n".join(head), flush=True)
    results, body = {}, []
    with tempfile.TemporaryDirectory(prefix="taichi_sdf_bench_") as args.cache:
        for number, (title, cases) in enumerate(survey(args.quick)):
            section = ["", f"## {title}", "", *HEADER]
            print("\n".join(section), flush=True)
            rounds = args.rounds if number == 0 else 1  # the speed issue's cases
            runs = {case: [] for case in cases if case not in results}
            for _ in range(rounds - 1):
                for case in runs:
                    runs[case].append(measured(case, args))
            for case in cases:
                if case in runs:
                    results[case] = least_disturbed(runs[case] + [measured(case, args)])
                section.append(table_row(case, results[case]))
                print(section[-1], flush=True)
            extra = [""]
            if any(c.kind == "cubic" and c.n == 1000 for c in cases):
                extra.append(cubic_vs_straight(cases, results))
            if title.startswith("Circles"):
                extra += growth_tables(cases, results)
            print("\n".join(extra), flush=True)
            body += section + extra
    extra = ["", "## Compilation", "", *compile_table(results)]
    print("\n".join(extra))
    run = next((r for r in results.values() if "arch" in r), {})
    head += [f"- Taichi {run.get('taichi', '?')}, arch {run.get('arch', '?')}, dtype {args.dtype}, "
             f"tile {32 if args.arch == 'cpu' else 16} (RenderConfig's default), anti-aliasing 1 px",
             f"- {datetime.datetime.now().isoformat(timespec='minutes')}: `{command}`, {len(results)} cases "
             f"in {time.perf_counter() - started:.0f} s",
             "", __doc__.split("\n\n", 3)[3].strip()]  # fmt: skip
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as out:
        out.write("\n".join(head + body + extra) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
