"""Enabling, disabling, ordering and configuring a plugin for the store in context: the one code path of the admin
API and of provisioning (the demo)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import select

from tenantcommerce.auth.audit_log import audit
from tenantcommerce.errors import BusinessRuleError, FieldError
from tenantcommerce.jobs.outbox import emit
from tenantcommerce.plugins.enablement import decode_config
from tenantcommerce.plugins.events import PluginToggled
from tenantcommerce.plugins.models import StorePlugin

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.auth.principal import Principal
    from tenantcommerce.plugins.host import PluginHost


async def configure_plugin(
    session: AsyncSession,
    host: PluginHost,
    plugin_id: str,
    *,
    enabled: bool | msgspec.UnsetType = msgspec.UNSET,
    priority: int | msgspec.UnsetType = msgspec.UNSET,
    config: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET,
    principal: Principal | None = None,
    request_id: str | None = None,
) -> StorePlugin:
    """Change the store's row for ``plugin_id`` in ``session`` (the caller commits). New config, and the config of
    a plugin being enabled, is validated first; the change is audited, and ``plugin.enabled`` / ``plugin.disabled``
    is emitted when the switch flips.

    Raises:
        BusinessRuleError: 422, the plugin being enabled is not configured on this platform
            (``tc_register_setup_problems``), or the config does not match the plugin's settings Struct (fields named
            ``config.<field>``); nothing is written.
    """
    row = await session.scalar(select(StorePlugin).where(StorePlugin.plugin_id == plugin_id))
    if row is None:
        row = StorePlugin(plugin_id=plugin_id, enabled=False, priority=0, config={})
        session.add(row)
    before: dict[str, Any] = {
        "enabled": bool(row.enabled),
        "priority": row.priority or 0,
        "config": dict(row.config or {}),
    }
    new_config: dict[str, Any] = before["config"] if config is msgspec.UNSET else config
    new_enabled = before["enabled"] if enabled is msgspec.UNSET else enabled
    problems = host.registrations.setup_problems.get(plugin_id)
    if new_enabled and not before["enabled"] and problems:
        raise BusinessRuleError(
            f"plugin {plugin_id!r} is not configured on this platform, so it cannot be enabled: "
            + "; ".join(problems)
            + ". The platform's operators set this up",
            errors=[FieldError("enabled", "the plugin is not configured on this platform")],
        )
    if config is not msgspec.UNSET or (new_enabled and not before["enabled"]):
        decode_config(host, plugin_id, new_config)
    row.config = new_config
    row.enabled = new_enabled
    row.priority = before["priority"] if priority is msgspec.UNSET else priority
    after: dict[str, Any] = {"enabled": row.enabled, "priority": row.priority, "config": dict(row.config)}
    changes = {key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]}
    if changes:
        audit(session, principal, "plugin.updated", "plugin", plugin_id, changes, request_id=request_id)
    if before["enabled"] != after["enabled"]:
        name = "plugin.enabled" if new_enabled else "plugin.disabled"
        await emit(session, name, PluginToggled(plugin_id=plugin_id, enabled=new_enabled))
    await session.flush()
    return row
