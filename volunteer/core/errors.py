"""Domain errors with a machine-readable code and a translated message, and their handlers."""

from urllib.parse import urlsplit

from flask import Flask, flash, jsonify, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A rule said no. Views show `message`; API callers get `code` too."""

    status = 400

    def __init__(self, code: str, message, status: int | None = None):
        # The message stays lazy: translated when shown, in the reader's language. Forcing it
        # here failed outside a request (CLI commands), where the locale selector has no session.
        super().__init__(code)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return str(self.message)


class NotAllowed(DomainError):
    status = 403

    def __init__(self, message=None):
        super().__init__("forbidden", message or _l("You are not allowed to do that."))


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (
        best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


HTTP_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to see this page."),
    404: _l("This page or record does not exist, or is not yours to see."),
    405: _l("That action is not allowed here."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing was changed; please try again."),
}


def _render_error(status: int, code: str, message):
    if wants_json():
        return jsonify(error=code, reason=code, message=str(message)), status
    # str(): a lazy_gettext string counts as safe markup (LazyString.__html__), so names
    # interpolated into it would reach the page unescaped.
    return render_template("core/error.html", status=status, message=str(message)), status


def _page_to_return_to() -> str | None:
    """The page the refused form came from, or this URL if it can be fetched with GET.

    A POST-only action (revoke, reset) redirected to itself would answer 405 and lose the
    message, so without a same-site referrer the caller renders the error instead.
    """
    referrer = request.referrer
    if referrer and urlsplit(referrer).netloc == request.host:
        return referrer
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return request.path
    return None


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        from .. import db  # noqa: PLC0415 - avoid an import cycle at module load

        db.session.rollback()
        back = _page_to_return_to()
        if wants_json() or request.method == "GET" or back is None:
            return _render_error(err.status, err.code, err.message)
        flash(str(err.message), "error")
        return redirect(back, code=303)

    @app.errorhandler(CSRFError)
    def _csrf(err):
        msg = _l("Your form expired or was sent from elsewhere. Please reload the page and try again.")
        return _render_error(400, "csrf", msg)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        message = HTTP_MESSAGES.get(status, err.description)
        return _render_error(status, err.name.lower().replace(" ", "_"), message)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        from .. import db  # noqa: PLC0415

        app.logger.exception("unhandled error")
        db.session.rollback()
        return _render_error(500, "server_error", HTTP_MESSAGES[500])
