import cv2
import numpy as np
import pytest

from noise2noise.images import Image, ImageError, postprocess, preprocess, read_image, write_image


def card_pre(bgr, size=None):
    """The reference card's pre-processing, written out directly."""
    img = bgr if size is None else cv2.resize(bgr, size)
    img = img[:, :, ::-1]  # BGR -> RGB
    return (np.transpose(img, (2, 0, 1)).astype(np.float32) / 255.0)[np.newaxis]


def card_post(out):
    x = np.clip(np.squeeze(out, 0), 0, 1) * 255.0
    x = np.clip(np.round(x), 0, 255).astype(np.uint8)
    return np.transpose(x, (1, 2, 0))[:, :, ::-1]


def test_pre_and_post_match_a_direct_computation(photo):
    assert np.array_equal(preprocess(photo), card_pre(photo))
    assert np.array_equal(preprocess(photo, (32, 16)), card_pre(photo, (32, 16)))
    out = np.random.default_rng(0).uniform(-0.2, 1.2, (1, 3, 48, 40)).astype(np.float32)
    assert np.array_equal(postprocess(out), card_post(out))
    assert np.array_equal(postprocess(preprocess(photo)), photo)  # round trip is exact


def test_sixteen_bit_and_grey_round_trip(photo):
    p16 = photo.astype(np.uint16) * 257 + 3
    x = preprocess(p16)
    assert x.dtype == np.float32 and x.max() <= 1.0
    assert np.array_equal(postprocess(x, np.uint16), p16)
    grey = photo[..., 0]
    assert preprocess(grey).shape == (1, 1, 48, 40)
    assert np.array_equal(postprocess(preprocess(grey)), grey)


@pytest.mark.parametrize("ext", [".png", ".tif", ".bmp"])
def test_write_then_read_is_lossless(tmp_path, photo, ext):
    p = tmp_path / f"a{ext}"
    write_image(p, Image(photo))
    assert np.array_equal(read_image(p).pixels, photo)
    assert not [q for q in tmp_path.iterdir() if q.name.startswith(".")]  # no temp file left


def test_alpha_and_16bit_files(tmp_path, photo):
    bgra = np.dstack([photo, np.arange(48 * 40).reshape(48, 40) % 256]).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    img = read_image(tmp_path / "a.png")
    assert img.pixels.shape == (48, 40, 3) and np.array_equal(img.alpha, bgra[..., 3])
    cv2.imwrite(str(tmp_path / "b.png"), photo.astype(np.uint16) * 257)
    assert read_image(tmp_path / "b.png").pixels.dtype == np.uint16


def test_exif_orientation_and_palette_transparency_survive_the_single_decode(tmp_path, photo):
    from PIL import Image as PILImage

    rgb = PILImage.fromarray(np.ascontiguousarray(photo[..., ::-1]))
    exif = PILImage.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    rgb.save(tmp_path / "turned.jpg", exif=exif, quality=95)
    assert read_image(tmp_path / "turned.jpg").pixels.shape == (40, 48, 3)  # shown upright, as a viewer would
    pal = rgb.convert("P")
    pal.save(tmp_path / "pal.png", transparency=0)  # a palette PNG whose alpha is in a tRNS chunk
    img = read_image(tmp_path / "pal.png")
    assert img.alpha is not None and img.pixels.shape == (48, 40, 3) and (img.alpha == 0).any()
    pal.save(tmp_path / "opaque.png")  # the same without tRNS: no alpha
    assert read_image(tmp_path / "opaque.png").alpha is None


def test_bad_files_are_one_line_errors(tmp_path, photo):
    cases = {}
    (tmp_path / "empty.png").write_bytes(b"")
    cases["empty.png"] = "empty"
    (tmp_path / "text.png").write_text("hello, I am not a picture\n")
    cases["text.png"] = "not a readable image"
    ok, png = cv2.imencode(".png", np.tile(photo, (8, 8, 1)))
    (tmp_path / "trunc.png").write_bytes(png.tobytes()[: len(png) // 2])
    cases["trunc.png"] = "truncated|not a readable"
    ok, jpg = cv2.imencode(".jpg", np.tile(photo, (8, 8, 1)))
    (tmp_path / "trunc.jpg").write_bytes(jpg.tobytes()[: len(jpg) * 2 // 3])
    cases["trunc.jpg"] = "truncated|not a readable"
    # a PNG header that claims 100000 x 100000 pixels: refused before decoding
    big = bytearray(png.tobytes())
    big[16:24] = (100000).to_bytes(4, "big") * 2
    (tmp_path / "bomb.png").write_bytes(bytes(big))
    cases["bomb.png"] = "too large"
    cases["missing.png"] = "no such file"
    for name, msg in cases.items():
        with pytest.raises(ImageError, match=msg) as e:
            read_image(tmp_path / name)
        assert "\n" not in str(e.value)
