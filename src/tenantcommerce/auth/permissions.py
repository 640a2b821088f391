"""Named permissions, the roles that grant them, and the per-member overrides.

Guards check permissions, never role names. A member's ``permissions`` jsonb maps a permission to ``true`` (grant)
or ``false`` (revoke) on top of the role's set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

PERMISSIONS: Final[tuple[str, ...]] = (
    "products:read",
    "products:write",
    "inventory:write",
    "orders:read",
    "orders:fulfill",
    "orders:refund",
    "customers:read",
    "discounts:read",
    "discounts:write",
    "settings:read",
    "settings:write",
    "members:read",
    "members:manage",
    "plugins:manage",
    "tokens:manage",
    "audit:read",
)
"""Every permission, in the order the docs list them."""

_READ: Final = frozenset(p for p in PERMISSIONS if p.endswith(":read") and p != "audit:read")

ROLE_PERMISSIONS: Final[Mapping[str, frozenset[str]]] = {
    "owner": frozenset(PERMISSIONS),
    "admin": frozenset(PERMISSIONS),
    "staff": (_READ - {"members:read", "settings:read"}) | {"products:write", "inventory:write", "orders:fulfill"},
    "viewer": _READ - {"members:read", "settings:read"},
}
"""What each store role grants. Owners and admins differ in rules about owners, not in permissions."""

ROLES: Final[tuple[str, ...]] = ("owner", "admin", "staff", "viewer")


def permissions_for(role: str, overrides: Mapping[str, object] | None = None) -> frozenset[str]:
    """The permissions of a member with ``role`` and ``overrides`` (unknown names are ignored)."""
    granted = set(ROLE_PERMISSIONS.get(role, frozenset()))
    for name, value in (overrides or {}).items():
        if name not in PERMISSIONS:
            continue
        if value is True:
            granted.add(name)
        elif value is False:
            granted.discard(name)
    return frozenset(granted)


def unknown_permissions(names: object) -> list[str]:
    """The names in ``names`` that are not permissions (for validating input)."""
    if not isinstance(names, list | tuple | set | frozenset | dict):
        return [repr(names)]
    return [str(name) for name in names if name not in PERMISSIONS]
