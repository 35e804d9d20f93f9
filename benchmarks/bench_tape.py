"""The render under Taichi's autodiff against the plain API, and the physics demo end to end.

    python benchmarks/bench_tape.py [--arch cpu] [--rounds 25] [--no-demo]

1. Overhead: forward+backward of 256 circles at 451x300 (f32) as a Taichi program runs it,
   ``with ti.ad.Tape(loss): render(); dot()`` (``taichi_sdf.taichi.RenderKernel`` on
   parameters in fields, ``dot`` a kernel summing a fixed image gradient times the image
   field, so the image's gradient is that fixed one), against the numpy API
   (``Renderer.forward`` + ``Frame.backward`` of the same gradient), in alternation; the
   median of the ratios. Also what the Tape and the loss kernel cost without the render
   (Taichi clears every field's gradient as a Tape starts, then runs the loss kernel and its
   adjoint), and the render by hand (``render(); render.grad()``, the image's gradient copied
   into place from a field first, as the numpy API is handed it), which leaves those out;
   and the Tape path against a numpy API step that computes the same loss value as well.
   What the render adds to the numpy API's work: a kernel gathering the fields into the
   primitive table and one scattering its gradient back, and two copies of the image, into
   the image field and its gradient out of it.
2. The physics demo (``demos/taichi_physics.py`` with its default options) end to end, in
   a subprocess: its wall time.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import taichi as ti
from alternation import alternated_ratio, circles

from taichi_sdf import Renderer
from taichi_sdf.taichi import RenderKernel, scene_fields

ROOT = Path(__file__).resolve().parents[1]


@ti.kernel
def dot(image: ti.template(), weights: ti.template(), loss: ti.template()):
    for i, j in image:
        loss[None] += weights[i, j].dot(image[i, j])


def overhead(rounds: int) -> None:
    scene = circles(256, 451, 300)
    image_grad = np.random.default_rng(1).normal(0, 1e-6, (300, 451, 3)).astype(np.float32)
    renderer = Renderer()

    def numpy_step():
        renderer.forward(scene).backward(image_grad)

    def numpy_step_with_loss():  # as a numpy API user computes the same loss: its value, then its gradient
        frame = renderer.forward(scene)
        float(np.vdot(image_grad, frame.image))
        frame.backward(image_grad)

    params = scene_fields(scene)  # every parameter, with gradients
    render = RenderKernel(scene, params)
    weights = ti.Vector.field(3, ti.f32, (300, 451))
    weights.from_numpy(image_grad)
    loss = ti.field(ti.f32, (), needs_grad=True)

    def tape_step():
        with ti.ad.Tape(loss):
            render()
            dot(render.image, weights, loss)

    def by_hand_step():
        render()
        render.image.grad.copy_from(weights)
        render.grad()

    def tape_and_loss_only():  # what Taichi's Tape and the loss kernel cost without the render
        with ti.ad.Tape(loss):
            dot(render.image, weights, loss)

    tape_step()
    check = renderer.forward(scene).backward(image_grad).shapes[0].centres
    error = np.abs(params["0.centres"].grad.to_numpy() - check).max() / np.abs(check).max()
    print(
        f"256 circles 451x300, forward+backward of one image gradient (centre gradients agree to {error:.1e}); "
        f"medians, and the median of the per-alternation ratios, over {rounds} alternations with the numpy API:"
    )
    ratio, mine, theirs = alternated_ratio(tape_step, numpy_step, rounds)
    print(
        f"  Tape path (with ti.ad.Tape(loss): render(); dot()) {mine:.2f} ms, numpy API {theirs:.2f} ms; "
        f"ratio {ratio:.3f} ({100 * (ratio - 1):+.1f} %)"
    )
    ratio, mine, theirs = alternated_ratio(tape_step, numpy_step_with_loss, rounds)
    print(f"    against the numpy API computing the same loss (np.vdot) {theirs:.2f} ms: ratio {ratio:.3f} "
          f"({100 * (ratio - 1):+.1f} %)")  # fmt: skip
    ratio, mine, theirs = alternated_ratio(tape_and_loss_only, numpy_step, rounds)
    print(f"    the Tape and the loss kernel alone (no render) {mine:.2f} ms; against the numpy API {ratio:.3f}")
    ratio, mine, theirs = alternated_ratio(by_hand_step, numpy_step, rounds)
    print(f"  by hand (render(); image gradient in place; render.grad()) {mine:.2f} ms, numpy API {theirs:.2f} ms; "
          f"ratio {ratio:.3f} ({100 * (ratio - 1):+.1f} %)")  # fmt: skip


def physics_demo() -> None:
    out = ROOT / "out" / "bench_taichi_physics"
    command = [
        sys.executable,
        str(ROOT / "demos" / "taichi_physics.py"),
        "--out",
        str(out),
        "--gif",
        str(out / "run.gif"),
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        print(f"physics demo failed ({result.returncode}): {result.stderr.strip().splitlines()[-1:]}")
        return
    lines = result.stdout.strip().splitlines()
    print(f"physics demo (default options) end to end: {elapsed:.1f} s; it says: {lines[-1] if lines else ''}")
    print(f"  (its GIF and pictures went to {out}/)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="cpu", help="taichi arch (default cpu)")
    parser.add_argument("--rounds", type=int, default=25, help="alternations timed (default 25)")
    parser.add_argument("--no-demo", action="store_true", help="leave out the physics demo")
    args = parser.parse_args()
    ti.init(arch=getattr(ti, args.arch), log_level=ti.WARN)
    print(f"arch: {ti.lang.impl.current_cfg().arch.name}; f32")
    overhead(args.rounds)
    if not args.no_demo:
        physics_demo()


if __name__ == "__main__":
    main()
