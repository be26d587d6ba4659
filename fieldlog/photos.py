"""Leaf photos live on disk, named by their sha256, never as blobs in the database.

The same photo logged twice is stored once; the hash in the record proves which image an
auditor is looking at.
"""
from __future__ import annotations

import hashlib
import os
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


def check_photo(path: str | os.PathLike) -> CheckedPhoto:
    """Read and decode the photo (cv2.imdecode); refuse anything that is not a real image."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotAnImageError(f"photo {str(path)!r} could not be read ({exc.strerror}); give the path to a JPEG or PNG.") from None
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if image is None or image.size == 0:
        raise NotAnImageError(
            f"photo {str(path)!r} is not an image OpenCV can decode ({len(data)} bytes); "
            "expected a JPEG/PNG photo of a leaf. Re-export it from the camera or phone."
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
