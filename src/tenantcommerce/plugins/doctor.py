"""``tenantcommerce plugins doctor``: what is wrong (errors) or incomplete (warnings) with the plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from tenantcommerce.errors import BusinessRuleError, TenantCommerceError
from tenantcommerce.plugins.enablement import decode_config
from tenantcommerce.plugins.host import PluginHost

if TYPE_CHECKING:
    from tenantcommerce.runtime import Runtime
    from tenantcommerce.settings import Settings


class Finding(msgspec.Struct, frozen=True):
    """One line of the diagnosis."""

    level: Literal["ok", "warn", "error"]
    message: str


async def diagnose(settings: Settings) -> list[Finding]:
    """Load the plugins, then (with a database) check each store's enabled plugins and their config.

    Errors: a plugin that cannot load, a database that cannot be reached or is not at the installed migrations,
    saved config that no longer validates. Warnings: a plugin the deployment has not configured
    (``tc_register_setup_problems``), a plugin no store has enabled, a plugin's own warnings for a store
    (``tc_collect_store_warnings``).
    """
    try:
        host = PluginHost.from_settings(settings)
    except TenantCommerceError as exc:
        return [Finding("error", exc.detail)]
    findings = []
    for info in host.infos():
        findings.append(Finding("ok", f"{info.id} {info.version or ''} loaded".replace("  ", " ")))
        if info.setup_problems:
            findings.append(Finding("warn", f"{info.id} is not configured: {'; '.join(info.setup_problems)}"))
    if not findings:
        findings.append(Finding("warn", "no plugins installed"))
    if settings.database_url is None:
        findings.append(Finding("warn", "TC_DATABASE_URL is not set: store setups were not checked"))
        return findings
    from tenantcommerce.runtime import Runtime

    runtime = Runtime(settings)
    try:
        await runtime.start()
    except TenantCommerceError as exc:
        return [*findings, Finding("error", exc.detail)]
    try:
        findings += await _check_stores(runtime, host)
    finally:
        await runtime.stop()
    return findings


async def _check_stores(runtime: Runtime, host: PluginHost) -> list[Finding]:
    findings: list[Finding] = []
    enabled_somewhere: set[str] = set()
    async with runtime.database.pool.acquire() as conn:
        store_ids = [row["id"] for row in await conn.fetch("SELECT id FROM stores ORDER BY slug")]
    for store_id in store_ids:
        store = await runtime.resolver.by_id(store_id)
        if store is None:
            continue
        async with runtime.database.store_transaction(store.id) as conn:
            rows = await conn.fetch(
                "SELECT plugin_id, config::text AS config FROM store_plugins WHERE store_id = $1 AND enabled",
                store.id,
            )
        for row in rows:
            plugin_id = row["plugin_id"]
            if not host.has_plugin(plugin_id):
                findings.append(Finding("warn", f"store {store.slug}: enabled plugin {plugin_id!r} is not installed"))
                continue
            enabled_somewhere.add(plugin_id)
            try:
                decode_config(host, plugin_id, msgspec.json.decode(row["config"]))
            except BusinessRuleError as exc:
                findings.append(Finding("error", f"store {store.slug}: {exc.detail}"))
        plugins = await runtime.plugins.for_store(store)
        try:
            warnings = await plugins.collect_store_warnings()
        except TenantCommerceError as exc:
            findings.append(Finding("error", f"store {store.slug}: {exc.detail}"))
            continue
        for warning in warnings:
            level: Literal["warn", "error"] = "error" if warning.severity == "error" else "warn"
            findings.append(Finding(level, f"store {store.slug}: {warning.plugin_id}: {warning.message}"))
    for plugin_id in host.plugin_ids():
        if plugin_id not in enabled_somewhere:
            findings.append(Finding("warn", f"{plugin_id} is installed but not enabled in any store"))
    return findings
