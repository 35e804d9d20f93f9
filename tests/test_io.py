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


def test_cmyk_jpeg_and_tiff_are_converted_to_rgb(tmp_path):
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    for name in ("cmyk.jpg", "cmyk.tif"):
        Image.fromarray(rgb).convert("CMYK").save(tmp_path / name)
        expected = np.asarray(Image.open(tmp_path / name).convert("RGB")) / 255.0  # Pillow's own conversion
        image, _ = load_image(tmp_path / name)
        assert image.shape == (12, 16, 3)
        np.testing.assert_allclose(image, expected, atol=1e-12)


def test_tiff_colour_models_are_read_as_they_mean(tmp_path):
    import tifffile

    ink = np.random.default_rng(1).integers(0, 65536, (5, 6, 4), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "cmyk16.tif", ink, photometric="separated")
    image, _ = load_image(tmp_path / "cmyk16.tif")
    np.testing.assert_allclose(image, (1 - ink[..., :3] / 65535) * (1 - ink[..., 3:] / 65535), atol=1e-12)
    tifffile.imwrite(tmp_path / "white_is_zero.tif", np.array([[0, 255]], np.uint8), photometric="miniswhite")
    image, _ = load_image(tmp_path / "white_is_zero.tif")
    np.testing.assert_allclose(image[0, :, 0], [1.0, 0.0])


@pytest.mark.parametrize(
    "pixels,message",
    [
        (np.array([[0.5, np.nan], [0.2, 0.1]], np.float32), r"holds NaN or infinite pixel values \(the first at row 0"),
        (
            np.array([[0.5, 0.2], [np.inf, 0.1]], np.float32),
            r"holds NaN or infinite pixel values \(the first at row 1, column 0\)",
        ),
        (np.array([[0.0, 255.0]], np.float32), r"float pixels must lie in \[0, 1\], these span \[0, 255\]"),
    ],
)
def test_float_images_with_values_that_are_no_colours_are_named(pixels, message, tmp_path):
    iio.imwrite(tmp_path / "float.tif", pixels)
    with pytest.raises(ImageError, match="float.tif: " + message):
        load_image(tmp_path / "float.tif")
