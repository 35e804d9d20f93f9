"""Image loading: samples, colour modes, bit depths and bad files."""

import imageio.v3 as iio
import numpy as np
import pytest

from taichi_sdf.io import ImageError, load_image, to_rgb


def test_sample_name_loads_scikit_image_sample(tmp_path):
    image, source = load_image(tmp_path / "chelsea.png")
    assert image.shape == (300, 451, 3) and image.dtype == np.float64
    assert "scikit-image sample 'chelsea'" in source


def test_missing_file_that_is_no_sample(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nothing_here.png")


def test_file_that_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(path)


def test_rgba_is_composited_over_white():
    rgba = np.array([[[255, 0, 0, 255], [255, 0, 0, 0], [0, 0, 255, 128]]], dtype=np.uint8)
    rgb = to_rgb(rgba)
    np.testing.assert_allclose(rgb[0, 0], [1, 0, 0])
    np.testing.assert_allclose(rgb[0, 1], [1, 1, 1])
    np.testing.assert_allclose(rgb[0, 2], [1 - 128 / 255, 1 - 128 / 255, 1], atol=1e-12)


def test_sixteen_bit_grey_file(tmp_path):
    grey = np.array([[0, 65535], [32768, 16384]], dtype=np.uint16)
    iio.imwrite(tmp_path / "grey16.png", grey)
    image, _ = load_image(tmp_path / "grey16.png")
    assert image.shape == (2, 2, 3)
    np.testing.assert_allclose(image[..., 1], grey / 65535.0)


def test_unsupported_mode():
    with pytest.raises(ImageError, match="unsupported image mode"):
        to_rgb(np.zeros((4, 4, 5), dtype=np.uint8))
