"""How close the SVG a fit writes is to the fit's own render, measured against the target.

    python demos/circles.py chelsea.png --n 256 --out out
    python benchmarks/svg_fidelity.py out chelsea.png

Renders OUT/render.svg with resvg (an independent SVG renderer; ``pip install resvg-py``,
part of the ``test`` extra) at the image's size and prints its PSNR against the target
beside the PSNR of OUT/render.png, and the PSNR between the two renders.
"""

import argparse
import io
from pathlib import Path

import imageio.v3 as iio
import resvg_py

from taichi_sdf.io import load_image
from taichi_sdf.losses import psnr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="output directory of a fit (render.png, render.svg)")
    parser.add_argument("image", help="the image the fit was made of")
    args = parser.parse_args()
    target, _ = load_image(args.image)
    ours = iio.imread(args.out / "render.png")[..., :3] / 255.0
    svg = (args.out / "render.svg").read_text()
    theirs = iio.imread(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg))))[..., :3] / 255.0
    print(
        f"PSNR against the target: render.png {psnr(ours, target):.2f} dB, render.svg by resvg {psnr(theirs, target):.2f} dB"
    )
    print(
        f"difference {psnr(ours, target) - psnr(theirs, target):.2f} dB; render.svg against render.png {psnr(theirs, ours):.1f} dB"
    )


if __name__ == "__main__":
    main()
