"""Where a form may send the browser back to: local paths only, never another site."""

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (an open redirect is a phishing tool).

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    "/\\t/evil.example" and "/\\\\evil.example" would leave the site; control characters would
    also break the Location header.
    """
    if not target or "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
