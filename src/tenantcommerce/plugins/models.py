"""Tenant tables of per-store plugin enablement: ``store_plugins`` (merchant config) and ``store_plugin_state``
(written by the plugin or the platform only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tenantcommerce.db.base import Base, StoreScoped, Timestamped


class StorePlugin(StoreScoped, Timestamped, Base):
    """Whether ``plugin_id`` is enabled for the store, its priority (higher runs first) and its config.

    Any change bumps ``stores.plugins_version`` (a trigger), which invalidates the store's cached plugin set.
    """

    __tablename__ = "store_plugins"
    __table_args__ = (
        UniqueConstraint("store_id", "plugin_id"),
        CheckConstraint("priority BETWEEN -1000 AND 1000", name="priority_range"),
    )

    plugin_id: Mapped[str] = mapped_column(String(50))
    enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    priority: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))


class StorePluginState(StoreScoped, Timestamped, Base):
    """What a plugin keeps for a store that merchants may not edit (a connected account id, a platform fee)."""

    __tablename__ = "store_plugin_state"
    __table_args__ = (UniqueConstraint("store_id", "plugin_id"),)

    plugin_id: Mapped[str] = mapped_column(String(50))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'::jsonb"))
