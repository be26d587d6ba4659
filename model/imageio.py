"""The one gate every photo passes before the model sees it.

Phones and laptops produce JPEG with EXIF rotation, PNG with transparency, 16-bit scans, CMYK JPEGs from
print workflows, WebP, BMP, TIFF and 12-50 MP photos. `read_image` turns all of them into RGB uint8, and
refuses everything else with an `ImageError` that says what was expected, what came and how to fix it
(like scikit-learn's `check_array`), so callers never see a decoder traceback.

The header is read first (PIL, no pixel decoding) so decompression bombs and tiny images are refused
before any memory is spent, and big JPEGs are decoded at 1/2, 1/4 or 1/8 size by libjpeg's DCT scaling
(`cv2.IMREAD_REDUCED_COLOR_*`), which is both faster and a proper anti-aliased downscale.
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

MIN_SIDE = 32                 # below this a leaf's lesions cannot be seen
MAX_PIXELS = 120_000_000      # 108-MP phone sensors pass; a 30k x 30k "bomb" does not
MAX_BYTES = 200 * 2**20       # no phone photo is this big; refuse before reading it all
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".dib", ".tif", ".tiff",
                  ".heic", ".heif", ".gif")
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))
_FIX = "send a JPEG or PNG photo taken with the phone camera"


class ImageError(ValueError):
    """The input is not a usable photo. The message is meant for the person who supplied it."""


@dataclass(frozen=True)
class ImageInfo:
    """What the header says, read without decoding pixels."""
    format: str        # "JPEG", "PNG", ... (PIL's name)
    width: int
    height: int
    mode: str          # PIL mode: "RGB", "RGBA", "L", "I;16", "CMYK", "P", ...
    orientation: int   # EXIF orientation tag, 1 when absent

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _load_bytes(source) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "the image"
    if not isinstance(source, (str, os.PathLike)):
        raise ImageError(f"expected a file path, bytes or an RGB uint8 numpy array; got {type(source).__name__}")
    path = Path(source)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ImageError(f"{path} is a folder, not a photo; pass the photo files, or the folder to `leafscout diagnose`")
        if size > MAX_BYTES:
            raise ImageError(f"{path} is {size / 2**20:.0f} MB; a phone photo is under {MAX_BYTES // 2**20} MB. {_FIX}")
        return path.read_bytes(), str(path)
    except FileNotFoundError:
        raise ImageError(f"{path}: file not found; check the path") from None
    except PermissionError:
        raise ImageError(f"{path}: permission denied; check the file's read permission") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _what_is_it(data: bytes) -> str:
    """A human name for common non-image content, for the error message."""
    head = data[:64].lstrip()
    for magic, fmt in ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG", "PNG"), (b"RIFF", "WebP"), (b"BM", "BMP"),
                       (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"GIF8", "GIF")):
        if data.startswith(magic):
            return f"a {fmt} file whose header is damaged (corrupt or truncated)"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypmsf1"):
        return "an HEIC/HEIF photo (iPhone default), which LeafScout cannot decode yet"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (or an Office document)"
    if head[:1] in (b"{", b"[") or head.lower().startswith((b"<!doctype", b"<html", b"<?xml", b"<svg")):
        return "a text/markup file (JSON, HTML, XML or SVG)"
    if data[4:8] == b"ftyp":
        return "a video (MP4/MOV)"
    try:
        data[:512].decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "a file of an unknown binary format"


def check_image(source, *, max_pixels: int = MAX_PIXELS, min_side: int = MIN_SIDE) -> ImageInfo:
    """Read only the header and refuse what cannot or should not be decoded.

    `source`: path or bytes. Returns the `ImageInfo`; raises `ImageError` for empty, non-image,
    unreadable-header, too-small or too-many-pixel inputs. Truncated pixel data is caught by `read_image`.
    """
    data, name = _load_bytes(source)
    return _check_bytes(data, name, max_pixels, min_side)


def _check_bytes(data: bytes, name: str, max_pixels: int, min_side: int) -> ImageInfo:
    if not data:
        raise ImageError(f"{name} is empty (0 bytes): the upload or copy did not finish; take or copy the photo again")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            fmt, mode = im.format or "unknown", im.mode
            try:
                orientation = int(im.getexif().get(0x0112, 1) or 1)
            except Exception:  # a broken EXIF block must not sink an otherwise good photo
                orientation = 1
    except Image.DecompressionBombError:
        raise ImageError(f"{name} declares far more than {max_pixels:,} pixels; it looks like a decompression bomb, "
                         f"not a photo. {_FIX}") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not a photo LeafScout can read: expected JPEG, PNG, WebP, BMP or TIFF, "
                         f"got {_what_is_it(data)}. {_FIX}") from None
    except Exception as exc:  # PIL raises many types on a damaged header (SyntaxError, struct.error, ...)
        raise ImageError(f"{name} has a damaged header ({type(exc).__name__}: {exc}); the file is corrupt. "
                         f"{_FIX}") from None
    if w * h > max_pixels:
        raise ImageError(f"{name} is {w}x{h} = {w * h / 1e6:.0f} MP, over the {max_pixels / 1e6:.0f} MP limit "
                         f"(a guard against decompression bombs); resize it below that, e.g. to 4000x3000")
    if min(w, h) < min_side:
        raise ImageError(f"{name} is only {w}x{h} pixels; expected at least {min_side} px on each side. "
                         f"Send the original photo, not a thumbnail")
    return ImageInfo(fmt, w, h, mode, orientation if 1 <= orientation <= 8 else 1)


def _reduction(info: ImageInfo, min_short_side: int | None) -> int:
    """Largest libjpeg DCT scale (8, 4, 2) that keeps the shorter side >= min_short_side."""
    if info.format != "JPEG" or not min_short_side:
        return 1
    short = min(info.width, info.height)
    for factor, _ in _REDUCED:
        if short // factor >= min_short_side:
            return factor
    return 1


def _apply_orientation(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """EXIF orientation for the non-JPEG paths (OpenCV applies it itself to JPEGs)."""
    ops = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1),
           7: lambda a: np.rot90(a, 1)[::-1], 8: lambda a: np.rot90(a, 1)}
    return np.ascontiguousarray(ops[orientation](rgb)) if orientation in ops else rgb


def to_rgb_uint8(arr: np.ndarray, *, bgr: bool = False, name: str = "the array") -> np.ndarray:
    """Any decoded pixel array (gray, gray+alpha, RGB, RGBA; uint8, uint16 or float in [0, 1]) -> RGB uint8.

    Transparency is composited on white: a leaf cut out on a transparent background should look like a
    leaf on paper, not on black (which the model never saw).
    """
    if not isinstance(arr, np.ndarray):
        raise ImageError(f"expected a numpy array, got {type(arr).__name__}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise ImageError(f"{name}: expected an HxW, HxWx3 or HxWx4 image array, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        x = arr
    elif arr.dtype == np.uint16:
        x = ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ImageError(f"{name}: float image contains NaN or infinity")
        if arr.min() < 0 or arr.max() > 1:
            raise ImageError(f"{name}: float images must be scaled to [0, 1], got [{arr.min():.3g}, {arr.max():.3g}]; "
                             f"pass uint8 (0-255) instead")
        x = np.round(arr * 255).astype(np.uint8)
    else:
        raise ImageError(f"{name}: expected uint8 (0-255) pixels, got {arr.dtype}; convert with arr.astype(np.uint8)")
    if x.ndim == 2:
        return np.ascontiguousarray(np.repeat(x[:, :, None], 3, axis=2))
    if x.shape[2] == 2:  # gray + alpha
        x = np.concatenate([np.repeat(x[:, :, :1], 3, axis=2), x[:, :, 1:]], axis=2)
    if bgr:
        x = x[:, :, [2, 1, 0, 3][: x.shape[2]]]
    if x.shape[2] == 4:
        alpha = x[:, :, 3:].astype(np.float32) * (1.0 / 255.0)
        x = np.round(x[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(x)


def _decode(data: bytes, info: ImageInfo, name: str, min_short_side: int | None) -> np.ndarray:
    buf = np.frombuffer(data, np.uint8)
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # we report errors ourselves
    try:
        if info.format == "JPEG":  # EXIF orientation and CMYK are handled by OpenCV's JPEG reader
            factor = _reduction(info, min_short_side)
            flag = dict(_REDUCED).get(factor, cv2.IMREAD_COLOR)
            bgr = cv2.imdecode(buf, flag)
            if bgr is not None:
                return to_rgb_uint8(bgr, bgr=True, name=name)
        else:  # keep alpha and 16 bits, apply orientation ourselves
            arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
            if arr is not None and arr.ndim >= 2 and min(arr.shape[:2]) > 0:
                return _apply_orientation(to_rgb_uint8(arr, bgr=arr.ndim == 3, name=name), info.orientation)
    except cv2.error:
        pass
    finally:
        cv2.utils.logging.setLogLevel(level)
    return _decode_pil(data, info, name)


def _pil_array(im: Image.Image) -> np.ndarray:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        return np.asarray(im.convert("RGBA"))
    if im.mode.startswith("I"):  # 16/32-bit gray: keep the full range for to_rgb_uint8's scaling
        return np.clip(np.asarray(im, dtype=np.int64), 0, 65535).astype(np.uint16)
    return np.asarray(im.convert("RGB"))


def _decode_pil(data: bytes, info: ImageInfo, name: str) -> np.ndarray:
    """Fallback for what OpenCV cannot read (GIF, unusual TIFF codecs); also gives the error message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data))
            im.load()
            arr = _pil_array(im)
    except Exception as exc:
        raise ImageError(f"{name} is truncated or corrupt: its {info.format} header is fine but the pixel data "
                         f"cannot be decoded ({exc}). The copy or upload probably stopped early; copy the "
                         f"original photo again") from None
    return _apply_orientation(to_rgb_uint8(arr, name=name), info.orientation)


def read_image(source, *, min_short_side: int | None = None, max_pixels: int = MAX_PIXELS,
               min_side: int = MIN_SIDE) -> np.ndarray:
    """Path, bytes, PIL image or numpy array -> RGB uint8 HxWx3, or `ImageError`.

    `min_short_side`: when set, a large JPEG may be decoded at 1/2, 1/4 or 1/8 size as long as its
    shorter side stays >= this (the runtime passes the preprocessing resize size). Numpy arrays are taken
    as RGB (or gray / RGBA) and are only validated and converted.
    """
    if isinstance(source, np.ndarray):
        rgb = to_rgb_uint8(source)
        if min(rgb.shape[:2]) < min_side:
            raise ImageError(f"the image is only {rgb.shape[1]}x{rgb.shape[0]} pixels; expected at least "
                             f"{min_side} px on each side")
        return rgb
    if isinstance(source, Image.Image):
        return read_image(_pil_array(source), min_side=min_side)
    data, name = _load_bytes(source)
    info = _check_bytes(data, name, max_pixels, min_side)
    return _decode(data, info, name, min_short_side)
