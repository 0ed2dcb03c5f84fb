"""Settings read from the environment. SQLite in the instance folder is the default."""

import os

DEV_SECRET = "dev-only-not-secret"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_db_is_sqlite(url: str | None) -> bool:
    return not url or url.startswith("sqlite")


def normalise_database_url(url: str) -> str:
    """Let operators write postgres:// or postgresql:// and still get psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environ(instance_path: str) -> dict:
    """Build the configuration mapping for create_app()."""
    env = os.environ.get("VOLUNTEER_ENV", "development")
    default_db = "sqlite:///" + os.path.join(instance_path, "volunteer.sqlite")
    production = env == "production"
    return {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(os.environ.get("DATABASE_URL", default_db)),
        # A ping per checkout finds connections a PostgreSQL restart dropped; a SQLite file needs none.
        "SQLALCHEMY_ENGINE_OPTIONS": {}
        if default_db_is_sqlite(os.environ.get("DATABASE_URL"))
        else {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("SESSION_LIFETIME_SECONDS", 8 * 3600)),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ["zh_CN", "en"],
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "REGISTER_RATE_LIMIT": os.environ.get("REGISTER_RATE_LIMIT", "5 per hour"),
        "WTF_CSRF_ENABLED": _bool("WTF_CSRF_ENABLED", True),
        "WTF_CSRF_TIME_LIMIT": None,
        "ARGON2_TIME_COST": int(os.environ.get("ARGON2_TIME_COST", 3)),
        "ARGON2_MEMORY_COST": int(os.environ.get("ARGON2_MEMORY_COST", 65536)),
        # Set to the number of reverse proxies in front of the app (nginx: 1) so rate limits
        # and the audit log see the client's address, not the proxy's.
        "PROXY_HOPS": int(os.environ.get("PROXY_HOPS", 0)),
        "PAGE_SIZE": int(os.environ.get("PAGE_SIZE", 20)),
        "CREDIT_UPLOAD_DIR": os.environ.get("CREDIT_UPLOAD_DIR") or None,
        "CREDIT_PHOTO_MAX_BYTES": int(os.environ.get("CREDIT_PHOTO_MAX_BYTES", 5 * 1024 * 1024)),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)),
        # Letters: where verification links point, how mail leaves, and the job queue that sends it.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", 8025)),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_USE_STARTTLS": _bool("MAIL_USE_STARTTLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "letters@volunteer.localhost"),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", 30)),
        # sqlite:///path (embedded default, beside the database), redis://host:port/db, or memory://
        "QUEUE_URL": os.environ.get("QUEUE_URL", "sqlite:///" + os.path.join(instance_path, "queue.sqlite")),
        "LETTER_RETRY_SECONDS": float(os.environ.get("LETTER_RETRY_SECONDS", 60)),  # first retry; x4 each time
        "LETTER_MAX_ATTEMPTS": int(os.environ.get("LETTER_MAX_ATTEMPTS", 5)),
        # A "sending" row older than this belongs to a worker that died: it may be claimed again.
        "LETTER_STALE_SECONDS": float(os.environ.get("LETTER_STALE_SECONDS", 300)),
        "VERIFY_RATE_LIMIT": os.environ.get("VERIFY_RATE_LIMIT", "30 per minute"),  # public verification page
        "CERTIFICATE_RATE_LIMIT": os.environ.get("CERTIFICATE_RATE_LIMIT", "30 per hour"),  # per member
    }


class ConfigError(RuntimeError):
    """The configuration cannot be run safely."""


def check(config: dict) -> None:
    """Refuse to start a production app on a guessable secret key."""
    if config.get("ENV_NAME") != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET or len(key) < 32:
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least 32 characters in production "
            '(python -c "import secrets; print(secrets.token_hex(32))")'
        )
