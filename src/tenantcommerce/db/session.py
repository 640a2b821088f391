"""Store-scoped ORM sessions.

Each session records the store in context when it is made. Then:

* every transaction starts with ``SELECT set_config('app.current_store_id', <id or ''>, true)`` (transaction-local,
  so a pooled connection never carries a store into the next transaction);
* every ORM SELECT/UPDATE/DELETE on a tenant model gets ``store_id = <id>`` (``with_loader_criteria``), which is
  also what lets Citus route a query to one shard;
* new tenant rows are stamped with the store, and a row of another store cannot be added;
* with no store in context, touching a tenant model raises :class:`IsolationError`, except inside
  :func:`~tenantcommerce.tenancy.platform_scope`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria
from sqlalchemy.sql import ClauseElement, FromClause, visitors

from tenantcommerce.db.base import StoreScoped, is_store_scoped, orm_registry
from tenantcommerce.errors import IsolationError
from tenantcommerce.tenancy.context import current_store_or_none, in_platform_scope

STORE_SETTING = "app.current_store_id"
SET_STORE = text(f"SELECT set_config('{STORE_SETTING}', :store_id, true)")
_STORE_KEY = "tenantcommerce.store_id"
_PLATFORM_KEY = "tenantcommerce.platform"


class TenantSession(Session):
    """A session bound at creation to the store in context (or to platform scope)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store = current_store_or_none()
        self.info[_STORE_KEY] = store.id if store is not None else None
        self.info[_PLATFORM_KEY] = in_platform_scope()

    @property
    def store_id(self) -> UUID | None:
        """The store this session works for, or ``None`` in platform scope."""
        value = self.info.get(_STORE_KEY)
        return value if isinstance(value, UUID) else None


def _session_store(session: Session) -> tuple[UUID | None, bool]:
    store_id = session.info.get(_STORE_KEY)
    return (store_id if isinstance(store_id, UUID) else None), bool(session.info.get(_PLATFORM_KEY))


@event.listens_for(TenantSession, "after_begin")
def _set_store_setting(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    store_id, _ = _session_store(session)
    connection.execute(SET_STORE, {"store_id": str(store_id) if store_id is not None else ""})


def _tenant_tables(session: Session) -> frozenset[FromClause]:
    """The tables of every mapped tenant model (core and plugins), recomputed when models are added."""
    mappers = orm_registry.mappers
    cached = _TENANT_TABLES_CACHE.get(len(mappers))
    if cached is None:
        cached = frozenset(mapper.local_table for mapper in mappers if is_store_scoped(mapper.class_))
        _TENANT_TABLES_CACHE.clear()
        _TENANT_TABLES_CACHE[len(mappers)] = cached
    return cached


_TENANT_TABLES_CACHE: dict[int, frozenset[FromClause]] = {}


def _touches_tenant_table(state: ORMExecuteState) -> bool:
    if any(is_store_scoped(mapper.class_) for mapper in state.all_mappers):
        return True
    # Tenant tables can also hide in FROM clauses, joins and sub-queries of statements that select other things
    # (select(func.count()).select_from(Product), exists(...)).
    tables = _tenant_tables(state.session)
    statement = state.statement
    return isinstance(statement, ClauseElement) and any(element in tables for element in visitors.iterate(statement))


def _insert_store_ids(state: ORMExecuteState) -> set[object]:
    """The ``store_id`` values an ORM ``insert()`` would write (``None`` where it writes none)."""
    found: set[object] = set()
    statement = state.statement
    if isinstance(statement, ClauseElement):
        params = statement.compile().params
        found.update(value for key, value in params.items() if key == "store_id" or key.startswith("store_id_"))
    parameters = state.parameters
    rows: list[Mapping[str, Any]] = []
    if isinstance(parameters, Mapping):
        rows.append(parameters)
    elif parameters:
        rows.extend(parameters)
    for row in rows:
        found.add(row.get("store_id"))
    return found or {None}


@event.listens_for(TenantSession, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete or state.is_insert):
        return
    if not _touches_tenant_table(state):
        return
    store_id, platform = _session_store(state.session)
    if store_id is None:
        if platform:
            return
        raise IsolationError(
            "a statement on a tenant table ran with no store in context: resolve a store (use_store) "
            "or use platform_scope() for maintenance"
        )
    if state.is_insert:
        if _insert_store_ids(state) != {store_id}:
            raise IsolationError("an ORM insert() on a tenant table must set store_id to the store in context")
        return
    state.statement = state.statement.options(
        with_loader_criteria(StoreScoped, lambda cls: cls.store_id == store_id, include_aliases=True)
    )


@event.listens_for(TenantSession, "before_flush")
def _stamp_store(session: Session, flush_context: Any, instances: Any) -> None:
    store_id, platform = _session_store(session)
    for obj in session.new:
        if not is_store_scoped(type(obj)):
            continue
        row_store = getattr(obj, "store_id", None)
        if store_id is None:
            if platform and row_store is not None:
                continue
            raise IsolationError(f"cannot add a {type(obj).__name__} with no store in context")
        if row_store is None:
            obj.store_id = store_id
        elif row_store != store_id:
            raise IsolationError(f"cannot add a {type(obj).__name__} of another store")
    for obj in session.dirty:
        if is_store_scoped(type(obj)) and store_id is not None and getattr(obj, "store_id", None) != store_id:
            raise IsolationError(f"cannot move a {type(obj).__name__} to another store")
