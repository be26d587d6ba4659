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

import errno
import io
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

MIN_SIDE = 32                 # below this a leaf's lesions cannot be seen
MAX_PIXELS = 120_000_000      # 108-MP phone sensors pass; a 30k x 30k "bomb" does not
MAX_BYTES = 200 * 2**20       # no phone photo is this big; refuse before reading it all
# What the decoder may allocate: width x height x channels x bytes per sample, from the header. 400 MB lets
# every 8-bit RGB photo under MAX_PIXELS through (120 MP x 3 = 360 MB) and stops a 16-bit RGBA PNG of the same
# size (950 MB), which compresses to under 1 MB on disk (a "pixel bomb").
MAX_DECODED_BYTES = 400 * 2**20
_READ_CHUNK = 1 << 20
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".dib", ".tif", ".tiff",
                  ".heic", ".heif", ".gif")
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))
_FIX = "send a JPEG or PNG photo taken with the phone camera"
# The only formats PIL may open (its JPEG opener also gives the multi-picture MPO some cameras write). PIL's other
# plugins (EPS, which runs Ghostscript on load; PSD, TGA, ICO, PCX, SGI, DDS, FITS, ...) never see an upload: a
# stranger's file named leaf.jpg must not reach a decoder LeafScout does not need.
PIL_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")


class ImageError(ValueError):
    """The input is not a usable photo. The message is meant for the person who supplied it.

    `code` is the kind of refusal, in the vocabulary of `leafscout.errors.ERROR_CODES` (so front ends never
    parse the English text): "empty", "not_image", "heic", "too_small", "too_large" (file over MAX_BYTES,
    pixels over MAX_PIXELS, or decoded bytes over MAX_DECODED_BYTES), "corrupt", "not_a_file" (folder, FIFO,
    device, socket), "not_found", "bad_input" (a bad array or argument), "other" (an OS read error).
    """

    def __init__(self, message: str, code: str = "other"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ImageInfo:
    """What the header says, read without decoding pixels."""
    format: str        # "JPEG", "PNG", ... (PIL's name)
    width: int
    height: int
    mode: str          # PIL mode: "RGB", "RGBA", "L", "I;16", "CMYK", "P", ...
    orientation: int   # EXIF orientation tag, 1 when absent
    channels: int = 3          # samples per pixel the decoder produces
    bytes_per_sample: int = 1  # 2 for 16-bit PNG/TIFF, 4 for 32-bit integer or float

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def decoded_bytes(self, reduction: int = 1) -> int:
        """Bytes the decoder allocates for the pixels (before any conversion), at 1/reduction size."""
        w, h = -(-self.width // reduction), -(-self.height // reduction)
        return w * h * self.channels * self.bytes_per_sample


_MODE_LAYOUT = {  # PIL mode -> (channels the decoder produces, bytes per sample)
    "1": (1, 1), "L": (1, 1), "P": (4, 1), "PA": (4, 1), "LA": (2, 1), "La": (2, 1), "RGB": (3, 1),
    "RGBA": (4, 1), "RGBa": (4, 1), "RGBX": (4, 1), "CMYK": (4, 1), "YCbCr": (3, 1), "LAB": (3, 1),
    "HSV": (3, 1), "I": (1, 4), "F": (1, 4), "I;16": (1, 2), "I;16B": (1, 2), "I;16L": (1, 2), "I;16N": (1, 2),
}


def _layout(im: Image.Image, data: bytes) -> tuple[int, int]:
    """(channels, bytes per sample) the pixels will decode to, from the header alone.

    PIL reports a 16-bit RGB(A) PNG or TIFF as mode "RGB(A)" (it would reduce to 8 bits), but OpenCV keeps
    all 16: the sample size comes from the PNG IHDR / TIFF BitsPerSample / the tile's raw mode instead.
    """
    channels, size = _MODE_LAYOUT.get(im.mode, (max(len(im.getbands()), 1), 4))
    bits = 8
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 26:
        bits = data[24]
    else:
        try:
            tag = getattr(im, "tag_v2", None)
            if tag is not None and 258 in tag:
                value = tag[258]
                bits = max(value) if isinstance(value, tuple) else int(value)
        except Exception:
            pass
        for tile in getattr(im, "tile", None) or ():
            raw = tile[3] if len(tile) > 3 else None
            raw = raw[0] if isinstance(raw, tuple) and raw else raw
            if isinstance(raw, str):
                for marker, b in ((";16", 16), (";32", 32), (";64", 64)):
                    if marker in raw:
                        bits = max(bits, b)
    return channels, max(size, -(-int(bits) // 8))


def _load_bytes(source, max_bytes: int = MAX_BYTES) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise ImageError(f"the image is {len(data) / 2**20:.0f} MB; a phone photo is under "
                             f"{max_bytes // 2**20} MB. {_FIX}", "too_large")
        return data, "the image"
    if not isinstance(source, (str, os.PathLike)):
        raise ImageError(f"expected a file path, bytes or an RGB uint8 numpy array; got {type(source).__name__}",
                         "bad_input")
    path = Path(source)
    return _read_regular_file(path, max_bytes), str(path)


def read_regular_file(path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, or ImageError (code "not_a_file", "too_large",
    "not_found", ...): the one way LeafScout reads a photo file, so a FIFO or /dev/zero never blocks a reader."""
    return _read_regular_file(Path(path), max_bytes)


def _read_regular_file(path: Path, max_bytes: int) -> bytes:
    """Read a regular file, at most max_bytes. FIFOs, devices (/dev/zero), sockets and folders are refused
    before a byte is read; the size the file system reports is never trusted (/proc files and devices say 0).

    O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer; fstat on the open
    descriptor then decides, so a file swapped after a stat cannot slip through.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ImageError(f"{path}: file not found; check the path", "not_found") from None
    except PermissionError:
        raise ImageError(f"{path}: permission denied; check the file's read permission", "other") from None
    except IsADirectoryError:
        raise ImageError(f"{path} is a folder, not a photo; pass the photo files, or the folder to "
                         f"`leafscout diagnose`", "not_a_file") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror or exc})", "other") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ImageError(f"{path} is a folder, not a photo; pass the photo files, or the folder to "
                             f"`leafscout diagnose`", "not_a_file")
        if not stat.S_ISREG(st.st_mode):
            kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else
                    "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                    "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            raise ImageError(f"{path} is {kind}, not a photo file; only regular files are read. {_FIX}",
                             "not_a_file")
        if st.st_size > max_bytes:
            raise ImageError(f"{path} is {st.st_size / 2**20:.0f} MB; a phone photo is under "
                             f"{max_bytes // 2**20} MB. {_FIX}", "too_large")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks, total = [], 0
        while True:  # read to EOF, but never more than max_bytes + 1, whatever st_size said
            chunk = os.read(fd, min(_READ_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise ImageError(f"{path} is over {max_bytes // 2**20} MB (it kept growing while read); "
                                 f"a phone photo is smaller. {_FIX}", "too_large")
        return b"".join(chunks)
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise ImageError(f"{path} is a folder, not a photo", "not_a_file") from None
        raise ImageError(f"{path}: cannot be read ({exc.strerror or exc})", "other") from None
    finally:
        os.close(fd)


def _what_is_it(data: bytes) -> str:
    """A human name for common non-image content, for the error message."""
    head = data[:64].lstrip()
    for magic, fmt in ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG", "PNG"), (b"RIFF", "WebP"), (b"BM", "BMP"),
                       (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"GIF8", "GIF")):
        if data.startswith(magic):
            return f"a {fmt} file whose header is damaged (corrupt or truncated)"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypmsf1"):
        return "an HEIC/HEIF photo (iPhone default), which LeafScout cannot decode yet"
    if head.startswith(b"%!PS"):
        return "a PostScript/EPS file"
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


def check_image(source, *, max_pixels: int = MAX_PIXELS, min_side: int = MIN_SIDE,
                max_decoded_bytes: int = MAX_DECODED_BYTES) -> ImageInfo:
    """Read only the header and refuse what cannot or should not be decoded.

    `source`: path or bytes. Returns the `ImageInfo`; raises `ImageError` for empty, non-image,
    unreadable-header, too-small, too-many-pixel or too-many-decoded-bytes inputs. Truncated pixel data is
    caught by `read_image`.
    """
    data, name = _load_bytes(source)
    return _check_bytes(data, name, max_pixels, min_side, max_decoded_bytes)


def _check_decoded_size(info: ImageInfo, name: str, reduction: int, limit: int) -> None:
    need = info.decoded_bytes(reduction)
    if need > limit:
        raise ImageError(
            f"{name} is {info.width}x{info.height} with {info.channels} channel(s) of {info.bytes_per_sample * 8} "
            f"bits: decoding it would take {need / 2**20:,.0f} MB, over the {limit / 2**20:,.0f} MB limit "
            f"(a guard against pixel bombs). Save it as an 8-bit RGB JPEG, as a phone camera does",
            "too_large")


def _check_bytes(data: bytes, name: str, max_pixels: int, min_side: int,
                 max_decoded_bytes: int = MAX_DECODED_BYTES, min_short_side: int | None = None) -> ImageInfo:
    """Header checks, all before any pixel is decoded; orientation is read last, and never by decoding (`_exif`)."""
    if not data:
        raise ImageError(f"{name} is empty (0 bytes): the upload or copy did not finish; take or copy the photo again",
                         "empty")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=PIL_FORMATS)
            w, h = im.size
            fmt, mode = im.format or "unknown", im.mode
            channels, sample = _layout(im, data)
        except Image.DecompressionBombError:
            raise ImageError(f"{name} declares far more than {max_pixels:,} pixels; it looks like a decompression "
                             f"bomb, not a photo. {_FIX}", "too_large") from None
        except UnidentifiedImageError:
            what = _what_is_it(data)
            raise ImageError(f"{name} is not a photo LeafScout can read: expected JPEG, PNG, WebP, BMP or TIFF, "
                             f"got {what}. {_FIX}", "heic" if "HEIC" in what else "not_image") from None
        except Exception as exc:  # PIL raises many types on a damaged header (SyntaxError, struct.error, ...)
            raise ImageError(f"{name} has a damaged header ({type(exc).__name__}: {exc}); the file is corrupt. "
                             f"{_FIX}", "corrupt") from None
        if w * h > max_pixels:
            raise ImageError(f"{name} is {w}x{h} = {w * h / 1e6:.0f} MP, over the {max_pixels / 1e6:.0f} MP limit "
                             f"(a guard against decompression bombs); resize it below that, e.g. to 4000x3000",
                             "too_large")
        if min(w, h) < min_side:
            raise ImageError(f"{name} is only {w}x{h} pixels; expected at least {min_side} px on each side. "
                             f"Send the original photo, not a thumbnail", "too_small")
        info = ImageInfo(fmt, w, h, mode, 1, channels, sample)
        # a big JPEG is decoded at 1/2..1/8 size; everything else at full size, with all its bits
        _check_decoded_size(info, name, _reduction(info, min_short_side), max_decoded_bytes)
        try:
            orientation = int(_exif(im, data).get(0x0112, 1) or 1)
        except Exception:  # a broken EXIF block must not sink an otherwise good photo
            orientation = 1
    return ImageInfo(fmt, w, h, mode, orientation if 1 <= orientation <= 8 else 1, channels, sample)


def _exif(im: Image.Image, data: bytes) -> Image.Exif:
    """The EXIF block without decoding pixels. PIL's PNG getexif() decodes the whole image (a 120 MP PNG: 2 s
    and 360 MB, on top of OpenCV's own decode) when the eXIf chunk comes after the pixel data; the chunk is
    found by walking the chunk list instead."""
    if im.format != "PNG" or "exif" in im.info:
        return im.getexif()
    exif, pos = Image.Exif(), 8
    while pos + 8 <= len(data):
        length, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        if kind == b"eXIf":
            raw = data[pos + 8:pos + 8 + length]
            exif.load(raw if raw.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + raw)
            break
        if kind == b"IEND":
            break
        pos += 12 + length
    return exif


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
        raise ImageError(f"expected a numpy array, got {type(arr).__name__}", "bad_input")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise ImageError(f"{name}: expected an HxW, HxWx3 or HxWx4 image array, got shape {arr.shape}", "bad_input")
    if arr.dtype == np.uint8:
        x = arr
    elif arr.dtype == np.uint16:
        x = _by_bands(arr, lambda band: (band.astype(np.uint32) + 128) // 257)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ImageError(f"{name}: float image contains NaN or infinity", "bad_input")
        if arr.min() < 0 or arr.max() > 1:
            raise ImageError(f"{name}: float images must be scaled to [0, 1], got [{arr.min():.3g}, {arr.max():.3g}]; "
                             f"pass uint8 (0-255) instead", "bad_input")
        x = _by_bands(arr, lambda band: np.round(band * 255))
    else:
        raise ImageError(f"{name}: expected uint8 (0-255) pixels, got {arr.dtype}; convert with arr.astype(np.uint8)", "bad_input")
    if x.ndim == 2:
        return np.ascontiguousarray(np.repeat(x[:, :, None], 3, axis=2))
    if x.shape[2] == 2:  # gray + alpha
        return _on_white(x, [0, 0, 0])
    if x.shape[2] == 4:
        return _on_white(x, [2, 1, 0] if bgr else [0, 1, 2])
    if bgr:
        x = x[:, :, [2, 1, 0]]
    return np.ascontiguousarray(x)


def _by_bands(arr: np.ndarray, scale) -> np.ndarray:
    """`scale(band)` cast to uint8, a band of rows at a time: on the whole image at once, a 16-bit 64 MP PNG
    (370 KB on disk, under the decoded-bytes cap) made two uint32 copies and peaked at 1.9 GB."""
    out = np.empty(arr.shape, np.uint8)
    rows = max(1, (1 << 20) // max(1, arr[:1].size))
    for y in range(0, arr.shape[0], rows):
        out[y:y + rows] = scale(arr[y:y + rows])
    return out


def _on_white(x: np.ndarray, colour: list[int]) -> np.ndarray:
    """Colour channels `colour` of a uint8 image with alpha last, composited on white, a band of rows at a time:
    done on the whole image at once, the float32 copies took 9 times the pixels' bytes (a 380 KB 100 MP RGBA PNG
    under the decoded-bytes cap peaked at 3.9 GB)."""
    out = np.empty(x.shape[:2] + (3,), np.uint8)
    rows = max(1, (1 << 20) // max(1, x.shape[1]))
    for y in range(0, x.shape[0], rows):
        band = x[y:y + rows]
        alpha = band[:, :, -1:].astype(np.float32) * (1.0 / 255.0)
        out[y:y + rows] = np.round(band[:, :, colour].astype(np.float32) * alpha + 255.0 * (1.0 - alpha))
    return out


def _to_rgb_owned(bgr: np.ndarray, name: str) -> np.ndarray:
    """A decoder's own BGR uint8 array turned RGB in place: to_rgb_uint8's fancy-indexed copy would be a third
    full-size buffer next to the two OpenCV's imdecode peaks at (measured: 1078 MB for a 360 MB 120 MP photo)."""
    if bgr.dtype == np.uint8 and bgr.ndim == 3 and bgr.shape[2] == 3 and bgr.flags.c_contiguous and bgr.flags.writeable:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)
    return to_rgb_uint8(bgr, bgr=True, name=name)


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
                return _to_rgb_owned(bgr, name)
        else:  # keep alpha and 16 bits, apply orientation ourselves
            arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
            if arr is not None and arr.ndim >= 2 and min(arr.shape[:2]) > 0:
                return _apply_orientation(_to_rgb_owned(arr, name) if arr.ndim == 3 else to_rgb_uint8(arr, name=name),
                                          info.orientation)
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
            im = Image.open(io.BytesIO(data), formats=PIL_FORMATS)
            im.load()
            arr = _pil_array(im)
    except Exception as exc:
        raise ImageError(f"{name} is truncated or corrupt: its {info.format} header is fine but the pixel data "
                         f"cannot be decoded ({exc}). The copy or upload probably stopped early; copy the "
                         f"original photo again", "corrupt") from None
    return _apply_orientation(to_rgb_uint8(arr, name=name), info.orientation)


def read_image(source, *, min_short_side: int | None = None, max_pixels: int = MAX_PIXELS,
               min_side: int = MIN_SIDE, max_decoded_bytes: int = MAX_DECODED_BYTES) -> np.ndarray:
    """Path, bytes, PIL image or numpy array -> RGB uint8 HxWx3, or `ImageError`.

    `min_short_side`: when set, a large JPEG may be decoded at 1/2, 1/4 or 1/8 size as long as its
    shorter side stays >= this (the runtime passes the preprocessing resize size). Numpy arrays are taken
    as RGB (or gray / RGBA) and are only validated and converted.
    """
    if isinstance(source, np.ndarray):
        rgb = to_rgb_uint8(source)
        if min(rgb.shape[:2]) < min_side:
            raise ImageError(f"the image is only {rgb.shape[1]}x{rgb.shape[0]} pixels; expected at least "
                             f"{min_side} px on each side", "too_small")
        return rgb
    if isinstance(source, Image.Image):  # may still be lazy: check what it would decode to first
        w, h = source.size
        if w * h > max_pixels:
            raise ImageError(f"the image is {w}x{h} = {w * h / 1e6:.0f} MP, over the {max_pixels / 1e6:.0f} MP "
                             f"limit", "too_large")
        channels, _ = _layout(source, b"")
        _check_decoded_size(ImageInfo(source.format or "PIL", w, h, source.mode, 1, channels, 1), "the image", 1,
                            max_decoded_bytes)
        return read_image(_pil_array(source), min_side=min_side)
    data, name = _load_bytes(source)
    info = _check_bytes(data, name, max_pixels, min_side, max_decoded_bytes, min_short_side)
    return _decode(data, info, name, min_short_side)
