"""Leaf photos live on disk, named by their sha256, never as blobs in the database.

The same photo logged twice is stored once; the hash in the record proves which image an
auditor is looking at.
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import NotAnImageError

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class CheckedPhoto:
    data: bytes
    sha256: str
    ext: str
    gps: tuple[float, float] | None

    @property
    def relpath(self) -> str:
        return f"{self.sha256[:2]}/{self.sha256}{self.ext}"


MAX_PHOTO_BYTES = 200 * 2**20      # as model.imageio.MAX_BYTES
MAX_DECODED_BYTES = 400 * 2**20    # as model.imageio.MAX_DECODED_BYTES: width x height x channels x bytes/sample
MAX_PIXELS = 120_000_000           # as model.imageio.MAX_PIXELS
_BAD = "expected a JPEG/PNG photo of a leaf. Re-export it from the camera or phone."


def _read_capped(path: Path, limit: int = MAX_PHOTO_BYTES) -> bytes:
    """Only a regular file, at most `limit` bytes: a FIFO, /dev/zero or a folder is refused before reading
    (O_NONBLOCK: opening a FIFO does not wait), and the size the file system reports is not trusted."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise NotAnImageError(f"photo {str(path)!r} could not be read ({reason}); give the path to a JPEG or PNG.") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotAnImageError(f"photo {str(path)!r} could not be read (not a regular file: a folder, pipe or "
                                  f"device); give the path to a JPEG or PNG.")
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise NotAnImageError(f"photo {str(path)!r} is over {limit // 2**20} MB; {_BAD}")
        return b"".join(chunks)
    except OSError as exc:
        raise NotAnImageError(f"photo {str(path)!r} could not be read ({exc.strerror}); give the path to a JPEG or PNG.") from None
    finally:
        os.close(fd)


def _check_header(data: bytes, path: Path) -> None:
    """Refuse a pixel bomb from its header, before OpenCV allocates the pixels."""
    try:
        import io
        import warnings

        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's own bomb warning: the limits below decide
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                channels = max(len(im.getbands()), 3 if im.mode == "P" else 1)
                bits = data[24] if data[:4] == b"\x89PNG" and len(data) > 24 else (32 if im.mode in ("I", "F") else 16 if im.mode.startswith("I;16") else 8)
    except Image.DecompressionBombError:  # over twice Pillow's own pixel limit: far over ours too
        raise NotAnImageError(f"photo {str(path)!r} has over {MAX_PIXELS:,} pixels; {_BAD}") from None
    except Exception:  # not something PIL reads: OpenCV decides below
        return
    if w * h > MAX_PIXELS:
        raise NotAnImageError(f"photo {str(path)!r} is {w}x{h}, over {MAX_PIXELS:,} pixels; {_BAD}")
    need = w * h * channels * -(-int(bits) // 8)
    if need > MAX_DECODED_BYTES:
        raise NotAnImageError(f"photo {str(path)!r} is {w}x{h} ({channels} channels, {bits} bits): decoding it would "
                              f"take {need / 2**20:,.0f} MB, over the {MAX_DECODED_BYTES // 2**20} MB limit; {_BAD}")


def check_photo(path: str | os.PathLike) -> CheckedPhoto:
    """Read (a regular file, capped) and decode the photo (cv2.imdecode); refuse anything that is not a real,
    reasonably sized image."""
    path = Path(path)
    data = _read_capped(path)
    import cv2
    import numpy as np

    if data:
        _check_header(data, path)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    except cv2.error:  # OpenCV's own limits (CV_IO_MAX_IMAGE_PIXELS) on a header Pillow could not read
        image = None
    if image is None or image.size == 0:
        raise NotAnImageError(
            f"photo {str(path)!r} is not an image OpenCV can decode ({len(data)} bytes); {_BAD}"
        )
    ext = path.suffix.lower() if path.suffix.lower() in IMAGE_EXTS else ".img"
    return CheckedPhoto(data, hashlib.sha256(data).hexdigest(), ext, read_gps(data))


def read_gps(data: bytes) -> tuple[float, float] | None:
    """Latitude/longitude in decimal degrees from EXIF, or None when the photo has no fix."""
    try:
        import io

        from PIL import Image
    except ImportError:  # Pillow comes with gradio; without it we simply record no GPS
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            gps = img.getexif().get_ifd(0x8825)
    except Exception:  # a decodable image with broken EXIF still gets logged, without GPS
        return None
    try:
        lat = _degrees(gps[2], gps.get(1, "N"), "S")
        lon = _degrees(gps[4], gps.get(3, "E"), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _degrees(dms, ref, negative_ref: str) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    ref = ref.decode() if isinstance(ref, bytes) else str(ref)
    return -value if ref.strip().upper() == negative_ref else value


def store(photo: CheckedPhoto, photo_dir: Path) -> tuple[Path, bool]:
    """Write atomically under photo_dir; returns (path, created) so a failed DB write can undo it."""
    dest = photo_dir / photo.relpath
    if dest.exists():
        return dest, False
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(photo.data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest, True
