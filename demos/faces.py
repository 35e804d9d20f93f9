"""Neural rendering: a CNN looks at a face and predicts 16 shapes that the rasterizer draws.

    python demos/faces.py [--minutes 2] [--seed 0] [--out out/faces]

The 100 faces of scikit-image's bundled ``lfw_subset`` (25x25, upsampled to 50x50) are split
into 80 for training (and their mirror images) and 20 held out. For each face a small CNN
predicts 16 grey circles that start from a 4x4 grid (how far each moves from its grid
point, its radius and its grey) and a background grey; ``taichi_sdf.torch.render`` draws
them order-free with soft 3-pixel edges (``mean``: overlaps blend into shading), and the network is trained
end to end on the pixel error. Writes OUT/grid.png (held-out faces | their predicted
shapes), OUT/training.gif (the held-out predictions as training goes), OUT/loss.png,
OUT/model.pt and OUT/metrics.json, and prints the held-out MSE beside the mean-face
baseline. Ctrl-C stops training and still writes them.
"""

import os

# Taichi and PyTorch each keep a pool of worker threads: let torch's idle ones sleep instead
# of spinning on the cores Taichi's kernels use (see the README).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

SIZE = 50  # pixels across a face (25x25 upsampled twice)
GRID = 4  # shapes start on a GRID x GRID lattice
CELL = SIZE / GRID
FRAMES = 40  # in the animation, at equal intervals of training time


def faces(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) faces, (N, 50, 50) grey in [0, 1]; training faces with mirror images."""
    from scipy import ndimage
    from skimage.data import lfw_subset

    grey = np.clip(ndimage.zoom(lfw_subset()[:100], (1, SIZE / 25, SIZE / 25), order=3), 0.0, 1.0)
    grey = grey[np.random.default_rng(seed).permutation(len(grey))]
    train, held_out = grey[:80], grey[80:]
    return np.concatenate([train, train[:, :, ::-1]]), held_out


def shape_template():
    """16 circles on a 4x4 grid over a grey background: what every prediction starts from."""
    from taichi_sdf import Circles, Scene

    lattice = (np.stack(np.meshgrid(np.arange(GRID), np.arange(GRID)), axis=-1).reshape(-1, 2) + 0.5) * CELL
    circles = Circles(lattice, np.full(GRID * GRID, 0.75 * CELL), np.full((GRID * GRID, 3), 0.5))
    return Scene(SIZE, SIZE, [0.5, 0.5, 0.5], (circles,))


def make_model():
    import torch
    from torch import nn

    from taichi_sdf.app.training import small_cnn

    lattice = torch.tensor(shape_template().shapes[0].centres, dtype=torch.float32)

    class ShapePredictor(nn.Module):
        """(B, 1, 50, 50) faces -> 16 circles (centres, radii, greys) and a background grey."""

        def __init__(self):
            super().__init__()
            self.features = small_cnn(256)
            self.shapes = nn.Linear(256, GRID * GRID * 4 + 1)
            self.register_buffer("lattice", lattice)

        def forward(self, face):
            out = self.shapes(self.features(face))
            per_shape = out[:, :-1].view(len(face), GRID * GRID, 4)
            centres = self.lattice + 1.5 * CELL * torch.tanh(per_shape[..., :2])  # may move 1.5 cells
            radii = CELL * (0.25 + 1.25 * torch.sigmoid(per_shape[..., 2]))
            greys = torch.sigmoid(per_shape[..., 3:4]).expand(-1, -1, 3)
            background = torch.sigmoid(out[:, -1:]).expand(-1, 3)
            return {"0.centres": centres, "0.radii": radii, "0.colours": greys, "background": background}

    return ShapePredictor()


def predicted(model, template, face, config):
    """The drawn predictions (B, 50, 50) for faces (B, 50, 50)."""
    from taichi_sdf.torch import render

    return render(template, model(face[:, None]), config).mean(dim=-1)


def parse(argv):
    from taichi_sdf.app.training import training_parser

    return training_parser(__doc__, minutes=2.0, batch=32, out="out/faces").parse_args(argv)


def main(argv=None) -> int:
    import torch

    from taichi_sdf import RenderConfig
    from taichi_sdf.app.training import begin, finish, image_grid, optimisation_step, train
    from taichi_sdf.io import gif_frame, save_gif, save_image

    args = parse(argv)
    outputs, device, processes = begin(args, ("grid.png", "training.gif"))
    train_faces, held_out = faces(args.seed)
    template = shape_template()
    config = RenderConfig(mode="mean", aa_width=3.0)  # a soft band blends neighbours into shading
    model = make_model().to(device)
    trained = processes.wrap(model)  # the same parameters; for the training step only
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-3)  # 80 faces: keep it simple
    train_t = torch.tensor(train_faces, dtype=torch.float32, device=device)
    held_t = torch.tensor(held_out, dtype=torch.float32, device=device)
    generator = torch.Generator(device="cpu").manual_seed(args.seed)

    def held_out_predictions() -> np.ndarray:
        with torch.no_grad():
            return predicted(model, template, held_t, config).cpu().numpy()

    def mse(images) -> float:
        return float(np.mean((images - held_out) ** 2))

    baseline = mse(np.broadcast_to(train_faces.mean(axis=0), held_out.shape))
    at_start = mse(held_out_predictions())
    frames = []

    def frame() -> np.ndarray:
        pairs = np.stack([held_out[:8], held_out_predictions()[:8]], axis=1).reshape(-1, SIZE, SIZE)
        return gif_frame(image_grid(np.repeat(pairs[..., None], 3, -1), columns=4))  # 2 pairs a row

    def batch_loss(net, batch):
        return ((predicted(net, template, batch, config) - batch) ** 2).mean()

    def step(i):
        # Every process draws the same batch (same seed) and trains on its share of it.
        batch = train_t[torch.randint(len(train_t), (args.batch,), generator=generator).to(device)]
        return optimisation_step(trained, optimiser, batch_loss, batch, processes)

    clock = {"next": time.perf_counter()}

    def snapshot(i):
        # A frame every 1/FRAMES of the training time (the first at the start).
        if time.perf_counter() >= clock["next"]:
            frames.append(frame())
            clock["next"] += 60.0 * args.minutes / FRAMES

    log = train(step, args.minutes, args.steps, on_step=snapshot, processes=processes)

    def evaluate():
        final = held_out_predictions()
        metrics = {
            "train_mse_last": float(np.mean(log.losses[-20:])) if log.losses else None,
            "held_out_mse_start": at_start,
            "held_out_mse_end": mse(final),
            "held_out_mse_mean_face": baseline,
        }
        pairs = np.stack([held_out, final], axis=1).reshape(-1, SIZE, SIZE)
        grid = image_grid(np.repeat(pairs[..., None], 3, -1), columns=10, scale=2)
        frames.append(frame())
        pictures = {
            "grid.png": lambda path: save_image(path, grid),
            "training.gif": lambda path: save_gif(path, frames, milliseconds=120),
        }
        return metrics, pictures

    def report(metrics):
        print(f"held-out MSE of the predicted shapes: {at_start:.4f} at the start, {metrics['held_out_mse_end']:.4f} "
              f"at the end; mean-face baseline {baseline:.4f} -> {args.out}/")  # fmt: skip

    checkpoint = {"state_dict": model.state_dict()}
    title = "faces: 16 shapes per face"
    return finish(outputs, log, device, checkpoint, title, "MSE", evaluate, report, processes)


if __name__ == "__main__":
    from taichi_sdf.app.start import started  # loads Taichi and PyTorch with Ctrl-C held

    sys.exit(started("faces.py", "taichi_sdf.app.training", "run_training", "faces.py", main))
