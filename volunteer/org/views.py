"""Organisation admin pages (being written)."""

from flask import Blueprint

bp = Blueprint("org", __name__, url_prefix="/org")


@bp.route("/communities")
def communities():
    return ""


@bp.route("/reports")
def reports():
    return ""


@bp.route("/units")
def units():
    return ""


@bp.route("/me/report")
def my_report():
    return ""


@bp.route("/staff")
def staff():
    return ""
