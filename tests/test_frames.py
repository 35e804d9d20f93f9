"""Explicit state: frames that live side by side, batches that equal single renders, gradients
that are the same bit for bit on every run, and buffers that never hold a value per
(tile entry, pixel)."""

import threading

import numpy as np
import pytest
from conftest import mixed_scene

from taichi_sdf import RenderConfig, Renderer, Scene
from taichi_sdf.buffers import FreeMemory
from taichi_sdf.config import MODES


def variant(scene: Scene, rng) -> Scene:
    """The same structure with other values (what a network's next output would be)."""
    values = {}
    for key, value in scene.parameters().items():
        moved = value + rng.normal(0.0, 0.5 if key.endswith(("centres", "vertices", "points")) else 0.05, value.shape)
        if key.endswith(("colours", "opacities")) or key == "background":
            moved = np.clip(moved, 0.0, 1.0)
        if key.endswith(("radii", "widths")):
            moved = np.abs(moved) + 0.5
        values[key] = moved
    return scene.with_parameters(values)


def batch_of(n: int, seed: int = 0) -> list[Scene]:
    rng = np.random.default_rng(seed)
    first = mixed_scene(rng, width=37, height=29, fill="linear", opacity=True)
    return [first] + [variant(first, rng) for _ in range(n - 1)]


@pytest.mark.parametrize("mode", MODES)
def test_interleaved_frames_give_the_right_gradients(mode):
    a, b = batch_of(2, seed=1)
    rng = np.random.default_rng(2)
    grad_a, grad_b = rng.normal(size=(29, 37, 3)), rng.normal(size=(29, 37, 3))
    renderer = Renderer(RenderConfig(dtype="f64", mode=mode))
    alone_a = renderer.forward(a).backward(grad_a).parameters()
    alone_b = renderer.forward(b).backward(grad_b).parameters()
    frame_a, frame_b = renderer.forward(a), renderer.forward(b)  # forward A, forward B
    late_a, late_b = frame_a.backward(grad_a).parameters(), frame_b.backward(grad_b).parameters()
    for key in alone_a:
        np.testing.assert_array_equal(late_a[key], alone_a[key], err_msg=key)
        np.testing.assert_array_equal(late_b[key], alone_b[key], err_msg=key)


@pytest.mark.parametrize("mode", MODES)
def test_a_batch_equals_single_renders(mode):
    scenes = batch_of(4, seed=3)
    renderer = Renderer(RenderConfig(dtype="f64", mode=mode))
    frame = renderer.forward(scenes)
    assert frame.image.shape == (4, 29, 37, 3)
    grad = np.random.default_rng(4).normal(size=frame.image.shape)
    batch_grads = frame.backward(grad)
    for b, scene in enumerate(scenes):
        single = renderer.forward(scene)
        np.testing.assert_allclose(frame.image[b], single.image, rtol=0, atol=1e-12)
        expected = single.backward(grad[b]).parameters()
        for key, value in batch_grads[b].parameters().items():
            np.testing.assert_allclose(value, expected[key], rtol=1e-10, atol=1e-10, err_msg=f"image {b}: {key}")


def test_a_batch_must_share_its_structure():
    first, second = batch_of(2)
    fewer = second.replace(shapes=second.shapes[:2])
    with pytest.raises(ValueError, match="scene 1 of the batch differs"):
        Renderer().forward([first, fewer])
    with pytest.raises(ValueError, match="no scenes"):
        Renderer().forward([])


@pytest.mark.parametrize("mode", MODES)
def test_gradients_are_the_same_bit_for_bit(mode):
    # Gradients are summed per entry and per row in a fixed order, never by atomics on
    # floats, so threads scheduled differently from run to run cannot change them.
    scenes = batch_of(3, seed=5)
    renderer = Renderer(RenderConfig(dtype="f32", mode=mode))
    grad = np.random.default_rng(6).normal(size=(3, 29, 37, 3))
    runs = [[s.parameters() for s in renderer.forward(scenes).backward(grad)] for _ in range(4)]
    for run in runs[1:]:
        for expected, got in zip(runs[0], run):
            for key in expected:
                np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


@pytest.mark.parametrize("mode", MODES)
def test_buffers_hold_pixels_and_entries_not_their_product(mode):
    scene = batch_of(1)[0]
    frame = Renderer(RenderConfig(dtype="f64", mode=mode, tile_size=16)).forward(scene)
    raster = frame._raster
    entries = raster.tiles.entry_rows.shape[0]
    pixels = scene.width * scene.height
    assert entries > 10
    for group in (raster.scene, raster.tiles, raster.pixels):
        for name, array in vars(group).items():
            assert array.size <= 8 * (pixels + entries + len(scene)), name  # never entries x tile pixels


def test_free_memory_takes_buffers_back_while_it_hands_one_out():
    # Frames give their buffers back from finalizers, which the garbage collector may run
    # in the middle of take(): giving back must never wait for take's lock.
    free = FreeMemory()
    key = ("numpy", "f32", "None")
    done = threading.Event()
    with free._lock:
        worker = threading.Thread(target=lambda: (free.give(key, np.zeros(8, np.float32)), done.set()))
        worker.start()
        assert done.wait(5.0), "give() waited for the lock"
    assert free.take(key, 4).shape == (8,)
    assert free.take(key, 4) is None
