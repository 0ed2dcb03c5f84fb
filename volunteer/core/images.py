"""Decoding uploaded pictures safely: the real format (not the file name), a pixel limit before decoding."""

import io

from flask_babel import lazy_gettext as _l
from PIL import Image

from .errors import DomainError

MAX_PIXELS = 40_000_000  # a small file can claim a huge picture: refused before it is loaded


def decode(data: bytes, formats: set[str], bad: DomainError, *, too_big_code: str) -> Image.Image:
    """The loaded picture, or `bad` if it is not one of `formats` or cannot be decoded."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in formats:
                raise bad
            if probe.width * probe.height > MAX_PIXELS:
                raise DomainError(too_big_code, _l("This picture is too large. Please send a smaller one."))
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except DomainError:
        raise
    except Exception:  # Pillow raises many kinds (UnidentifiedImageError, OSError, SyntaxError...)
        raise bad from None
    return image
