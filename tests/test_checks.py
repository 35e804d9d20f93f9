"""Values are checked where they enter the library, and a bad one is named in one line: scene
sizes and parameters that float32 cannot render, render settings, fit settings, counts."""

import numpy as np
import pytest

from taichi_sdf import Circles, RenderConfig, Renderer, Scene, Strokes
from taichi_sdf.init import starting_scene
from taichi_sdf.optim import fit


def circles(**changes) -> Circles:
    values = {"centres": [[5.0, 5.0], [9.0, 4.0]], "radii": [3.0, 2.0], "colours": [[1.0, 0, 0], [0, 0, 1.0]]}
    return Circles(**{**values, **changes})


@pytest.mark.parametrize(
    "width,message",
    [
        (float("inf"), "width must be a whole number of pixels from 1 to 65536, got inf"),
        (1e308, r"got 1e\+308"),
        (10.5, "got 10.5"),
        (0, "got 0"),
        ("ten", "width must be a whole number of pixels, got 'ten'"),
        (float("nan"), "got nan"),
    ],
)
def test_scene_sizes_are_whole_numbers_of_pixels(width, message):
    with pytest.raises(ValueError, match=message):
        Scene(width, 10, [1, 1, 1], (circles(),))


@pytest.mark.parametrize(
    "group,message",
    [
        (circles(centres=[[5.0, 5.0], [1e308, 4.0]]), r"shapes\[0\] \(Circles\).centres\[1, 0\] is 1e\+308, beyond"),
        (circles(radii=[3.0, np.inf]), r"radii\[1\] is infinite"),
        (circles(colours=[[1.0, 0, 0], [0, np.nan, 1.0]]), r"colours\[1, 1\] is NaN"),
        (Strokes([[0, 0], [2e6, 3]], [[0, 1]], [2.0], [[0, 0, 0]]), r"points\[1, 0\] is 2e\+06"),
    ],
)
def test_parameters_a_float32_render_cannot_hold_are_named(group, message):
    with pytest.raises(ValueError, match=message):
        Renderer().render(Scene(20, 10, [1, 1, 1], (group,)))


def test_a_background_of_nan_is_named():
    with pytest.raises(ValueError, match=r"background\[2\] is NaN"):
        Scene(20, 10, [1, 1, np.nan], (circles(),)).check_values()


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"tile_size": 16.0}, "tile_size must be one of the integers"),
        ({"tile_size": True}, "tile_size must be one of the integers"),
        ({"aa_width": 1e-300}, "anti-aliasing band must be 0.001 to 1000 pixels wide, got 1e-300"),
        ({"aa_width": float("nan")}, "anti-aliasing band"),
        ({"aa_width": "1"}, "aa_width must be a number of pixels"),
        ({"mode": "screen"}, "mode must be one of"),
        ({"dtype": np.float32}, "dtype must be one of"),
        ({"culling": 1}, "culling must be True or False"),
    ],
)
def test_render_settings_are_checked_when_made(settings, message):
    with pytest.raises(ValueError, match=message):
        RenderConfig(**settings)


def test_a_shape_group_is_not_a_scene():
    with pytest.raises(TypeError, match=r"got Circles \(a shape group draws inside a scene"):
        Renderer().render(circles())


@pytest.mark.parametrize(
    "rates,message",
    [
        ({"centers": 1.0}, "learning_rates names 'centers', which is no parameter of the scene"),
        ({"centres": float("nan")}, r"learning_rates\['centres'\] must be a number >= 0"),
        ({"0.radii": -1.0}, r"learning_rates\['0.radii'\] must be a number >= 0"),
    ],
)
def test_fit_settings_are_named(rates, message):
    scene = Scene(20, 10, [1, 1, 1], (circles(),))
    with pytest.raises(ValueError, match=message):
        fit(np.zeros((10, 20, 3)), scene, 3, learning_rates=rates)


def test_a_count_out_of_proportion_is_refused_before_anything_is_made():
    target = np.zeros((32, 40, 3))
    with pytest.raises(ValueError, match="10000000 shapes for a 40x32 picture: more shapes than pixels"):
        starting_scene("circle", target, 10_000_000)
    with pytest.raises(ValueError, match="need about .* GiB; this machine has"):
        starting_scene("circle", np.broadcast_to(np.zeros(3), (20000, 20000, 3)), 100_000_000)
