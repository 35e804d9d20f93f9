"""A differentiable simulation in Taichi, seen only through a picture: recover how it was launched.

    python demos/taichi_physics.py [--steps 120] [--arch cpu] [--out out/taichi_physics] [--gif PATH]

A chain of four masses joined by soft springs is thrown under gravity: the masses start at
rest positions on a line, each with its own launch velocity, and 300 substeps of a
mass-spring simulation (semi-implicit Euler, difftaichi style: one kernel launch per
substep, every state kept) carry them to their state a second later. That final state is
drawn through ``taichi_sdf.taichi.RenderKernel``: the masses as circles (one colour each),
the springs as strokes, and each mass's velocity as a streak behind it (where it was a
quarter of a second before, at its present speed; positions alone leave some launch
velocities barely visible). The target is the picture of the final state thrown with the
true velocities; starting from one common guess, Adam recovers the four launch velocities
from it by gradient descent through simulation and render, each step one ``ti.ad.Tape``
(the image loss compares the pictures at four scales, so that shapes that do not overlap
yet still pull towards each other).

Prints the loss and the velocity error as it goes, and the recovered against the true
velocities; writes OUT/target.png, OUT/final.png (target | recovered), OUT/metrics.json, and
the GIF (target | the optimisation, frame by frame) to OUT/optimisation.gif or ``--gif PATH``
(the README's is docs/taichi_physics.gif). Ctrl-C stops the descent and still writes them
(exit status 130).
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 160, 120  # pixels; positions are in pixels, velocities in pixels per second
SUBSTEPS, DURATION = 300, 1.0  # the simulation: 300 steps of 1/300 s
GRAVITY = (0.0, 160.0)  # y points down
STIFFNESS, REST, DAMPING = 3.0, 16.0, 0.5  # springs: 1/s^2 per pixel of stretch, rest length px; 1/s
START = np.array([[24.0, 100.0], [40.0, 100.0], [56.0, 100.0], [72.0, 100.0]])  # rest positions, px
TRUE_VELOCITIES = np.array([[70.0, -120.0], [85.0, -150.0], [60.0, -95.0], [95.0, -135.0]])  # px/s
GUESS = (75.0, -120.0)  # every mass starts from this launch velocity
STREAK = 0.25  # seconds of motion a mass's streak shows
COLOURS = np.array([[0.85, 0.2, 0.15], [0.95, 0.65, 0.1], [0.2, 0.6, 0.3], [0.2, 0.35, 0.8]])
FRAMES = 40  # at most, in the GIF
LEVELS = 4  # scales of the image loss: 1, 1/2, 1/4, 1/8


def parse(argv):
    from taichi_sdf.app.arguments import OneLineParser, positive_int

    parser = OneLineParser(prog="taichi_physics.py", description=__doc__)
    parser.add_argument("--steps", type=positive_int, default=120, help="gradient steps (default 120)")
    parser.add_argument("--arch", choices=("cpu", "cuda", "vulkan"), default="cpu", help="Taichi backend (default cpu)")
    parser.add_argument("--out", default="out/taichi_physics", help="output folder (default out/taichi_physics)")
    parser.add_argument("--gif", help="the animation (.gif; default OUT/optimisation.gif)")
    return parser.parse_args(argv)


def planned_outputs(args):
    """The output files, each checked (and the folder made), and the GIF's path."""
    from taichi_sdf.app.outputs import Outputs, check_folder
    from taichi_sdf.app.running import UsageError

    out = Path(args.out)
    gif = Path(args.gif) if args.gif else out / "optimisation.gif"
    if gif.suffix.lower() != ".gif":
        raise UsageError(f"--gif must name a .gif file, got {args.gif}")
    if not out.is_dir():
        check_folder(out)
    return Outputs([out / "target.png", out / "final.png", out / "metrics.json", gif]), gif


def build(ti):
    """The simulation, the render and the loss, as Taichi fields and kernels (after ti.init)."""
    from taichi_sdf import Circles, RenderConfig, Scene, Strokes
    from taichi_sdf.taichi import RenderKernel, scene_fields

    masses = len(START)
    x = ti.Vector.field(2, ti.f32, (SUBSTEPS + 1, masses), needs_grad=True)
    v = ti.Vector.field(2, ti.f32, (SUBSTEPS + 1, masses), needs_grad=True)
    launch = ti.Vector.field(2, ti.f32, masses, needs_grad=True)  # the unknowns
    start = ti.Vector.field(2, ti.f32, masses)
    start.from_numpy(START.astype(np.float32))
    dt = DURATION / SUBSTEPS

    @ti.kernel
    def begin():
        for i in range(masses):
            x[0, i] = start[i]
            v[0, i] = launch[i]

    @ti.kernel
    def substep(t: ti.i32):
        for i in range(masses):
            force = ti.Vector(GRAVITY) - DAMPING * v[t - 1, i]
            for j in ti.static((-1, 1)):  # the springs to the neighbours in the chain
                if (j < 0 and i > 0) or (j > 0 and i < masses - 1):
                    offset = x[t - 1, i + j] - x[t - 1, i]
                    length = offset.norm()
                    force += STIFFNESS * (length - REST) * offset / length
            v[t, i] = v[t - 1, i] + dt * force
            x[t, i] = x[t - 1, i] + dt * v[t, i]

    # The final state: springs (dark) and each mass's streak (the way it came in the last
    # STREAK seconds, in its colour, lighter) as strokes, under the masses as circles. The
    # strokes' points: the masses, then the streaks' tails.
    springs = np.stack([np.arange(masses - 1), np.arange(1, masses)], axis=1)
    streaks = np.stack([np.arange(masses), np.arange(masses, 2 * masses)], axis=1)
    strokes = Strokes(
        np.concatenate([START, START]), np.concatenate([springs, streaks]),
        np.concatenate([np.full(masses - 1, 2.0), np.full(masses, 4.0)]),
        np.concatenate([np.full((masses - 1, 3), 0.25), 0.5 + 0.5 * COLOURS]),
    )  # fmt: skip
    template = Scene(WIDTH, HEIGHT, [1.0, 1.0, 1.0], (strokes, Circles(START, np.full(masses, 6.0), COLOURS)))
    params = scene_fields(template, ["0.points", "1.centres"])
    render = RenderKernel(template, params, RenderConfig(mode="over"))
    points, centres = params["0.points"], params["1.centres"]

    @ti.kernel
    def draw():
        for i in range(masses):
            centres[i] = x[SUBSTEPS, i]
            points[i] = x[SUBSTEPS, i]
            points[masses + i] = x[SUBSTEPS, i] - STREAK * v[SUBSTEPS, i]

    # The loss: squared error of the picture against the target at LEVELS scales (each level
    # the 2x2 means of the one above), so that it pulls shapes that do not overlap yet.
    sizes = [(HEIGHT >> k, WIDTH >> k) for k in range(LEVELS)]
    differences = [ti.Vector.field(3, ti.f32, size, needs_grad=True) for size in sizes]
    target = ti.Vector.field(3, ti.f32, sizes[0])
    loss = ti.field(ti.f32, (), needs_grad=True)

    @ti.kernel
    def compare():
        for i, j in differences[0]:
            differences[0][i, j] = render.image[i, j] - target[i, j]

    @ti.kernel
    def shrink(finer: ti.template(), coarser: ti.template()):
        for i, j in coarser:
            coarser[i, j] = 0.25 * (finer[2 * i, 2 * j] + finer[2 * i + 1, 2 * j] + finer[2 * i, 2 * j + 1]
                                    + finer[2 * i + 1, 2 * j + 1])  # fmt: skip

    @ti.kernel
    def add_squares(difference: ti.template(), weight: ti.f32):
        for i, j in difference:
            loss[None] += weight * difference[i, j].norm_sqr()

    def simulate_and_draw():
        begin()
        for t in range(1, SUBSTEPS + 1):
            substep(t)
        draw()
        render()

    def image_loss():
        compare()
        for k in range(1, LEVELS):
            shrink(differences[k - 1], differences[k])
        for k, difference in enumerate(differences):  # each level weighs as much as the full picture
            add_squares(difference, 4.0**k / (WIDTH * HEIGHT))

    return launch, target, loss, render, simulate_and_draw, image_loss


def frame(target: np.ndarray, image: np.ndarray) -> np.ndarray:
    """target | image, twice the size, 8-bit."""
    pair = np.concatenate([target, np.ones((HEIGHT, 4, 3)), image], axis=1)
    return (np.clip(pair, 0.0, 1.0).repeat(2, axis=0).repeat(2, axis=1) * 255 + 0.5).astype(np.uint8)


def run(args) -> int:
    import taichi as ti

    from taichi_sdf.app.running import init_taichi
    from taichi_sdf.app.start import EXIT_INTERRUPTED, interrupts_held
    from taichi_sdf.io import save_gif, save_image
    from taichi_sdf.optim import Adam

    started = time.perf_counter()
    outputs, gif = planned_outputs(args)
    out = outputs.paths[0].parent
    arch = init_taichi(args.arch)
    launch, target, loss, render, simulate_and_draw, image_loss = build(ti)

    launch.from_numpy(TRUE_VELOCITIES.astype(np.float32))
    simulate_and_draw()
    target_image = render.image.to_numpy()
    target.from_numpy(target_image)

    velocities = np.tile(np.array(GUESS), (len(START), 1))
    adam, losses, frames = Adam(velocities.shape, beta2=0.99, eps=1e-12), [], []
    every = -(-args.steps // FRAMES)  # a frame every this many steps
    print(f"arch {arch}: recovering {velocities.size} launch velocities from a {WIDTH}x{HEIGHT} picture, "
          f"{args.steps} steps of {SUBSTEPS} substeps")  # fmt: skip
    interrupted = False
    try:
        for step in range(args.steps):
            launch.from_numpy(velocities.astype(np.float32))
            with ti.ad.Tape(loss):
                simulate_and_draw()
                image_loss()
            losses.append(float(loss[None]))
            if step % every == 0:
                frames.append(frame(target_image, render.image.to_numpy()))
            error = np.abs(velocities - TRUE_VELOCITIES).max()
            if step % 10 == 0 or step == args.steps - 1:
                print(f"step {step:4d}  loss {losses[-1]:.5f}  largest velocity error {error:6.2f} px/s", flush=True)
            velocities = adam.step(velocities, launch.grad.to_numpy().astype(np.float64), 3.0)
    except KeyboardInterrupt:
        interrupted = True
    if not losses:
        print("interrupted before the first step: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED

    with interrupts_held() as held:
        launch.from_numpy(velocities.astype(np.float32))
        simulate_and_draw()
        final = render.image.to_numpy()
        frames.append(frame(target_image, final))
        error = np.abs(velocities - TRUE_VELOCITIES)
        metrics = {
            "steps": len(losses), "interrupted": interrupted, "seconds": round(time.perf_counter() - started, 1),
            "first_loss": losses[0], "last_loss": losses[-1], "true_velocities": TRUE_VELOCITIES.tolist(),
            "recovered_velocities": velocities.round(3).tolist(), "largest_velocity_error": float(error.max()),
        }  # fmt: skip
        outputs.write(out / "target.png", lambda path: save_image(path, target_image))
        pair = np.concatenate([target_image, np.ones((HEIGHT, 4, 3)), final], axis=1)
        outputs.write(out / "final.png", lambda path: save_image(path, pair))
        outputs.write(gif, lambda path: save_gif(path, frames))
        outputs.write(out / "metrics.json", lambda path: path.write_text(json.dumps(metrics, indent=2) + "\n"))
    print("mass   true velocity (px/s)   recovered (px/s)")
    for i, (true, found) in enumerate(zip(TRUE_VELOCITIES, velocities)):
        print(f"{i:4d}   ({true[0]:6.1f}, {true[1]:6.1f})      ({found[0]:6.1f}, {found[1]:6.1f})")
    print(f"largest velocity error {error.max():.2f} px/s after {len(losses)} steps in {metrics['seconds']} s "
          f"-> {out}/, {gif}")  # fmt: skip
    if interrupted or held.pressed:
        print(f"interrupted after {len(losses)} steps: {outputs.summary()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def main(argv=None) -> int:
    from taichi_sdf.app.running import run_guarded

    return run_guarded("taichi_physics.py", lambda: run(parse(argv)))


if __name__ == "__main__":
    sys.exit(main())
