"""Postgres URLs: the forms we accept, clear errors for the others, and the form each driver needs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tenantcommerce.db.database import resolve_urls
from tenantcommerce.db.urls import asyncpg_dsn, describe, parse, sqlalchemy_url, with_database, with_user
from tenantcommerce.errors import SettingsError
from tenantcommerce.settings import Settings

SOCKET_DIR = "/var/run/postgresql"


@pytest.mark.parametrize(
    ("url", "host", "port", "database", "user"),
    [
        ("postgresql://me@db.example:5433/shop", "db.example", 5433, "shop", "me"),
        ("postgres://me:pw@db.example/shop", "db.example", None, "shop", "me"),
        ("postgresql+asyncpg://me@127.0.0.1:5432/shop", "127.0.0.1", 5432, "shop", "me"),
        (f"postgresql://me@/shop?host={SOCKET_DIR}", None, None, "shop", "me"),
    ],
)
def test_parse_accepted_urls(url: str, host: str | None, port: int | None, database: str, user: str) -> None:
    parsed = parse(url)
    assert parsed.host == host
    assert parsed.port == port
    assert parsed.database == database
    assert parsed.username == user


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://x/shop", "mysql"),
        ("mysql://x", "mysql"),
        ("sqlite:///shop.db", "sqlite"),
        ("mssql+pyodbc://u@h/db", "mssql"),
        ("not a url", "not a valid URL"),
        ("", "not a valid URL"),
        ("localhost:5432/shop", "not a valid URL"),
        ("postgresql://me@db.example:5432", "must name a database"),
        ("postgresql://me@db.example:5432/", "must name a database"),
    ],
)
def test_parse_errors_name_the_variable_and_the_problem(url: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse(url)
    assert "TC_DATABASE_URL" in caught.value.detail
    assert fragment in caught.value.detail


def test_parse_errors_name_the_variable_given() -> None:
    with pytest.raises(SettingsError, match="TC_DATABASE_RUNTIME_URL") as caught:
        parse("mysql://x/shop", variable="TC_DATABASE_RUNTIME_URL")
    assert "TC_DATABASE_URL " not in caught.value.detail


def test_parse_error_does_not_leak_a_password() -> None:
    with pytest.raises(SettingsError) as caught:
        parse("mysql://me:hunter2secret@db/shop")
    assert "hunter2secret" not in caught.value.detail


@pytest.mark.parametrize("url", ["postgresql://me@h/shop", "postgres://me@h/shop", "postgresql+asyncpg://me@h/shop"])
def test_sqlalchemy_url_uses_asyncpg(url: str) -> None:
    assert sqlalchemy_url(parse(url)).drivername == "postgresql+asyncpg"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://me@/shop?host={SOCKET_DIR}",
        f"postgres://me@/shop?host={SOCKET_DIR}",
        f"postgresql+asyncpg://me@/shop?host={SOCKET_DIR}",
    ],
)
def test_asyncpg_dsn_keeps_the_socket_directory(url: str) -> None:
    dsn = asyncpg_dsn(parse(url))
    parts = urlsplit(dsn)
    assert parts.scheme == "postgresql"
    assert parts.path == "/shop"
    assert parts.username == "me"
    assert parse_qs(parts.query) == {"host": [SOCKET_DIR]}


def test_asyncpg_dsn_keeps_the_socket_directory_and_port() -> None:
    dsn = asyncpg_dsn(parse(f"postgresql://me@/shop?host={SOCKET_DIR}&port=5433"))
    assert parse_qs(urlsplit(dsn).query) == {"host": [SOCKET_DIR], "port": ["5433"]}


def test_asyncpg_dsn_keeps_host_port_and_password() -> None:
    dsn = asyncpg_dsn(parse("postgresql+asyncpg://me:p%40ss%2Fw@db.example:5433/shop"))
    parts = urlsplit(dsn)
    assert parts.scheme == "postgresql"
    assert (parts.hostname, parts.port, parts.path) == ("db.example", 5433, "/shop")
    assert parts.password is not None
    assert parts.password.replace("%40", "@").replace("%2F", "/") == "p@ss/w"


def test_describe_hides_the_password() -> None:
    text = describe(parse("postgresql://me:hunter2secret@db.example/shop"))
    assert "hunter2secret" not in text
    assert "db.example" in text
    assert "me" in text


def test_with_user_and_with_database() -> None:
    url = parse(f"postgresql://admin:pw@/shop?host={SOCKET_DIR}")

    runtime = with_user(url, "tenantcommerce_app", None)
    assert runtime.username == "tenantcommerce_app"
    assert runtime.password is None
    assert runtime.database == "shop"
    assert runtime.query == {"host": SOCKET_DIR}

    other = with_database(url, "other")
    assert other.database == "other"
    assert other.username == "admin"
    assert other.query == {"host": SOCKET_DIR}


def test_with_user_sets_the_given_password() -> None:
    url = parse("postgresql://admin:adminpw@db.example/shop")
    assert with_user(url, "tenantcommerce_app", "apppw").password == "apppw"


# --- the runtime URL the app serves with (no I/O for a postgresql:// URL) --------------------------------------------


async def test_runtime_url_is_the_database_url_as_the_runtime_role_without_the_admin_password() -> None:
    settings = Settings.from_env({}, database_url="postgresql://admin:adminpw@db.example:5433/shop")
    urls = await resolve_urls(settings)

    assert urls.admin.username == "admin"
    assert urls.admin.password == "adminpw"
    assert urls.runtime.username == "tenantcommerce_app"
    assert (urls.runtime.host, urls.runtime.port, urls.runtime.database) == ("db.example", 5433, "shop")
    # The admin's password must never travel with the runtime role's name.
    assert urls.runtime.password is None


async def test_runtime_url_uses_the_runtime_password_and_role_name() -> None:
    settings = Settings.from_env(
        {},
        database_url=f"postgresql://admin@/shop?host={SOCKET_DIR}",
        database_runtime_password="apppw",
        db_runtime_role="shop_app",
    )
    urls = await resolve_urls(settings)
    assert urls.runtime.username == "shop_app"
    assert urls.runtime.password == "apppw"
    assert urls.runtime.query == {"host": SOCKET_DIR}


async def test_explicit_runtime_url_wins() -> None:
    settings = Settings.from_env(
        {},
        database_url="postgresql://admin@db.example/shop",
        database_runtime_url="postgresql://other_app:pw@replica.example/shop",
    )
    urls = await resolve_urls(settings)
    assert urls.runtime.username == "other_app"
    assert urls.runtime.host == "replica.example"


async def test_resolve_urls_without_a_database_url_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="TC_DATABASE_URL"):
        await resolve_urls(Settings.from_env({}))
