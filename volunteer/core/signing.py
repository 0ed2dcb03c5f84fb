"""Signed tokens for QR codes: unforgeable without the app's secret key, never a bare database id."""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer


def _serializer(purpose: str) -> URLSafeSerializer:
    # The purpose is the salt: a token made for one use (a member card) is worthless for another.
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"volunteer.{purpose}")


def sign(purpose: str, payload) -> str:
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str):
    """The payload, or None if the token was not made by us for this purpose."""
    if not isinstance(token, str) or not token or len(token) > 500:
        return None
    try:
        return _serializer(purpose).loads(token.strip())
    except BadSignature:
        return None
