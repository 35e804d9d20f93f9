"""Image losses, outside the renderer: MSE, L1, a Gaussian-pyramid MSE and MS-SSIM.

Each loss compares an image with a target of the same shape, channels last: (H, W, 3) or
a batch (B, H, W, 3), colours in [0, 1]. Called on torch tensors, a loss returns a 0-d
tensor that autograd differentiates (through :func:`taichi_sdf.torch.render` back to the
scene parameters); :meth:`Loss.value_and_grad` on numpy arrays returns the value and the
gradient with respect to the image, which is what :func:`taichi_sdf.optim.fit` feeds to
the renderer's backward pass.

* ``mse``: mean squared error (PSNR = -10 log10 mse).
* ``l1``: mean absolute error.
* ``pyramid``: the mean over levels of the MSE of a Gaussian pyramid (each level blurred
  with sigma = 1 pixel and halved), as DifferentiableSketching fits line drawings: the
  coarse levels pull strokes towards ink they do not yet touch.
* ``msssim``: 1 - MS-SSIM (pytorch-msssim, with the torch extra), with as many scales as
  the image size allows.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LOSSES", "L1", "MSE", "Loss", "MSSSIM", "PyramidMSE", "get_loss", "mse_to_psnr", "psnr"]


def mse_to_psnr(mse: float) -> float:
    """Peak signal-to-noise ratio in dB of a mean squared error of [0, 1] colours."""
    return float("inf") if mse <= 0 else -10.0 * math.log10(mse)


def psnr(image: np.ndarray, target: np.ndarray) -> float:
    """PSNR in dB of ``image`` against ``target`` (same shape, colours in [0, 1]). Renders
    need no clipping first: every compositing mode blends colours in [0, 1] convexly."""
    return mse_to_psnr(float(np.mean((np.asarray(image, np.float64) - target) ** 2)))


def _is_torch(array) -> bool:
    return not isinstance(array, np.ndarray)


def _check(image, target) -> None:
    if tuple(image.shape) != tuple(target.shape) or image.shape[-1] != 3:
        raise ValueError(f"image {tuple(image.shape)} and target {tuple(target.shape)} must both be (..., H, W, 3)")


class Loss:
    """A loss of an image against a target. Subclasses define :meth:`__call__` (numpy or
    torch) and :meth:`value_and_grad` (numpy)."""

    name = ""

    def __call__(self, image, target):
        raise NotImplementedError

    def value_and_grad(self, image: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        """The loss (float) and its gradient with respect to ``image`` (its shape)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSE(Loss):
    """Mean squared error over every pixel and channel."""

    name = "mse"

    def __call__(self, image, target):
        _check(image, target)
        return ((image - target) ** 2).mean()

    def value_and_grad(self, image, target):
        _check(image, target)
        # In the image's precision: a float32 render moves a third of float64's bytes. The
        # sum of squares is a BLAS dot product (no temporary array), good to ~1e-6 relative
        # in float32.
        difference = np.subtract(image, target, dtype=np.result_type(image.dtype, np.float32))
        flat = difference.reshape(-1)
        value = float(np.dot(flat, flat)) / difference.size
        difference *= 2.0 / difference.size
        return value, difference


class L1(Loss):
    """Mean absolute error over every pixel and channel."""

    name = "l1"

    def __call__(self, image, target):
        _check(image, target)
        return abs(image - target).mean()

    def value_and_grad(self, image, target):
        _check(image, target)
        difference = image - target
        return float(np.mean(np.abs(difference))), np.sign(difference) / difference.size


def _gaussian(sigma: float) -> np.ndarray:
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return taps / taps.sum()


def _blur(x, taps: np.ndarray, axis: int):
    """Correlation with a symmetric kernel along ``axis``, zero-padded (so it is its own
    adjoint). Works on numpy arrays and torch tensors alike."""
    radius = len(taps) // 2
    size = x.shape[axis]
    pad_shape = list(x.shape)
    pad_shape[axis] = radius
    if _is_torch(x):
        import torch

        zeros = torch.zeros(pad_shape, dtype=x.dtype, device=x.device)
        padded = torch.cat([zeros, x, zeros], dim=axis)
        narrow = padded.narrow
    else:
        zeros = np.zeros(pad_shape, x.dtype)
        padded = np.concatenate([zeros, x, zeros], axis=axis)

        def narrow(dim, start, length):
            return np.take(padded, range(start, start + length), axis=dim)

    result = 0.0
    for k, weight in enumerate(taps):
        result = result + float(weight) * narrow(axis, k, size)
    return result


def _halve(x):
    """2x2 box average over the (H, W) axes, dropping an odd last row or column."""
    h, w = x.shape[-3] // 2 * 2, x.shape[-2] // 2 * 2
    x = x[..., :h, :w, :]
    return 0.25 * (x[..., 0::2, 0::2, :] + x[..., 1::2, 0::2, :] + x[..., 0::2, 1::2, :] + x[..., 1::2, 1::2, :])


def _halve_adjoint(g: np.ndarray, shape: tuple) -> np.ndarray:
    """The adjoint of :func:`_halve` (numpy): each value spread over its 2x2 block / 4."""
    out = np.zeros(shape)
    h, w = g.shape[-3] * 2, g.shape[-2] * 2
    out[..., :h, :w, :] = 0.25 * np.repeat(np.repeat(g, 2, axis=-3), 2, axis=-2)
    return out


class PyramidMSE(Loss):
    """Mean over ``levels`` of the MSE of a Gaussian pyramid: level 0 the image blurred
    with ``sigma`` pixels, each next level blurred again and halved. Levels stop early
    when an image becomes smaller than the blur."""

    name = "pyramid"

    def __init__(self, levels: int = 4, sigma: float = 1.0):
        if levels < 1 or not sigma > 0:
            raise ValueError(f"a pyramid needs levels >= 1 and sigma > 0, got {levels} and {sigma}")
        self.levels, self.sigma = levels, sigma
        self.taps = _gaussian(sigma)

    def __repr__(self) -> str:
        return f"PyramidMSE(levels={self.levels}, sigma={self.sigma})"

    def _level_count(self, shape) -> int:
        smallest = min(shape[-3], shape[-2])
        return max(1, min(self.levels, int(math.log2(max(smallest, 1) / len(self.taps))) + 2))

    def _pyramid(self, x):
        levels = []
        for level in range(self._level_count(x.shape)):
            if level:
                x = _halve(x)
            x = _blur(_blur(x, self.taps, -3), self.taps, -2)
            levels.append(x)
        return levels

    def __call__(self, image, target):
        _check(image, target)
        pairs = list(zip(self._pyramid(image), self._pyramid(target)))
        return sum(((a - b) ** 2).mean() for a, b in pairs) / len(pairs)

    def value_and_grad(self, image, target):
        _check(image, target)
        count = self._level_count(image.shape)
        value, grad, shapes = 0.0, np.zeros(image.shape), []
        x, t = np.asarray(image, np.float64), np.asarray(target, np.float64)
        levels = []
        for level in range(count):
            if level:
                shapes.append(x.shape)
                x, t = _halve(x), _halve(t)
            x, t = (_blur(_blur(a, self.taps, -3), self.taps, -2) for a in (x, t))
            levels.append(x - t)
        for level in reversed(range(count)):
            difference = levels[level]
            value += float(np.mean(difference**2)) / count
            g = 2.0 * difference / difference.size / count
            for back in reversed(range(level + 1)):  # adjoint of the blurs and halvings down to level
                g = _blur(_blur(g, self.taps, -2), self.taps, -3)
                if back:
                    g = _halve_adjoint(g, shapes[back - 1])
            grad += g
        return value, grad


class MSSSIM(Loss):
    """1 - MS-SSIM (pytorch-msssim; needs the ``torch`` extra): the standard five scales
    and 11-pixel window on images larger than 160 pixels; pytorch-msssim needs 16 window
    widths for its four halvings, so smaller images use the widest odd window that fits,
    and images of 32 pixels or less single-scale SSIM."""

    name = "msssim"

    @staticmethod
    def _window(smaller_side: int) -> int:
        """The widest odd window (at most 11) that leaves room for four halvings, or 0."""
        for window in range(11, 1, -2):
            if smaller_side > (window - 1) * 16:
                return window
        return 0

    def __call__(self, image, target):
        import torch
        from pytorch_msssim import ms_ssim, ssim

        _check(image, target)
        if not _is_torch(image):
            return float(self(torch.as_tensor(image), torch.as_tensor(target)))
        x = image.reshape(-1, *image.shape[-3:]).permute(0, 3, 1, 2)
        y = target.reshape(-1, *target.shape[-3:]).permute(0, 3, 1, 2)
        smaller = min(x.shape[-2:])
        window = self._window(smaller)
        if window:
            return 1.0 - ms_ssim(x, y, data_range=1.0, win_size=window)
        window = min(11, smaller - (1 - smaller % 2))
        if window < 3:
            raise ValueError(f"SSIM needs images of at least 3x3 pixels, got {tuple(x.shape[-2:])}")
        return 1.0 - ssim(x, y, data_range=1.0, win_size=window)

    def value_and_grad(self, image, target):
        import torch

        x = torch.tensor(image, dtype=torch.float64, requires_grad=True)
        value = self(x, torch.as_tensor(target, dtype=torch.float64))
        value.backward()
        return float(value.detach()), x.grad.numpy()


LOSSES = {"mse": MSE, "l1": L1, "pyramid": PyramidMSE, "msssim": MSSSIM}


def get_loss(loss: str | Loss) -> Loss:
    """A :class:`Loss` from its name (``mse``, ``l1``, ``pyramid``, ``msssim``) or as given."""
    if isinstance(loss, Loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    if loss == "msssim":
        try:
            import pytorch_msssim  # noqa: F401
        except ImportError:
            raise ValueError("the msssim loss needs PyTorch and pytorch-msssim: pip install 'taichi_sdf[torch]'") from None
    return LOSSES[loss]()
