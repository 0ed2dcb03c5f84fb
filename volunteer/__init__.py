"""The volunteer application: create_app() wires config, extensions, blueprints and CLI."""

import os

from babel import Locale
from flask import Flask, g, has_request_context, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .extensions import babel, csrf, db, limiter, login_manager, migrate

__all__ = ["create_app", "db"]

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config_module.from_environ(app.instance_path))
    if overrides:
        app.config.update(overrides)
    config_module.check(app.config)
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _init_extensions(app)
    from .core.converters import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    _register_blueprints(app)
    _register_template_helpers(app)
    from .cli import register_cli
    from .core.errors import register_error_handlers

    register_error_handlers(app)
    register_cli(app)
    return app


# Parsed once: Flask-Babel parses a returned string on every request, which costs a scan of Babel's locale list.
_LOCALES = {code: Locale.parse(code) for code in ("zh_CN", "en")}


def _select_locale() -> Locale:
    if not has_request_context():  # CLI commands and workers speak the default language
        return _LOCALES["zh_CN"]
    lang = session.get("lang")
    if lang is None and current_user and current_user.is_authenticated:
        lang = current_user.locale
    return _LOCALES.get(lang, _LOCALES["zh_CN"])


def _init_extensions(app: Flask) -> None:
    from . import models  # noqa: F401 - every model registered before migrations look
    from .accounts.auth import load_user
    from .core.database import configure_engine

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=os.path.join(HERE, "translations"),
    )
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    from .letters import queue

    queue.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from .accounts.admin_views import bp as users_bp
    from .accounts.views import bp as accounts_bp
    from .core.views import bp as core_bp
    from .org.views import bp as org_bp

    for bp in (core_bp, accounts_bp, users_bp, org_bp):
        app.register_blueprint(bp)
    from .ledger.views import bp as ledger_bp

    app.register_blueprint(ledger_bp)
    from .credit.views import bp as credit_bp

    app.register_blueprint(credit_bp)
    from .service.views import bp as service_bp

    app.register_blueprint(service_bp)
    from .exchange.views import bp as exchange_bp

    app.register_blueprint(exchange_bp)
    from .letters.views import bp as letters_bp
    from .letters.views import public_bp as verify_bp

    app.register_blueprint(letters_bp)
    app.register_blueprint(verify_bp)


def _register_template_helpers(app: Flask) -> None:
    from .core.phone import mask
    from .core.roles_display import role_label

    app.jinja_env.filters["masked"] = mask
    app.jinja_env.globals["role_label"] = role_label

    @app.context_processor
    def _inject():
        from flask_babel import get_locale

        # Babel calls zh_CN "zh_Hans_CN"; the catalogue lives under "zh", which both match.
        code = "zh_CN" if get_locale().language == "zh" else "en"
        # Workers render letters with no request: they have no menu.
        return {"current_locale": code, "nav": _nav() if has_request_context() else []}

    @app.before_request
    def _remember_path():
        g.path = request.path


def _nav():
    from .core.navigation import nav_for

    return nav_for(current_user)
