"""Mainland mobile numbers: validation and masking for lists."""

import re

MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise(raw: str | None) -> str:
    """Drop spaces, dashes and a +86 prefix that people type or paste."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def is_valid(phone: str) -> bool:
    return bool(MOBILE.match(phone))


def mask(phone: str | None) -> str:
    """138****5678: enough for a steward to confirm, not enough to harvest."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
