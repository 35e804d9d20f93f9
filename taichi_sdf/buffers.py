"""Where a frame's buffers come from: numpy arrays, Taichi ndarrays or torch tensors, reused.

A frame's working buffers (binning lists, per-pixel state, scratch) are taken from a cache
of free memory and given back when the frame is gone: a freshly allocated buffer costs a
page fault for every 4 KB when it is first written, which on the CPU took longer than
rendering the frame. The cache holds only memory no frame uses, like PyTorch's caching
allocator on CUDA. What a frame hands to its caller (images, gradients) is allocated
afresh, so the caller owns it for good.
"""

from __future__ import annotations

import collections
import threading
import weakref

import numpy as np
import taichi as ti

_NUMPY = {"f32": np.float32, "f64": np.float64, "i32": np.int32}
_ITEM_BYTES = {"f32": 4, "f64": 8, "i32": 4}


class FreeMemory:
    """Free flat buffers by (type, dtype, device), handed out best fit. Holds at most
    ``limit`` bytes; past that the smallest buffers are dropped."""

    def __init__(self, limit: int = 1 << 30):
        self.limit = limit
        self._free: dict[tuple, list] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        # Buffers come back from finalizers, which the garbage collector may run at any
        # moment, even inside take(): so give() only queues them (an atomic append).
        self._returned: collections.deque = collections.deque()

    def give(self, key: tuple, buffer) -> None:
        self._returned.append((key, buffer))

    def take(self, key: tuple, numel: int):
        """A free flat buffer of ``key`` with room for ``numel`` elements, or None."""
        with self._lock:
            self._absorb_returned()
            free = self._free.get(key, [])
            fits = [i for i, buffer in enumerate(free) if buffer.shape[0] >= numel]
            if not fits:
                return None
            best = free.pop(min(fits, key=lambda i: free[i].shape[0]))
            self._bytes -= best.shape[0] * _ITEM_BYTES[key[1]]
            return best

    def _absorb_returned(self) -> None:
        while self._returned:
            key, buffer = self._returned.popleft()
            free = self._free.setdefault(key, [])
            free.append(buffer)
            self._bytes += buffer.shape[0] * _ITEM_BYTES[key[1]]
            while self._bytes > self.limit and free:
                smallest = free.pop(min(range(len(free)), key=lambda i: free[i].shape[0]))
                self._bytes -= smallest.shape[0] * _ITEM_BYTES[key[1]]


def on_cpu() -> bool:
    """Whether Taichi runs on the CPU now (x64 or arm64), where buffers are host memory."""
    return ti.lang.impl.current_cfg().arch in (ti.x64, ti.arm64)


FREE_MEMORY = FreeMemory()  # free memory only: every buffer in use belongs to one frame


class Buffers:
    """Allocates one frame's buffers of the same type as an example array: numpy arrays on
    the CPU (Taichi ndarrays on other archs), or torch tensors on the example's device.
    Working buffers return to :data:`FREE_MEMORY` when this object is collected."""

    def __init__(self, example, free: FreeMemory = FREE_MEMORY):
        self.torch = type(example).__module__.split(".")[0] == "torch"  # not numpy, not a Taichi ndarray
        self.device = example.device if self.torch else None
        self.taichi = not self.torch and not on_cpu()
        self._free = free
        self._taken: list[tuple] = []
        weakref.finalize(self, _give_back, free, self._taken)

    def _key(self, dtype: str) -> tuple:
        return ("torch" if self.torch else "taichi" if self.taichi else "numpy", dtype, str(self.device))

    def _fresh(self, shape: tuple, dtype: str):
        if self.torch:
            import torch

            wanted = {"f32": torch.float32, "f64": torch.float64, "i32": torch.int32}[dtype]
            return torch.empty(shape, dtype=wanted, device=self.device)
        if self.taichi:
            return ti.ndarray({"f32": ti.f32, "f64": ti.f64, "i32": ti.i32}[dtype], shape)
        return np.empty(shape, _NUMPY[dtype])

    def output(self, shape: tuple, dtype: str):
        """A new buffer the caller will own (images, gradients)."""
        return self._fresh(tuple(int(s) for s in shape), dtype)

    def working(self, shape: tuple, dtype: str):
        """A buffer for the frame's own use, from free memory where it has room."""
        shape = tuple(int(s) for s in shape)
        if self.taichi or (self.torch and self.device.type != "cpu"):  # torch's CUDA allocator caches
            return self._fresh(shape, dtype)
        numel = max(1, int(np.prod(shape)))
        key = self._key(dtype)
        flat = self._free.take(key, numel)
        if flat is None:
            flat = self._fresh((numel + numel // 4,), dtype)  # room to grow a little
        self._taken.append((key, flat))
        return flat[:numel].reshape(shape) if not self.torch else flat[:numel].view(shape)

    def put(self, array, dtype: str):
        """``array`` (numpy or torch) as a contiguous buffer of ``dtype`` for the kernels
        (itself where it already is one)."""
        if self.torch:
            import torch

            wanted = {"f32": torch.float32, "f64": torch.float64, "i32": torch.int32}[dtype]
            return torch.as_tensor(array, device=self.device).detach().to(wanted).contiguous()
        array = np.ascontiguousarray(array, dtype=_NUMPY[dtype])
        if self.taichi:
            buffer = self._fresh(array.shape, dtype)
            buffer.from_numpy(array)
            return buffer
        return array


def _give_back(free: FreeMemory, taken: list[tuple]) -> None:
    for key, flat in taken:
        free.give(key, flat)
    taken.clear()


def to_numpy(array) -> np.ndarray:
    """A buffer (numpy, torch or Taichi) as a numpy array."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "detach"):
        return array.detach().cpu().numpy()
    return array.to_numpy()
