"""Real SVG files from PyPI packs: how many import, and how close they render to resvg.

    pip install fontawesomefree==6.6.0 kanjivg==20260714    # part of the ``test`` extra
    python benchmarks/svg_packs.py [--packs fontawesome,kanjivg] [--n N] [--zoom 4] [--scale S]
                                   [--seconds S]

For each pack (fontawesome: Font Awesome Free's 2,050 icons, compound filled paths with holes
and arcs, a 512-unit viewBox; kanjivg: KanjiVG's 11,662 kanji, round-capped cubic strokes with
stroke-number ``<text>`` groups) every file is imported with :func:`taichi_sdf.svg.svg_to_scene`
(its SvgWarning reasons counted, with numbers as N), and each imported file is rendered by us
(alpha mode, aa_width 0.6, float32, as SVG viewers draw) and by resvg at ``--zoom`` times the
pack's base size, and compared in PSNR. resvg loads no fonts, so neither side draws the ``<text>``
an import skips. The base size is the file's own, except Font Awesome's, taken at a quarter of its
viewBox (icons 128 px tall, rendered 512 px tall at 4x, the size that they are shown at; at 2048
px resvg takes 0.8 s an icon and the edges' share, hence the error, is four times smaller);
``--scale`` sets the base size of every pack run (``--scale 1``: the files' own).

It prints, per pack: the files run (``--n`` takes N evenly spaced ones, ``--seconds`` stops a pack
early and says so), the share that imported, the warnings' reasons (files with each), the errors,
the share of the imported files rendering >= 30 dB against resvg, the median dB, the 10 worst
files with their dB, and the wall time.
"""

import argparse
import io
import re
import statistics
import time
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import resvg_py
import taichi as ti

from taichi_sdf import RenderConfig, Renderer
from taichi_sdf.losses import psnr
from taichi_sdf.svg import SvgError, SvgWarning, svg_to_scene

TARGET_DB = 30.0
NUMBER = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class Pack:
    """Where a PyPI distribution keeps its SVG files, and the scale of its base size."""

    distribution: str
    folder: str  # inside the distribution's installation
    scale: float  # of the file's own size (a power of two keeps sizes whole)

    def files(self) -> list[Path]:
        return sorted(Path(metadata.distribution(self.distribution).locate_file(self.folder)).rglob("*.svg"))


PACKS = {
    "fontawesome": Pack("fontawesomefree", "fontawesomefree/static/fontawesomefree/svgs", 0.25),
    "kanjivg": Pack("kanjivg", "kanji", 1.0),
}


def resvg_render(text: str, zoom: float) -> np.ndarray:
    """resvg's drawing of ``text`` at ``zoom`` times its size, without fonts, on white, RGB in [0, 1]."""
    rgba = iio.imread(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=text, zoom=zoom, skip_system_fonts=True))))
    rgba = rgba / 255.0
    return rgba[..., :3] * rgba[..., 3:] + 1.0 - rgba[..., 3:]


def reasons(line: str) -> list[str]:
    """The reasons in an SvgWarning line, with their counts as N: 'skipped N <text>', ..."""
    found = []
    for part in line.split("; "):
        verb, _, items = part.partition(" ")
        found += [f"{verb} {NUMBER.sub('N', item)}" for item in items.split(", ")]
    return found


def run_pack(name: str, files: list[Path], n: int | None, zoom: float, seconds: float, renderer: Renderer) -> None:
    """Import, render and compare ``files`` (or N evenly spaced ones) at ``zoom`` times their size; print the figures."""
    if n is not None and n < len(files):
        files = [files[round(i * len(files) / n)] for i in range(n)]  # evenly spaced, every folder
    warned, errors, scores = {}, {}, {}  # reason -> files, error -> files, file -> dB
    start, run = time.perf_counter(), 0
    for path in files:
        if time.perf_counter() - start > seconds:
            break
        run += 1
        text = path.read_text(encoding="utf-8")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SvgWarning)
            try:
                scene = svg_to_scene(text)
            except Exception as error:  # noqa: BLE001 - a crash is counted like a refusal, the run goes on
                kind = "" if isinstance(error, SvgError) else f"crash {type(error).__name__}: "
                key = kind + re.sub(r'"[^"]*"', '"..."', NUMBER.sub("N", str(error)))
                errors[key] = errors.get(key, 0) + 1
                continue
        for reason in {r for w in caught if issubclass(w.category, SvgWarning) for r in reasons(str(w.message))}:
            warned[reason] = warned.get(reason, 0) + 1
        ours = np.clip(renderer.render(scene.scaled(zoom)), 0.0, 1.0)
        theirs = resvg_render(text, zoom)
        label = str(path.relative_to(path.parents[1])) if name == "fontawesome" else path.name
        scores[label] = psnr(ours, theirs) if ours.shape == theirs.shape else float("-inf")
    wall = time.perf_counter() - start
    imported = len(scores)
    print(f"\n== {name}: {run} files run of {len(files)}" + (" (stopped by --seconds)" if run < len(files) else ""))
    print(f"imported {imported}/{run} = {100 * imported / max(run, 1):.2f} %")
    for title, counts in (("warnings (files)", warned), ("errors (files)", errors)):
        for key, count in sorted(counts.items(), key=lambda item: -item[1]):
            print(f"  {title}: {count:5d}  {key}")
    if scores:
        good = sum(db >= TARGET_DB for db in scores.values())
        print(f"rendering >= {TARGET_DB:.0f} dB against resvg: {good}/{imported} = {100 * good / imported:.2f} %")
        print(f"median {statistics.median(scores.values()):.2f} dB; worst 10:")
        for label, db in sorted(scores.items(), key=lambda item: item[1])[:10]:
            print(f"  {db:7.2f} dB  {label}")
    print(f"wall {wall:.1f} s ({1000 * wall / max(run, 1):.0f} ms a file)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packs", default=",".join(PACKS), help="comma-separated, of: " + ", ".join(PACKS))
    parser.add_argument("--n", type=int, default=None, help="at most N files a pack, evenly spaced (default all)")
    parser.add_argument("--zoom", type=float, default=4.0, help="render size over the base size")
    parser.add_argument("--scale", type=float, default=None, help="base size over the file's (default per pack)")
    parser.add_argument("--seconds", type=float, default=float("inf"), help="stop a pack after this long")
    args = parser.parse_args()
    unknown = set(args.packs.split(",")) - set(PACKS)
    if unknown:
        parser.error(f"unknown pack {min(unknown)!r} (known: {', '.join(PACKS)})")
    ti.init(arch=ti.cpu, log_level=ti.WARN)
    renderer = Renderer(RenderConfig(mode="alpha", aa_width=0.6, dtype="f32"))
    for name in args.packs.split(","):
        pack = PACKS[name]
        scale = pack.scale if args.scale is None else args.scale
        run_pack(name, pack.files(), args.n, args.zoom * scale, args.seconds, renderer)


if __name__ == "__main__":
    main()
