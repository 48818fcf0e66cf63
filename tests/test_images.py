"""Image loading: every mode becomes RGB, EXIF orientation is applied, bad files raise ImageError naming the file."""
import io

import numpy as np
import pytest
from PIL import Image

from nst_core.images import ImageError, load_image, resize_long_edge


def save(img, path, **kw):
    img.save(path, **kw)
    return path


@pytest.mark.parametrize("mode,color,expected", [
    ("L", 100, (100, 100, 100)),
    ("RGB", (10, 20, 30), (10, 20, 30)),
    ("CMYK", (0, 0, 0, 0), (255, 255, 255)),
    ("RGBA", (200, 0, 0, 0), (255, 255, 255)),  # fully transparent -> white
    ("RGBA", (200, 0, 0, 255), (200, 0, 0)),
    ("LA", (0, 128), (127, 127, 127)),  # half-transparent black over white
])
def test_modes_become_rgb(tmp_path, mode, color, expected):
    ext = "jpg" if mode == "CMYK" else "png"
    path = save(Image.new(mode, (5, 4), color), tmp_path / f"img.{ext}")
    rgb = load_image(path)
    assert rgb.shape == (4, 5, 3) and rgb.dtype == np.uint8
    np.testing.assert_allclose(rgb[0, 0], expected, atol=2)


def test_palette_with_transparency(tmp_path):
    img = Image.new("P", (3, 3), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    path = save(img, tmp_path / "p.png", transparency=1)
    assert load_image(path)[1, 1].tolist() == [255, 255, 255]
    img2 = Image.new("P", (3, 3), 1)
    img2.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    assert load_image(save(img2, tmp_path / "p2.png"))[1, 1].tolist() == [255, 0, 0]


def test_16_bit_grey_is_scaled(tmp_path):
    arr = np.full((2, 2), 65535, dtype=np.uint16)
    arr[0, 0] = 0
    path = save(Image.fromarray(arr), tmp_path / "g16.png")
    rgb = load_image(path)
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[1, 1].tolist() == [255, 255, 255]


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (4, 4), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    rgb = load_image(path)
    assert rgb[0, 0, 0] > 200 and rgb[0, 0, 2] < 50


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (6, 2), (0, 255, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = save(img, tmp_path / "rot.jpg", exif=exif)
    assert load_image(path).shape == (6, 2, 3)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match=r"^empty\.png: the file is empty$"):
        load_image(path)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello, I am text")
    with pytest.raises(ImageError, match=r"^notes\.png: not an image file"):
        load_image(path)


def test_truncated_image(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError, match=r"^cut\.png: the image data is broken or truncated"):
        load_image(path)


def test_too_large_image(tmp_path):
    path = save(Image.new("RGB", (100, 100)), tmp_path / "big.png")
    with pytest.raises(ImageError, match=r"^big\.png: the image is too large \(100x100"):
        load_image(path, max_pixels=5000)


def test_zero_sized_image(tmp_path):
    """A PNG whose header says width 0 (Pillow can't write one, so the test patches the IHDR bytes)."""
    import struct
    import zlib
    raw = io.BytesIO()
    Image.new("RGB", (1, 1)).save(raw, "PNG")
    data = bytearray(raw.getvalue())
    ihdr = 8 + 8  # signature, then length + type of the IHDR chunk
    data[ihdr:ihdr + 4] = struct.pack(">I", 0)
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4:ihdr + 13])))
    path = tmp_path / "zero.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match=r"^zero\.png: "):
        load_image(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match=r"^gone\.png: cannot read the file"):
        load_image(tmp_path / "gone.png")


def test_resize_long_edge_keeps_aspect():
    rgb = np.zeros((50, 100, 3), dtype=np.uint8)
    assert resize_long_edge(rgb, 64).shape == (32, 64, 3)
    assert resize_long_edge(rgb.transpose(1, 0, 2), 64).shape == (64, 32, 3)


@pytest.mark.parametrize("top", [1.0, 255.0])
def test_a_float_image_keeps_its_tones(tmp_path, top):
    ramp = np.tile(np.linspace(0, top, 64, dtype=np.float32), (8, 1))  # a float TIFF, in [0, 1] or in [0, 255]
    Image.fromarray(ramp, "F").save(tmp_path / "ramp.tif")
    rgb = load_image(tmp_path / "ramp.tif")
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, -1].tolist() == [255, 255, 255]
    assert len(np.unique(rgb[..., 0])) > 32  # a ramp, not one flat colour
