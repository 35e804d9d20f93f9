"""An auto-encoder whose decoder draws: digits -> a CNN -> K pen strokes -> the rasterizer.

    python demos/autoencoder.py [--minutes 2.5] [--strokes 6] [--seed 0] [--out out/autoencoder]

scikit-learn's bundled digits (8x8, upsampled to 32x32, dark ink on white) are encoded by a
small CNN into K polylines of brush strokes (points, a width of 1-6 px, darkness), which
``taichi_sdf.torch.render`` draws; the whole thing is trained end to end on the pixel
error. Writes OUT/grid.png (held-out inputs | reconstructions), OUT/loss.png,
OUT/model.pt and OUT/metrics.json, and prints the held-out reconstruction MSE at the start
and the end beside the mean-image baseline, and how well a classifier trained on the real
digits (logistic regression on pixels) recognises the reconstructions, beside the real
digits (DifferentiableSketching's measure). Ctrl-C stops training and still writes them.
"""

import os

# Taichi and PyTorch each keep a pool of worker threads: let torch's idle ones sleep instead
# of spinning on the cores Taichi's kernels use (see the README).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys  # noqa: E402

import numpy as np  # noqa: E402

SIZE = 32  # pixels across a digit (8x8 upsampled four times)
POINTS = 4  # points per polyline (three segments)


def digits(seed: int):
    """(train, test) digit images (N, 32, 32) as ink darkness on white (1 = paper), and
    their labels."""
    from scipy import ndimage
    from sklearn.datasets import load_digits

    data = load_digits()
    ink = np.clip(ndimage.zoom(data.images / 16.0, (1, SIZE / 8, SIZE / 8), order=1), 0.0, 1.0)
    order = np.random.default_rng(seed).permutation(len(ink))
    paper, labels = 1.0 - ink[order], data.target[order]
    split = len(paper) * 5 // 6
    return (paper[:split], labels[:split]), (paper[split:], labels[split:])


def stroke_template(strokes: int):
    """The scene every reconstruction shares: K polylines of black ink on white."""
    from taichi_sdf import Scene, Strokes

    points = np.zeros((strokes * POINTS, 2)) + SIZE / 2
    chains = [[k * POINTS + j, k * POINTS + j + 1] for k in range(strokes) for j in range(POINTS - 1)]
    n = len(chains)
    ink = Strokes(points, chains, np.full(n, 2.0), np.zeros((n, 3)), np.ones(n))
    return Scene(SIZE, SIZE, [1.0, 1.0, 1.0], (ink,))


def make_model(strokes: int):
    import torch
    from torch import nn

    from taichi_sdf.app.training import small_cnn

    class StrokeEncoder(nn.Module):
        """(B, 1, 32, 32) digits -> (B, K*POINTS, 2) points, (B, K) widths and darknesses."""

        def __init__(self):
            super().__init__()
            self.features = small_cnn(256)
            self.points = nn.Linear(256, strokes * POINTS * 2)
            self.style = nn.Linear(256, strokes * 2)

        def forward(self, paper):
            code = self.features(1.0 - paper)
            points = (torch.sigmoid(self.points(code)) * 1.2 - 0.1) * SIZE  # a little beyond the edges
            width, darkness = self.style(code).view(len(paper), strokes, 2).unbind(-1)
            return points.view(len(paper), -1, 2), 1.0 + 5.0 * torch.sigmoid(width), torch.sigmoid(darkness)

    return StrokeEncoder()


def drawn(model, template, paper, config):
    """The reconstructions (B, 32, 32) of ``paper`` (B, 32, 32) and nothing else."""
    from taichi_sdf.torch import render

    points, widths, darkness = model(paper[:, None])
    per_segment = POINTS - 1
    params = {
        "0.points": points,
        "0.widths": widths.repeat_interleave(per_segment, dim=1),
        "0.opacities": darkness.repeat_interleave(per_segment, dim=1),
    }
    return render(template, params, config).mean(dim=-1)


def parse(argv):
    from taichi_sdf.app.arguments import positive_int
    from taichi_sdf.app.training import training_parser

    parser = training_parser(__doc__, minutes=2.5, batch=64, out="out/autoencoder")
    parser.add_argument("--strokes", type=positive_int, default=6, help="polylines per digit (3 segments each)")
    parser.add_argument("--loss", choices=("mse", "pyramid"), default="mse", help="training loss")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    import torch
    from sklearn.linear_model import LogisticRegression

    from taichi_sdf import RenderConfig
    from taichi_sdf.app.training import begin, finish, image_grid, optimisation_step, train
    from taichi_sdf.io import save_image
    from taichi_sdf.losses import get_loss

    args = parse(argv)
    outputs, device, processes = begin(args, ("grid.png",))
    (train_paper, train_labels), (test_paper, test_labels) = digits(args.seed)
    template = stroke_template(args.strokes)
    config = RenderConfig(mode="over")
    model = make_model(args.strokes).to(device)
    trained = processes.wrap(model)  # the same parameters; for the training step only
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss = get_loss(args.loss)
    train_t = torch.tensor(train_paper, dtype=torch.float32, device=device)
    test_t = torch.tensor(test_paper, dtype=torch.float32, device=device)
    generator = torch.Generator(device="cpu").manual_seed(args.seed)

    def reconstruct(paper_t):
        with torch.no_grad():
            return torch.cat([drawn(model, template, paper_t[i : i + 256], config)
                              for i in range(0, len(paper_t), 256)]).cpu().numpy()  # fmt: skip

    def mse(images):
        return float(np.mean((images - test_paper) ** 2))

    baseline = mse(np.broadcast_to(train_paper.mean(axis=0), test_paper.shape))
    at_start = mse(reconstruct(test_t))

    def batch_loss(net, batch):
        return loss(drawn(net, template, batch, config)[..., None].expand(-1, -1, -1, 3),
                    batch[..., None].expand(-1, -1, -1, 3))  # fmt: skip

    def step(i):
        # Every process draws the same batch (same seed) and trains on its share of it.
        batch = train_t[torch.randint(len(train_t), (args.batch,), generator=generator).to(device)]
        return optimisation_step(trained, optimiser, batch_loss, batch, processes)

    log = train(step, args.minutes, args.steps, processes=processes)

    def evaluate():
        recon = reconstruct(test_t)
        classifier = LogisticRegression(max_iter=3000).fit(train_paper.reshape(len(train_paper), -1), train_labels)
        metrics = {
            "loss": args.loss,
            "first_loss": log.losses[0] if log.losses else None,
            "last_loss": float(np.mean(log.losses[-20:])) if log.losses else None,
            "mse_start": at_start,
            "mse_end": mse(recon),
            "mse_mean_image": baseline,
            "accuracy_real": float(classifier.score(test_paper.reshape(len(test_paper), -1), test_labels)),
            "accuracy_reconstructed": float(classifier.score(recon.reshape(len(recon), -1), test_labels)),
        }
        pairs = np.stack([test_paper[:32], recon[:32]], axis=1).reshape(-1, SIZE, SIZE)
        grid = image_grid(np.repeat(pairs[..., None], 3, axis=-1), columns=16, scale=2)
        return metrics, {"grid.png": lambda path: save_image(path, grid)}

    def report(metrics):
        print(f"held-out reconstruction MSE: {at_start:.4f} at the start, {metrics['mse_end']:.4f} at the end; "
              f"mean-image baseline {baseline:.4f} ({metrics['mse_end'] / baseline:.2f}x)")  # fmt: skip
        print(f"classifier trained on real digits: {100 * metrics['accuracy_real']:.1f} % on real held-out digits, "
              f"{100 * metrics['accuracy_reconstructed']:.1f} % on their reconstructions -> {args.out}/")  # fmt: skip

    checkpoint = {"state_dict": model.state_dict(), "strokes": args.strokes, "points": POINTS}
    title = f"auto-encoder: {args.strokes} strokes per digit"
    return finish(outputs, log, device, checkpoint, title, args.loss, evaluate, report, processes)


if __name__ == "__main__":
    from taichi_sdf.app.start import started  # loads Taichi and PyTorch with Ctrl-C held

    sys.exit(started("autoencoder.py", "taichi_sdf.app.training", "run_training", "autoencoder.py", main))
