"""Reading and writing images, and the reference model card's pre/post-processing.

Card pre-processing (``preprocess``): ``cv2.imread`` -> optional ``cv2.resize`` -> BGR to RGB ->
HWC to CHW -> float32 -> /255 -> batch dim. Card post-processing (``postprocess``): squeeze ->
clip [0, 1] -> x255 (clip 0..255, rounded) -> RGB back to BGR, HWC -> uint8. 16-bit images use 65535
in place of 255; greyscale images have one channel throughout.

Files are read as OpenCV reads them (``IMREAD_ANYDEPTH | IMREAD_ANYCOLOR``: 8/16-bit kept, grey
stays grey, EXIF orientation applied, so the pixels are the upright photo). Images with an alpha
channel are read with ``IMREAD_UNCHANGED`` (OpenCV applies no EXIF orientation there) and the alpha
is passed through untouched. Outputs carry no EXIF, so what is written is the upright photo.

HEIC/HEIF files (what iPhones and many Android phones save) are read and written with pillow-heif
(the ``heif`` extra): the primary image, its rotation and mirroring applied, 8-bit or, for 10/12-bit
files, 16-bit, with its colour description (a phone's Display P3 stays P3); written back as HEIC at
``jpeg_quality`` (10-bit where the image is 16-bit) with that description.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import replacing
from .config import MAX_PIXELS

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm", ".heic", ".heif")
HEIF_EXTS = (".heic", ".heif")
# ``ftyp`` brands of HEVC-coded HEIF (ISO/IEC 23008-12); AVIF's are left out (no AV1 decoder is shipped)
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
MAX_FILE_BYTES = 2 << 30  # refuse to read larger files into memory
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(2**31))  # our own check is stricter

import cv2  # noqa: E402  (after the env var above, which OpenCV reads on first decode)


class ImageError(ValueError):
    """An image that cannot be read or written; the message is one line for the user."""


class ImageTooLarge(ImageError):
    """An image (or file) over the size limits: refused before it is decoded."""


@dataclass
class Image:
    """A decoded image as OpenCV holds it: ``pixels`` is HW (grey) or HWC BGR, uint8 or uint16."""

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    meta: dict | None = None  # a denoised image: the model that made it (``Denoiser.denoise_image``)
    colour: dict | None = None  # a HEIF file's colour description (ICC or nclx profile), written back with it


def header_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG or JPEG header, without decoding; None if unknown."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            seg = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            i += 2 + seg
    return None


@dataclass
class Header:
    """What a file says about itself before any pixel is decoded."""

    width: int
    height: int
    frames: int = 1
    grey_alpha: bool = False


FORMAT_EXTS = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "WEBP": ".webp", "BMP": ".bmp", "PPM": ".ppm"}


def format_ext(data: bytes) -> str | None:
    """The extension of the format the bytes are in (by content), for answering in the same format."""
    import io

    from PIL import Image as PILImage

    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ".png"
    if data[:2] == b"\xff\xd8":
        return ".jpg"
    if is_heif(data):
        return ".heic"
    try:
        with PILImage.open(io.BytesIO(data)) as im:
            return FORMAT_EXTS.get(im.format or "")
    except Exception:
        return None


TIFF_SAMPLE_FORMATS = {1: "unsigned integer", 2: "signed integer", 3: "floating-point", 4: "undefined"}


def tiff_header(data: bytes) -> dict[int, int] | None:
    """The first-IFD tags of a classic TIFF that describe its pixels (width 256, height 257, bits
    per sample 258, samples per pixel 277, sample format 339), first value each; None if not TIFF."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(data[:4])
    if order is None or len(data) < 8:
        return None
    (ifd,) = struct.unpack(order + "I", data[4:8])
    if ifd + 2 > len(data):
        return None
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    tags: dict[int, int] = {}
    sizes = {3: ("H", 2), 4: ("I", 4)}  # SHORT, LONG
    for k in range(min(count, 512)):
        at = ifd + 2 + 12 * k
        if at + 12 > len(data):
            break
        tag, kind, n = struct.unpack(order + "HHI", data[at : at + 8])
        if tag in (256, 257, 258, 277, 339) and kind in sizes and n >= 1:
            fmt, size = sizes[kind]
            ptr = at + 8
            if n * size > 4:  # values stored elsewhere: the offset is in the entry
                (ptr,) = struct.unpack(order + "I", data[at + 8 : at + 12])
            if ptr + size <= len(data):
                (tags[tag],) = struct.unpack(order + fmt, data[ptr : ptr + size])
    return tags


def probe(data: bytes) -> Header | None:
    """The size (and frame count, and whether it is grey + alpha) from the header alone: our own
    parser for PNG and JPEG, Pillow's header reader for the other formats; None if unknown. A TIFF
    whose samples are not 8/16-bit unsigned integers is refused here, naming its sample type."""
    if is_heif(data):
        return _heif_header(data)
    size = header_size(data)
    if size is not None:
        grey_alpha = data[:4] == b"\x89PNG" and len(data) > 25 and data[25] == 4  # PNG colour type 4
        return Header(size[0], size[1], 1, grey_alpha)
    tiff = tiff_header(data)
    if tiff and (tiff.get(339, 1) != 1 or tiff.get(258, 8) not in (1, 8, 16)):
        kind = TIFF_SAMPLE_FORMATS.get(tiff.get(339, 1), "unknown")
        raise ImageError(
            f"a {tiff.get(256, '?')}x{tiff.get(257, '?')} TIFF of {tiff.get(258, '?')}-bit {kind} samples: only 8- and "
            "16-bit integer images are denoised; convert it to 16-bit first"
        )
    import io
    import warnings

    from PIL import Image as PILImage

    limit, PILImage.MAX_IMAGE_PIXELS = PILImage.MAX_IMAGE_PIXELS, None  # we compare with our own limit
    try:
        with warnings.catch_warnings(), PILImage.open(io.BytesIO(data)) as im:
            warnings.simplefilter("ignore")
            return Header(im.size[0], im.size[1], getattr(im, "n_frames", 1), im.mode in ("LA", "La"))
    except Exception:
        return None
    finally:
        PILImage.MAX_IMAGE_PIXELS = limit


def _read_bytes(p: Path) -> bytes:
    try:
        if not p.is_file() and p.exists() and not p.is_dir():
            raise ImageError(f"{p}: not a regular file")
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageTooLarge(f"{p}: {size:,} bytes is too large to read (limit {MAX_FILE_BYTES:,})")
        data = p.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{p}: is a folder, not an image") from None
    except OSError as e:
        raise ImageError(f"{p}: cannot read ({e.strerror or e})") from None
    return data


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> Image:
    """Decode ``path``; raise ``ImageError`` with a one-line reason when it cannot be used. The size
    is read from the header and checked before decoding, for every format."""
    p = Path(path)
    return decode_image(_read_bytes(p), str(p), max_pixels)


def decode_image(data: bytes, p: str = "image", max_pixels: int = MAX_PIXELS) -> Image:
    """Decode the bytes of an image file (``p`` names it in messages): the checks of ``read_image``."""
    if not data:
        raise ImageError(f"{p}: empty file (0 bytes)")
    try:
        head = probe(data)
    except ImageError as e:
        raise ImageError(f"{p}: {e}") from None
    if head is None:
        raise ImageError(f"{p}: not a readable image (unknown format, or its size cannot be read before decoding)")
    if head.width * head.height > max_pixels:
        raise ImageTooLarge(
            f"{p}: {head.width}x{head.height} is too large to decode safely (limit {max_pixels:,} pixels)"
        )
    if head.frames > 1:
        raise ImageError(f"{p}: has {head.frames} frames or pages; only single images are denoised")
    if is_heif(data):
        return _decode_heif(data, p)
    buf = np.frombuffer(data, np.uint8)
    oriented = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR  # applies EXIF orientation, drops alpha
    alpha = _may_have_alpha(data)
    try:  # decoded once, unless the file may carry alpha (then once more, oriented, below)
        raw = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED if alpha else oriented)
    except cv2.error:
        raw = None
    if raw is None:
        raise ImageError(f"{p}: not a readable image (corrupt, truncated or unsupported format)")
    if raw.shape[0] * raw.shape[1] > max_pixels:
        raise ImageTooLarge(f"{p}: {raw.shape[1]}x{raw.shape[0]} is too large (limit {max_pixels:,} pixels)")
    if _truncated(data):
        raise ImageError(f"{p}: truncated file (image data ends early)")
    if raw.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"{p}: unsupported sample type {raw.dtype} (8- and 16-bit images are supported)")
    if raw.ndim == 3 and raw.shape[2] == 4:  # OpenCV reads grey + alpha as BGRA with B = G = R
        colour = raw[..., 0] if head.grey_alpha else raw[..., :3]
        return Image(np.ascontiguousarray(colour), np.ascontiguousarray(raw[..., 3]))
    if raw.ndim == 3 and raw.shape[2] == 2:  # grey + alpha
        return Image(np.ascontiguousarray(raw[..., 0]), np.ascontiguousarray(raw[..., 1]))
    pix = cv2.imdecode(buf, oriented) if alpha else raw
    if pix is None:
        raise ImageError(f"{p}: not a readable image")
    if pix.ndim == 3 and pix.shape[2] == 1:
        pix = pix[..., 0]
    return Image(pix)


def _may_have_alpha(data: bytes) -> bool:
    """False only when the header shows there is no alpha: JPEG, and PNG without an alpha colour
    type or a tRNS chunk. Then one decode does (``decode_image``)."""
    if data[:2] == b"\xff\xd8":
        return False
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 25:
        idat = data.find(b"IDAT")
        return data[25] in (4, 6) or b"tRNS" in data[: idat if idat > 0 else len(data)]
    return True


def _truncated(data: bytes) -> bool:
    """OpenCV decodes some truncated files with a warning only; check the end markers ourselves."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return b"IEND" not in data[-64:]
    if data[:2] == b"\xff\xd8":
        return b"\xff\xd9" not in data[-1024:]
    return False


def is_heif(data: bytes) -> bool:
    """Whether the bytes are an HEVC-coded HEIF file (HEIC), by the brand of its ``ftyp`` box."""
    return len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


def _heif():
    try:
        import pillow_heif
    except ImportError:
        raise ImageError("HEIC/HEIF files need pillow-heif: pip install 'noise2noise[heif]'") from None
    return pillow_heif


def _open_heif(data: bytes):
    """The HEIF container, read lazily (nothing decoded yet); ``ImageError`` if it is not one."""
    import io

    heif = _heif()
    try:
        return heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
    except Exception as e:
        raise ImageError(
            f"not a readable HEIF image ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
        ) from None


def _heif_header(data: bytes) -> Header:
    f = _open_heif(data)
    return Header(f.size[0], f.size[1], len(f), False)


def _decode_heif(data: bytes, p: str) -> Image:
    """The primary image of a HEIF file, upright, as OpenCV would hold it (BGR; alpha apart)."""
    try:
        f = _open_heif(data)
        pix = np.asarray(f)
    except ImageError as e:
        raise ImageError(f"{p}: {e}") from None
    except Exception as e:
        raise ImageError(f"{p}: not a readable HEIF image (corrupt or truncated: {type(e).__name__})") from None
    # a phone's wide-gamut photo (Display P3) says so here; its pixels are kept as they are, in that gamut
    colour = {k: f.info[k] for k in ("icc_profile", "nclx_profile") if f.info.get(k)} or None
    if pix.ndim == 3 and pix.shape[2] == 1:
        pix = pix[..., 0]
    if pix.ndim == 2:
        return Image(np.ascontiguousarray(pix), colour=colour)
    if pix.shape[2] == 2:  # grey + alpha
        return Image(np.ascontiguousarray(pix[..., 0]), np.ascontiguousarray(pix[..., 1]), colour=colour)
    alpha = np.ascontiguousarray(pix[..., 3]) if pix.shape[2] == 4 else None
    return Image(np.ascontiguousarray(pix[..., 2::-1]), alpha, colour=colour)


def _encode_heif(image: Image, quality: int) -> bytes:
    """HEIC bytes of ``image`` (8-bit, or 10-bit for a 16-bit image) at ``quality`` (1-100), with the
    colour description it was read with."""
    import io

    heif = _heif()
    pix = image.pixels
    rgb = pix if pix.ndim == 2 else pix[..., 2::-1]
    if image.alpha is not None:
        rgb = np.dstack([np.dstack([rgb] * 3) if rgb.ndim == 2 else rgb, image.alpha])
    mode = {2: "L", 3: "RGB", 4: "RGBA"}[rgb.shape[2] if rgb.ndim == 3 else 2] + (
        ";16" if rgb.dtype == np.uint16 else ""
    )
    try:
        f = heif.from_bytes(mode=mode, size=(rgb.shape[1], rgb.shape[0]), data=np.ascontiguousarray(rgb).tobytes())
        buf = io.BytesIO()
        f.save(buf, quality=int(quality), **(image.colour or {}))
    except Exception as e:
        raise ImageError(f"cannot encode a {pix.dtype} image of mode {mode} as HEIC ({e})") from None
    return buf.getvalue()


def png_grey_alpha(grey: np.ndarray, alpha: np.ndarray) -> bytes:
    """A grey + alpha PNG (colour type 4, 8 or 16 bits), which OpenCV cannot write."""
    import zlib

    depth = 16 if grey.dtype == np.uint16 else 8
    ga = np.dstack([grey, alpha]).astype(">u2" if depth == 16 else np.uint8)
    rows = np.concatenate([np.zeros((ga.shape[0], 1), np.uint8), ga.reshape(ga.shape[0], -1).view(np.uint8)], 1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", grey.shape[1], grey.shape[0], depth, 4, 0, 0, 0)
    idat = zlib.compress(rows.tobytes(), 6)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def encode_image(image: Image, ext: str, jpeg_quality: int = 95) -> bytes:
    """The bytes of ``image`` in the format of ``ext`` (one of ``IMAGE_EXTS``)."""
    if ext not in IMAGE_EXTS:
        raise ImageError(f"cannot write {ext or 'extension-less'} files; use one of {', '.join(IMAGE_EXTS)}")
    if ext in HEIF_EXTS:
        return _encode_heif(image, jpeg_quality)
    pix = image.pixels
    if image.alpha is not None:
        if pix.ndim == 2 and ext == ".png":  # grey stays grey
            return png_grey_alpha(pix, image.alpha)
        grey = pix.ndim == 2
        pix = np.dstack([np.dstack([pix] * 3) if grey else pix, image.alpha])  # BGRA elsewhere
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if ext in (".jpg", ".jpeg") else []
    if ext in (".jpg", ".jpeg") and pix.dtype == np.uint16:
        pix = (pix // 257).astype(np.uint8)  # JPEG is 8-bit only
    try:
        ok, enc = cv2.imencode(ext, pix, params)
    except cv2.error:
        ok = False
    if not ok:
        raise ImageError(
            f"cannot encode a {pix.dtype} image with {pix.shape[2] if pix.ndim == 3 else 1} channels as {ext}"
        )
    return enc.tobytes()


def write_image(path: str | os.PathLike, image: Image, jpeg_quality: int = 95) -> None:
    """Encode by the file's extension and write atomically (temp file in the same folder, rename)."""
    p = Path(path)
    try:
        data = encode_image(image, p.suffix.lower() or ".png", jpeg_quality)
    except ImageError as e:
        raise ImageError(f"{p}: {e}") from None
    try:
        with replacing(p) as tmp:
            tmp.write_bytes(data)
    except OSError as e:
        raise ImageError(f"{p}: cannot write ({e.strerror or e})") from None


# ---- the reference card's pre/post-processing ------------------------------------------------


ARRAY_FORM = "an HxW, HxWx1, HxWx3 (BGR) or HxWx4 (BGRA) uint8/uint16 array, as cv2.imread returns"


def check_array(pixels: object) -> np.ndarray:
    """An OpenCV image array as the denoisers take it, or a ``TypeError``/``ValueError`` saying what
    was expected: ``None`` (what ``cv2.imread`` returns for a file it cannot read), lists, other
    sample types (float, int32, bool), other shapes and empty arrays are refused."""
    if pixels is None:
        raise TypeError(f"expected {ARRAY_FORM}; got None (cv2.imread returns None for a file it cannot read)")
    if not isinstance(pixels, np.ndarray):
        raise TypeError(f"expected {ARRAY_FORM}; got a {type(pixels).__name__}")
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"expected {ARRAY_FORM}; got {pixels.dtype} samples (a float image in [0, 1]: "
            "(x * 255).round().astype(np.uint8))"
        )
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (1, 3, 4)):
        raise ValueError(f"expected {ARRAY_FORM}; got shape {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError(f"the image is empty ({pixels.shape[1]}x{pixels.shape[0]} pixels)")
    return pixels


def split_array(pixels: object) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """``check_array``, then what the network sees (HxW grey or HxWx3 BGR), the alpha channel (or
    None) and whether the array came as HxWx1; ``join_array`` puts the output back in that shape."""
    px = check_array(pixels)
    if px.ndim == 3 and px.shape[2] == 4:
        return np.ascontiguousarray(px[..., :3]), px[..., 3], False
    if px.ndim == 3 and px.shape[2] == 1:
        return px[..., 0], None, True
    return px, None, False


def join_array(out: np.ndarray, alpha: np.ndarray | None, one_channel: bool) -> np.ndarray:
    """The denoised picture in the input's shape: alpha appended, or the single channel's axis back."""
    if alpha is not None:
        return np.dstack([out, alpha])
    return out[..., None] if one_channel else out


def preprocess(pixels: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Card pre-processing of an OpenCV array (HWC BGR or HW grey, uint8/uint16) to ``1xCxHxW``
    float32 RGB in [0, 1]. ``size`` is (width, height) for the card's optional ``cv2.resize``."""
    scale = 65535.0 if pixels.dtype == np.uint16 else 255.0
    if size is not None:
        pixels = cv2.resize(pixels, size)
    if pixels.ndim == 2:
        chw = pixels[None]
    else:
        chw = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)
    return (chw.astype(np.float32) / scale)[None]


def postprocess(output: np.ndarray, dtype: type = np.uint8) -> np.ndarray:
    """Card post-processing of a ``1xCxHxW`` (or CxHxW) RGB float output to an OpenCV array."""
    scale = 65535.0 if dtype == np.uint16 else 255.0
    chw = np.squeeze(np.asarray(output, np.float32), 0) if output.ndim == 4 else np.asarray(output, np.float32)
    chw = np.clip(np.round(np.clip(chw, 0.0, 1.0) * scale), 0, scale).astype(dtype)
    if chw.shape[0] == 1:
        return chw[0]
    return np.ascontiguousarray(cv2.cvtColor(np.ascontiguousarray(chw.transpose(1, 2, 0)), cv2.COLOR_RGB2BGR))


# ---- conversions, each written once -------------------------------------------------------------


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    """An OpenCV array (HWC BGR or HW grey) as HWC RGB, grey replicated to three channels; the
    integer type is kept (training data stays uint8/uint16 in memory)."""
    if pixels.ndim == 2:
        return np.repeat(pixels[..., None], 3, axis=2)
    return np.ascontiguousarray(pixels[..., ::-1])


def to_float(pixels: np.ndarray) -> np.ndarray:
    """uint8/uint16 pixels -> float32 in [0, 1] (by the type's full scale), layout unchanged."""
    return pixels.astype(np.float32) / (65535.0 if pixels.dtype == np.uint16 else 255.0)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Float in [0, 1] -> uint8: clip and round to the nearest of 256 levels (rounded in float64)."""
    return np.clip(np.round(np.asarray(x, np.float64) * 255.0), 0, 255).astype(np.uint8)


def quantize(x: np.ndarray) -> np.ndarray:
    """What saving to an 8-bit file does to a float image: clip to [0, 1], round to 1/255; float32."""
    return (to_uint8(x) / np.float32(255.0)).astype(np.float32)
