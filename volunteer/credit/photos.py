"""Evidence photos: decoded for real, re-encoded as JPEG without EXIF or GPS, stored outside static/."""

import contextlib
import io
import os
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from ..core import images
from ..core.errors import DomainError

FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PHOTOS = 3
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_SIDE = 1600


@dataclass
class Processed:
    data: bytes
    width: int
    height: int


def max_bytes() -> int:
    return int(current_app.config.get("CREDIT_PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_dir() -> str:
    path = current_app.config.get("CREDIT_UPLOAD_DIR") or os.path.join(
        current_app.instance_path, "uploads", "declarations"
    )
    os.makedirs(path, exist_ok=True)
    return path


def read_limited(stream) -> bytes:
    """The upload's bytes, refused once they pass the per-file limit."""
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise DomainError(
            "photo_too_large",
            _l("Each photo may be at most %(mb)d MB.", mb=max(1, limit // (1024 * 1024))),
        )
    if not data:
        raise DomainError("photo_empty", _l("One of the photos is empty."))
    return data


def process(data: bytes) -> Processed:
    """Decode (JPEG, PNG or WebP only, whatever the file name says), turn upright, shrink, strip metadata."""
    bad = DomainError("photo_invalid", _l("Photos must be JPEG, PNG or WebP pictures."))
    image = images.decode(data, FORMATS, bad, too_big_code="photo_too_big")
    image = ImageOps.exif_transpose(image)  # keep the orientation the EXIF tag gave, then drop EXIF
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    side = int(current_app.config.get("CREDIT_PHOTO_MAX_SIDE", DEFAULT_MAX_SIDE))
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)  # no exif= argument: no metadata
    return Processed(out.getvalue(), image.width, image.height)


def save(processed: Processed) -> str:
    """Write the picture under a random name; return the name."""
    name = secrets.token_hex(16) + ".jpg"
    path = os.path.join(upload_dir(), name)
    with open(path, "xb") as fh:
        fh.write(processed.data)
    return name


def path_of(filename: str) -> str:
    return os.path.join(upload_dir(), os.path.basename(filename))


def remove(names) -> None:
    for name in names:
        with contextlib.suppress(OSError):
            os.remove(path_of(name))
