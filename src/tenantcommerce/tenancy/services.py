"""Provisioning stores (platform work on global tables): create, list, suspend, activate."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tenantcommerce.auth.models import StoreMember, User
from tenantcommerce.errors import Conflict, FieldError, InputError, NotFound
from tenantcommerce.fields import EMAIL_PATTERN as EMAIL
from tenantcommerce.jobs.outbox import emit
from tenantcommerce.money import is_currency_code
from tenantcommerce.plugins.events import StoreCreated
from tenantcommerce.tenancy.context import StoreContext, platform_scope
from tenantcommerce.tenancy.models import Store
from tenantcommerce.tenancy.resolver import is_store_slug

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.db.database import Database

RESERVED_SLUGS = frozenset(
    {"www", "api", "admin", "static", "s", "app", "assets", "auth", "cdn", "health", "mail", "metrics", "ready",
     "schema", "shop", "store", "stores", "support", "status", "docs", "help", "billing", "platform", "login",
     "logout"}
)  # fmt: skip
EMAIL_PATTERN = re.compile(EMAIL)


class StoreSummary(msgspec.Struct, frozen=True):
    """A store as operators list it."""

    slug: str
    name: str
    currency: str
    status: str
    owner_email: str


def slug_problems(slug: str) -> list[str]:
    """What is wrong with a store slug (empty when it is fine)."""
    if not 3 <= len(slug) <= 63:
        return ["must be 3 to 63 characters"]
    if not is_store_slug(slug):
        return ["use lowercase letters, digits and hyphens, starting and ending with a letter or digit"]
    if slug in RESERVED_SLUGS:
        return [f"{slug!r} is reserved"]
    return []


def _validate(slug: str, name: str, currency: str, owner_email: str | None) -> None:
    errors = [FieldError("slug", message) for message in slug_problems(slug)]
    if not name.strip() or len(name) > 200:
        errors.append(FieldError("name", "must be 1 to 200 characters"))
    if not is_currency_code(currency):
        errors.append(FieldError("currency", "must be a three-letter ISO 4217 code such as EUR"))
    if owner_email is not None and (not EMAIL_PATTERN.fullmatch(owner_email) or len(owner_email) > 320):
        errors.append(FieldError("owner_email", "must be an e-mail address"))
    if errors:
        raise InputError("the store cannot be created: " + "; ".join(f"{e.field} {e.message}" for e in errors),
                         errors=errors)  # fmt: skip


async def _user_by_email(session: AsyncSession, email: str) -> User:
    user = await session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        session.add(user)
        await session.flush()
    return user


def _context(store: Store) -> StoreContext:
    return StoreContext(id=store.id, slug=store.slug, name=store.name, currency=store.currency,
                        status=store.status)  # type: ignore[arg-type]  # fmt: skip


async def create_store(
    database: Database,
    *,
    slug: str,
    name: str,
    currency: str,
    owner_email: str | None = None,
    owner_user_id: UUID | None = None,
) -> StoreContext:
    """Create a store owned by a user: ``owner_user_id``, or ``owner_email`` (a user is created for an unknown one).

    Raises:
        InputError: a field is malformed (the errors name each field).
        Conflict: the slug is taken.
    """
    owner_email = (owner_email or "").strip().lower()
    _validate(slug, name, currency, owner_email if owner_user_id is None else None)
    with platform_scope():
        async with database.session() as session:
            try:
                if owner_user_id is not None:
                    owner = await session.get(User, owner_user_id)
                    if owner is None:
                        raise NotFound("the owner does not exist")
                else:
                    owner = await _user_by_email(session, owner_email)
                store = Store(slug=slug, name=name.strip(), currency=currency, owner_user_id=owner.id)
                session.add(store)
                await session.flush()
                session.add(StoreMember(store_id=store.id, user_id=owner.id, role="owner"))
                await session.flush()
                created = StoreCreated(store_id=store.id, slug=store.slug, name=store.name, currency=store.currency)
                await emit(session, "store.created", created, store_id=store.id)
                await session.commit()
            except IntegrityError as exc:
                await session.rollback()
                if "uq_stores_slug" in str(exc.orig):
                    raise Conflict(f"the slug {slug!r} is taken", errors=[FieldError("slug", "is taken")]) from None
                raise InputError(f"the store cannot be created: {exc.orig}") from None
            return _context(store)


async def list_stores(database: Database) -> list[StoreSummary]:
    """Every store, by slug."""
    with platform_scope():
        async with database.session() as session:
            rows = await session.execute(
                select(Store.slug, Store.name, Store.currency, Store.status, User.email)
                .join(User, User.id == Store.owner_user_id)
                .order_by(Store.slug)
            )
            return [StoreSummary(*row) for row in rows]


async def set_store_status(database: Database, slug: str, status: str) -> StoreContext:
    """Suspend (``suspended``) or reactivate (``active``) a store; its cached lookups are dropped at once.

    Raises:
        NotFound: no store has that slug.
    """
    if status not in ("active", "suspended"):
        raise InputError("status must be 'active' or 'suspended'", errors=[FieldError("status", "invalid")])
    with platform_scope():
        async with database.session() as session:
            store = await session.scalar(select(Store).where(Store.slug == slug))
            if store is None:
                raise NotFound(f"no store is called {slug!r}")
            store.status = status
            await session.commit()
            return _context(store)
