"""Postgres URLs in the forms we accept, and the variants each driver needs."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from tenantcommerce.errors import SettingsError

_ACCEPTED = {"postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg2"}


def parse(url: str, *, variable: str = "TC_DATABASE_URL") -> URL:
    """Parse a ``postgresql://`` / ``postgres://`` / ``postgresql+asyncpg://`` URL.

    Raises:
        SettingsError: the URL is malformed or names another database system.
    """
    try:
        parsed = make_url(url)
    except Exception:  # sqlalchemy raises ArgumentError for shapes it cannot read
        raise SettingsError(f"{variable} is not a valid URL: expected postgresql://user@host:5432/dbname") from None
    if parsed.drivername not in _ACCEPTED:
        raise SettingsError(f"{variable} must be a postgresql:// URL, got a {parsed.drivername}:// URL")
    if not parsed.database:
        raise SettingsError(f"{variable} must name a database: postgresql://user@host:5432/<dbname>")
    return parsed


def sqlalchemy_url(url: URL) -> URL:
    """The URL for SQLAlchemy's asyncpg dialect."""
    return url.set(drivername="postgresql+asyncpg")


def asyncpg_dsn(url: URL) -> str:
    """A DSN ``asyncpg.connect`` understands (host or ``?host=`` socket directory kept)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def with_user(url: URL, user: str, password: str | None) -> URL:
    """The same server and database as another user."""
    # URL.set() ignores None, which would keep the other user's password.
    return URL.create(
        drivername=url.drivername,
        username=user,
        password=password,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )


def with_database(url: URL, database: str) -> URL:
    """The same server and user, another database."""
    return url.set(database=database)


def describe(url: URL) -> str:
    """A URL safe to print (no password)."""
    return url.render_as_string(hide_password=True)
