"""HEIC/HEIF, the format phones save: read upright, denoised, written back in the same format."""

import builtins

import numpy as np
import pytest

from noise2noise.cli import main
from noise2noise.evaluation.metrics import psnr
from noise2noise.images import Image, ImageError, format_ext, is_heif, probe, read_image, write_image

pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is not installed (the heif extra)")


def psnr_of(a, b, peak):
    return psnr(a.astype(np.float64), b.astype(np.float64), peak)


@pytest.mark.parametrize("depth", [8, 16])
def test_colour_and_grey_round_trip_at_odd_sizes(tmp_path, photo, depth):
    img = photo[:47, :33]  # odd sides: the HEVC coder pads them, the file keeps them
    if depth == 16:
        img = img.astype(np.uint16) * 257
    peak = 255 if depth == 8 else 65535
    for name, pix in (("colour", img), ("grey", np.ascontiguousarray(img[..., 1]))):
        write_image(tmp_path / f"{name}.heic", Image(pix))
        back = read_image(tmp_path / f"{name}.heic")
        assert back.pixels.shape == pix.shape and back.pixels.dtype == pix.dtype and back.alpha is None
        assert psnr_of(back.pixels, pix, peak) > 35  # lossy, but the same picture in the same channel order
    data = (tmp_path / "colour.heic").read_bytes()
    assert is_heif(data) and format_ext(data) == ".heic"
    assert (probe(data).width, probe(data).height) == (33, 47)


def test_alpha_is_passed_through(tmp_path, photo):
    alpha = np.ascontiguousarray(photo[..., 2])
    write_image(tmp_path / "a.heif", Image(photo, alpha))
    back = read_image(tmp_path / "a.heif")
    assert back.pixels.shape == photo.shape
    assert back.alpha is not None and np.abs(back.alpha.astype(int) - alpha).max() <= 2


def test_a_rotated_photo_is_read_upright(tmp_path, photo):
    """A phone stores a portrait photo as landscape pixels plus a rotation (EXIF orientation 6, "rotate
    90 degrees clockwise to show", becomes the container's own rotation): the pixels read are upright."""
    from PIL import Image as PILImage

    pillow_heif.register_heif_opener()
    im = PILImage.fromarray(np.ascontiguousarray(photo[..., ::-1]))
    exif = im.getexif()
    exif[0x0112] = 6
    im.save(tmp_path / "portrait.heic", exif=exif.tobytes(), quality=95)
    back = read_image(tmp_path / "portrait.heic")
    assert back.pixels.shape == (photo.shape[1], photo.shape[0], 3)
    assert psnr_of(back.pixels, np.rot90(photo, -1), 255) > 30


def test_denoise_writes_a_heic_for_a_heic(tmp_path, photo, tiny_weights, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write_image(src / "IMG_0001.HEIC", Image(photo))
    (src / "broken.heic").write_bytes((src / "IMG_0001.HEIC").read_bytes()[:300])
    code = main(["denoise", str(src / "IMG_0001.HEIC"), "-o", str(tmp_path / "out"), "--weights", str(tiny_weights)])
    out = tmp_path / "out" / "IMG_0001.HEIC"
    assert code == 0 and is_heif(out.read_bytes()) and read_image(out).pixels.shape == photo.shape
    capsys.readouterr()
    code = main(["denoise", str(src / "broken.heic"), "-o", str(tmp_path / "out2"), "--weights", str(tiny_weights)])
    err = capsys.readouterr().err
    assert code != 0 and "broken.heic" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out2" / "broken.heic").exists()


def test_a_wide_gamut_photo_keeps_its_colour_description(tmp_path, photo, tiny_weights):
    """An iPhone photo is Display P3: written back without saying so, it would be shown as sRGB."""
    f = pillow_heif.from_bytes(mode="RGB", size=(photo.shape[1], photo.shape[0]), data=photo[..., ::-1].tobytes())
    p3 = {"color_primaries": 12, "transfer_characteristics": 13, "matrix_coefficients": 6, "full_range_flag": 1}
    f.save(tmp_path / "p3.heic", quality=95, nclx_profile=p3)
    assert (
        main(["denoise", str(tmp_path / "p3.heic"), "-o", str(tmp_path / "out"), "--weights", str(tiny_weights)]) == 0
    )
    written = pillow_heif.open_heif(tmp_path / "out" / "p3.heic").info["nclx_profile"]
    assert written["color_primaries"] == 12


def test_without_pillow_heif_the_error_says_what_to_install(tmp_path, photo, monkeypatch):
    write_image(tmp_path / "p.heic", Image(photo))
    real_import = builtins.__import__

    def no_heif(name, *args, **kwargs):
        if name == "pillow_heif":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_heif)
    with pytest.raises(ImageError, match=r"p\.heic: .*pip install 'noise2noise\[heif\]'"):
        read_image(tmp_path / "p.heic")
    with pytest.raises(ImageError, match="pillow-heif"):
        write_image(tmp_path / "q.heic", Image(photo))
    assert not (tmp_path / "q.heic").exists()


def test_the_api_answers_a_heic_as_n2n_denoise_writes_it(tmp_path, photo, tiny_weights):
    pytest.importorskip("starlette", reason="the serve extra is not installed")
    from starlette.testclient import TestClient

    from noise2noise.serve.app import create_app
    from noise2noise.serve.models import ModelPool

    write_image(tmp_path / "a.heic", Image(photo))
    assert main(["denoise", str(tmp_path / "a.heic"), "-o", str(tmp_path / "out"), "--weights", str(tiny_weights)]) == 0
    client = TestClient(create_app(ModelPool(str(tiny_weights)), queue=1))
    r = client.post("/api/denoise", files={"image": ("a.heic", (tmp_path / "a.heic").read_bytes())})
    assert r.status_code == 200, r.text
    assert r.content == (tmp_path / "out" / "a.heic").read_bytes()
    assert 'filename="a-denoised.heic"' in r.headers["content-disposition"]
