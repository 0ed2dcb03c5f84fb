"""QR codes as inline SVG (for pages) and PNG (for downloads and print), with the qrcode package."""

import io

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def _code(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(data)
    code.make(fit=True)
    return code


def svg(data: str, label: str = "") -> Markup:
    """An <svg> element that scales to its container (the caller sizes it with CSS)."""
    image = _code(data).make_image(
        image_factory=qrcode.image.svg.SvgPathFillImage
    )  # white background: scans on any page colour
    text = image.to_string(encoding="unicode")
    text = text.split("?>", 1)[-1].strip()  # drop the XML declaration for inline use
    attrs = f' role="img" aria-label="{Markup.escape(label)}" class="qr"' if label else ' class="qr"'
    return Markup(text.replace("<svg ", f"<svg{attrs} ", 1))


def png(data: str, box_size: int = 10) -> bytes:
    code = _code(data)
    code.box_size = box_size
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()
