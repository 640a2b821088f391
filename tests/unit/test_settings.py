"""Settings read from ``TC_*`` variables: defaults, conversions, and errors that name the variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tenantcommerce.errors import SettingsError
from tenantcommerce.settings import Settings, env_name

GOOD_SECRET = "s" * 32


def from_env(environ: dict[str, str], tmp_path: Path | None = None) -> Settings:
    """Settings from ``environ`` only (never the process environment), with the data directory in ``tmp_path``."""
    if tmp_path is not None:
        environ = {"TC_DATA_DIR": str(tmp_path), **environ}
    return Settings.from_env(environ)


def test_defaults(tmp_path: Path) -> None:
    settings = from_env({}, tmp_path)

    assert settings.database_url is None
    assert settings.database_runtime_url is None
    assert settings.database_runtime_password is None
    assert settings.db_owner_role == "tenantcommerce_owner"
    assert settings.db_runtime_role == "tenantcommerce_app"
    assert settings.db_pool_size == 10
    assert settings.base_domain == "localhost"
    assert settings.secret_key is None
    assert settings.redis_url is None
    assert settings.env == "development"
    assert settings.log_level == "INFO"
    assert settings.log_format is None
    assert settings.effective_log_format == "console"
    assert settings.metrics_token is None
    assert settings.metrics_store_labels == 100
    assert settings.store_cache_ttl == 60.0
    assert settings.data_dir == tmp_path


def test_default_data_dir_is_a_user_directory_not_the_working_directory() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir.is_absolute()
    assert "tenantcommerce" in settings.data_dir.parts


def test_from_env_reads_and_converts_values(tmp_path: Path) -> None:
    settings = from_env(
        {
            "TC_DATABASE_URL": "postgresql://me@db.example:5433/shop",
            "TC_DB_POOL_SIZE": "25",
            "TC_STORE_CACHE_TTL": "1.5",
            "TC_METRICS_STORE_LABELS": "0",
            "TC_ENV": "production",
            "TC_SECRET_KEY": GOOD_SECRET,
            "TC_LOG_LEVEL": "DEBUG",
            "TC_BASE_DOMAIN": "shop.example",
            "TC_DB_OWNER_ROLE": "shop_owner",
            "TC_DB_RUNTIME_ROLE": "shop_app",
        },
        tmp_path,
    )

    assert settings.database_url == "postgresql://me@db.example:5433/shop"
    assert settings.db_pool_size == 25
    assert settings.store_cache_ttl == 1.5
    assert settings.metrics_store_labels == 0
    assert settings.env == "production"
    assert settings.effective_log_format == "json"
    assert settings.secret_key == GOOD_SECRET
    assert settings.log_level == "DEBUG"
    assert settings.base_domain == "shop.example"
    assert (settings.db_owner_role, settings.db_runtime_role) == ("shop_owner", "shop_app")


def test_values_are_stripped(tmp_path: Path) -> None:
    settings = from_env({"TC_ENV": "  development\n", "TC_DB_POOL_SIZE": " 7 "}, tmp_path)
    assert settings.env == "development"
    assert settings.db_pool_size == 7


def test_data_dir_from_env_expands_the_home_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = Settings.from_env({"TC_DATA_DIR": "~/tc-data"})
    assert settings.data_dir == tmp_path / "tc-data"


def test_overrides_win_over_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({"TC_DB_POOL_SIZE": "3", "TC_DATA_DIR": "/nowhere"}, db_pool_size=4, data_dir=tmp_path)
    assert settings.db_pool_size == 4
    assert settings.data_dir == tmp_path


def test_explicit_log_format_wins_over_env() -> None:
    settings = Settings.from_env({"TC_ENV": "production", "TC_SECRET_KEY": GOOD_SECRET, "TC_LOG_FORMAT": "console"})
    assert settings.effective_log_format == "console"


def test_environment_variable_names() -> None:
    assert env_name("database_url") == "TC_DATABASE_URL"
    assert env_name("data_dir") == "TC_DATA_DIR"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TC_ENV", "staging"),
        ("TC_ENV", "Production"),
        ("TC_DB_POOL_SIZE", "abc"),
        ("TC_DB_POOL_SIZE", "0"),
        ("TC_DB_POOL_SIZE", "-3"),
        ("TC_DB_POOL_SIZE", "201"),
        ("TC_DB_POOL_SIZE", "1.5"),
        ("TC_LOG_LEVEL", "LOUD"),
        ("TC_LOG_FORMAT", "xml"),
        ("TC_SECRET_KEY", "too-short"),
        ("TC_SECRET_KEY", "x" * 31),
        ("TC_METRICS_TOKEN", "short"),
        ("TC_METRICS_STORE_LABELS", "-1"),
        ("TC_STORE_CACHE_TTL", "soon"),
        ("TC_STORE_CACHE_TTL", "-1"),
        ("TC_DB_OWNER_ROLE", "Owner-Role"),
        ("TC_DB_RUNTIME_ROLE", "1app"),
        ("TC_DB_RUNTIME_ROLE", "app; DROP ROLE postgres"),
        ("TC_BASE_DOMAIN", "shop example"),
        ("TC_DATABASE_URL", "mysql://user@localhost/shop"),
        ("TC_DATABASE_URL", "sqlite:///shop.db"),
        ("TC_DATABASE_URL", "localhost:5432/shop"),
        ("TC_DATABASE_RUNTIME_URL", "mysql://user@localhost/shop"),
    ],
)
def test_bad_value_raises_an_error_naming_the_variable(variable: str, value: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        from_env({variable: value}, tmp_path)
    assert variable in caught.value.detail
    assert variable in str(caught.value)


def test_database_url_error_says_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"TC_DATABASE_URL must be a postgresql://") as caught:
        from_env({"TC_DATABASE_URL": "mysql://x"}, tmp_path)
    assert "embedded" in caught.value.detail


def test_enum_errors_list_the_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="development") as caught:
        from_env({"TC_ENV": "staging"}, tmp_path)
    assert "production" in caught.value.detail
    with pytest.raises(SettingsError, match="DEBUG, INFO, WARNING or ERROR"):
        from_env({"TC_LOG_LEVEL": "LOUD"}, tmp_path)


def test_same_owner_and_runtime_role_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        from_env({"TC_DB_OWNER_ROLE": "shop", "TC_DB_RUNTIME_ROLE": "shop"}, tmp_path)
    assert "TC_DB_OWNER_ROLE" in caught.value.detail
    assert "TC_DB_RUNTIME_ROLE" in caught.value.detail


def test_runtime_role_equal_to_the_default_owner_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TC_DB_RUNTIME_ROLE"):
        from_env({"TC_DB_RUNTIME_ROLE": "tenantcommerce_owner"}, tmp_path)


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TC_SECRET_KEY"):
        from_env({"TC_ENV": "production"}, tmp_path)
    assert from_env({"TC_ENV": "production", "TC_SECRET_KEY": GOOD_SECRET}, tmp_path).secret_key == GOOD_SECRET


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_empty_values_count_as_unset(blank: str, tmp_path: Path) -> None:
    settings = from_env(
        {
            "TC_ENV": blank,
            "TC_DB_POOL_SIZE": blank,
            "TC_DATABASE_URL": blank,
            "TC_DATABASE_RUNTIME_URL": blank,
            "TC_SECRET_KEY": blank,
            "TC_LOG_LEVEL": blank,
            "TC_BASE_DOMAIN": blank,
            "TC_DB_OWNER_ROLE": blank,
            "TC_METRICS_TOKEN": blank,
        },
        tmp_path,
    )
    assert settings.env == "development"
    assert settings.db_pool_size == 10
    assert settings.database_url is None
    assert settings.database_runtime_url is None
    assert settings.secret_key is None
    assert settings.log_level == "INFO"
    assert settings.base_domain == "localhost"
    assert settings.db_owner_role == "tenantcommerce_owner"
    assert settings.metrics_token is None


def test_an_empty_secret_key_in_production_is_still_missing(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TC_SECRET_KEY is required"):
        from_env({"TC_ENV": "production", "TC_SECRET_KEY": ""}, tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@/db?host=/var/run/postgresql",
        "postgresql://u@/db?host=/run/postgresql&port=5433",
        "postgres://u:secret@db.example:5432/shop",
        "postgresql+asyncpg://u@127.0.0.1/shop",
        "postgresql://u@[::1]:5432/shop",
        "embedded",
    ],
)
def test_accepted_database_urls(url: str, tmp_path: Path) -> None:
    assert from_env({"TC_DATABASE_URL": url}, tmp_path).database_url == url


def test_embedded_is_refused_as_the_runtime_url(tmp_path: Path) -> None:
    # 'embedded' is a value of TC_DATABASE_URL only: the runtime URL must be a postgresql:// URL, and a bad one must
    # stop start-up here (naming the variable), not later when the app first connects.
    with pytest.raises(SettingsError, match="TC_DATABASE_RUNTIME_URL"):
        from_env({"TC_DATABASE_RUNTIME_URL": "embedded"}, tmp_path)


def test_runtime_url_accepts_a_unix_socket(tmp_path: Path) -> None:
    url = "postgresql://tenantcommerce_app@/shop?host=/var/run/postgresql"
    assert from_env({"TC_DATABASE_RUNTIME_URL": url}, tmp_path).database_runtime_url == url


def test_unknown_override_is_refused() -> None:
    with pytest.raises(SettingsError, match="bogus"):
        Settings.from_env({}, bogus=1)


def test_unknown_environment_variables_are_ignored(tmp_path: Path) -> None:
    settings = from_env({"TC_NOT_A_SETTING": "x", "TC_TEST_DATABASE_URL": "mysql://x"}, tmp_path)
    assert settings.database_url is None


def test_require_database_url_names_the_variable(tmp_path: Path) -> None:
    settings = from_env({}, tmp_path)
    with pytest.raises(SettingsError, match="TC_DATABASE_URL is required"):
        settings.require_database_url()
    url = "postgresql://u@h/db"
    assert from_env({"TC_DATABASE_URL": url}, tmp_path).require_database_url() == url


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = from_env({}, tmp_path)
    with pytest.raises(AttributeError):
        settings.env = "production"  # type: ignore[misc]


# --- the development secret key ---------------------------------------------------------------------------------------


def test_resolved_secret_key_is_generated_once_and_persisted(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    first = from_env({"TC_DATA_DIR": str(data_dir)}).resolved_secret_key()

    assert len(first) >= 32
    key_file = data_dir / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    # The same process and a later one (a new Settings) get the same key.
    again = from_env({"TC_DATA_DIR": str(data_dir)})
    assert again.resolved_secret_key() == first
    assert again.resolved_secret_key() == first


def test_resolved_secret_keys_differ_between_data_directories(tmp_path: Path) -> None:
    one = from_env({"TC_DATA_DIR": str(tmp_path / "one")}).resolved_secret_key()
    two = from_env({"TC_DATA_DIR": str(tmp_path / "two")}).resolved_secret_key()
    assert one != two


def test_explicit_secret_key_wins_and_writes_nothing(tmp_path: Path) -> None:
    settings = from_env({"TC_SECRET_KEY": GOOD_SECRET}, tmp_path)
    assert settings.resolved_secret_key() == GOOD_SECRET
    assert not (tmp_path / "secret_key").exists()


def test_resolved_secret_key_reads_an_existing_file(tmp_path: Path) -> None:
    stored = "k" * 40
    (tmp_path / "secret_key").write_text(stored + "\n")
    assert from_env({}, tmp_path).resolved_secret_key() == stored


def test_resolved_secret_key_never_returns_a_short_key(tmp_path: Path) -> None:
    # A truncated or emptied key file must not silently become an empty signing key.
    (tmp_path / "secret_key").write_text("")
    settings = from_env({}, tmp_path)
    refusal = ""
    try:
        key = settings.resolved_secret_key()
    except SettingsError as exc:  # refusing clearly is fine too
        key, refusal = "", exc.detail
    if refusal:
        assert "secret" in refusal.lower()
    else:
        assert len(key) >= 32
