"""The storefront read functions in the database run exactly the SQL the code (and the benchmark baseline) names,
under row level security, and say what a shopper may buy: stock less reservations, images in order."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import AsyncIterator
from types import ModuleType
from uuid import uuid4

import asyncpg
import pytest

from tenantcommerce.catalog.storefront import DETAIL_SQL, LIST_SQL, MEDIA_SQL
from tenantcommerce.db.migrate import Migrations, core_migrations_dir
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.testing import TestDatabase, TwoStores

FUNCTIONS = {
    "tc_storefront_product_page": ("LIST_SQL", LIST_SQL),
    "tc_storefront_product": ("DETAIL_SQL", DETAIL_SQL),
    "tc_storefront_media": ("MEDIA_SQL", MEDIA_SQL),
}


def _squash(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


@pytest.fixture
async def superuser(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """Arranges rows whatever RLS says; never used to assert isolation."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def runtime(postgres: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the runtime role, as the app's pool has."""
    conn = await asyncpg.connect(asyncpg_dsn(postgres.runtime_url))
    try:
        yield conn
    finally:
        await conn.close()


async def add_media(
    conn: asyncpg.Connection, store_id, product_id, *, position: int, variant_id=None, alt: str = ""
) -> str:
    media_id = uuid4()
    await conn.execute(
        "INSERT INTO product_media (store_id, id, product_id, variant_id, storage_key, content_type, byte_size, "
        "sha256, width, height, alt, position) VALUES ($1, $2, $3, $4, $5, 'image/png', 10, $6, 4, 3, $7, $8)",
        store_id,
        media_id,
        product_id,
        variant_id,
        f"{store_id}/{media_id}.png",
        "ab" * 32,
        alt,
        position,
    )
    return str(media_id)


async def test_functions_run_the_storefront_sql(superuser: asyncpg.Connection) -> None:
    bodies = dict(
        await superuser.fetch("SELECT proname, prosrc FROM pg_proc WHERE proname = ANY($1::text[])", list(FUNCTIONS))
    )
    for function, (name, sql) in FUNCTIONS.items():
        assert _squash(sql) in _squash(bodies[function]), f"{name} changed: add a migration that replaces {function}"


async def test_the_functions_set_the_store_first_and_run_as_the_caller(superuser: asyncpg.Connection) -> None:
    rows = await superuser.fetch(
        "SELECT proname, prosrc, prosecdef FROM pg_proc WHERE proname = ANY($1::text[])", list(FUNCTIONS)
    )
    assert {row["proname"] for row in rows} == set(FUNCTIONS)
    for row in rows:
        assert not row["prosecdef"], f"{row['proname']} must be SECURITY INVOKER so RLS applies"
        body = _squash(row["prosrc"])
        assert body.startswith("BEGIN PERFORM set_config('app.current_store_id', $1::text, true); RETURN ("), body


async def test_a_call_sees_one_store_and_leaves_no_store_behind(
    runtime: asyncpg.Connection, two_stores: TwoStores
) -> None:
    page = await runtime.fetchval("SELECT tc_storefront_product_page($1, 100, 0)::json", two_stores.a.id)
    assert '"total" : 3' in page
    # Store A's id with store B's product: RLS and the filter agree, nothing comes back.
    assert (
        await runtime.fetchval("SELECT tc_storefront_product($1, $2)", two_stores.a.id, two_stores.b.product_slugs[0])
        is None
    )
    assert await runtime.fetchval("SELECT current_setting('app.current_store_id', true)") in ("", None)
    assert await runtime.fetchval("SELECT count(*) FROM products") == 0


async def test_available_is_stock_less_reservations(
    superuser: asyncpg.Connection, runtime: asyncpg.Connection, two_stores: TwoStores
) -> None:
    store = two_stores.a
    small, large = await superuser.fetch(
        "SELECT id FROM product_variants WHERE product_id = $1 ORDER BY position", store.product_ids[0]
    )
    await superuser.execute("UPDATE product_variants SET inventory = 5, reserved = 2 WHERE id = $1", small["id"])
    await superuser.execute("UPDATE product_variants SET inventory = 3, reserved = 3 WHERE id = $1", large["id"])

    def variants(product: str) -> list[tuple[bool, int]]:
        return [(v["in_stock"], v["available"]) for v in json.loads(product)["variants"]]

    detail = await runtime.fetchval("SELECT tc_storefront_product($1, $2)", store.id, store.product_slugs[0])
    assert variants(detail) == [(True, 3), (False, 0)]  # fully reserved: on hand, but not for sale

    await superuser.execute("UPDATE product_variants SET reserved = 5 WHERE id = $1", small["id"])
    page = json.loads(await runtime.fetchval("SELECT tc_storefront_product_page($1, 100, 0)", store.id))
    (item,) = [item for item in page["items"] if item["slug"] == store.product_slugs[0]]
    assert [(v["in_stock"], v["available"]) for v in item["variants"]] == [(False, 0), (False, 0)]


async def test_media_come_in_position_order_with_their_urls(
    superuser: asyncpg.Connection, runtime: asyncpg.Connection, two_stores: TwoStores
) -> None:
    store, other = two_stores.a, two_stores.b
    product_id = store.product_ids[1]
    variant_id = await superuser.fetchval(
        "SELECT id FROM product_variants WHERE product_id = $1 ORDER BY position LIMIT 1", product_id
    )
    second = await add_media(superuser, store.id, product_id, position=5, alt="back")
    first = await add_media(superuser, store.id, product_id, position=1, variant_id=variant_id, alt="front")
    await add_media(superuser, other.id, other.product_ids[1], position=0)  # another store's: never listed here

    raw = await runtime.fetchval("SELECT tc_storefront_product($1, $2)", store.id, store.product_slugs[1])
    detail = json.loads(raw)
    assert detail["media"] == [
        {
            "id": first,
            "url": f"/api/storefront/{store.slug}/media/{first}",
            "alt": "front",
            "width": 4,
            "height": 3,
            "variant_id": str(variant_id),
            "content_type": "image/png",
        },
        {
            "id": second,
            "url": f"/api/storefront/{store.slug}/media/{second}",
            "alt": "back",
            "width": 4,
            "height": 3,
            "variant_id": None,
            "content_type": "image/png",
        },
    ]
    page = json.loads(await runtime.fetchval("SELECT tc_storefront_product_page($1, 100, 0)", store.id))
    by_slug = {item["slug"]: item["media"] for item in page["items"]}
    assert by_slug[store.product_slugs[1]] == detail["media"]
    assert by_slug[store.product_slugs[0]] == []
    assert by_slug[store.product_slugs[2]] == []


async def test_the_media_function_answers_only_the_stores_active_images(
    superuser: asyncpg.Connection, runtime: asyncpg.Connection, two_stores: TwoStores
) -> None:
    store, other = two_stores.a, two_stores.b
    mine = await add_media(superuser, store.id, store.product_ids[0], position=0)
    theirs = await add_media(superuser, other.id, other.product_ids[0], position=0)

    found = json.loads(await runtime.fetchval("SELECT tc_storefront_media($1, $2::uuid)", store.id, mine))
    assert found == {
        "storage_key": f"{store.id}/{mine}.png",
        "content_type": "image/png",
        "sha256": "ab" * 32,
        "byte_size": 10,
    }
    assert await runtime.fetchval("SELECT tc_storefront_media($1, $2::uuid)", store.id, theirs) is None
    assert await runtime.fetchval("SELECT tc_storefront_media($1, $2::uuid)", other.id, mine) is None

    await superuser.execute("UPDATE products SET status = 'draft' WHERE id = $1", store.product_ids[0])
    assert await runtime.fetchval("SELECT tc_storefront_media($1, $2::uuid)", store.id, mine) is None
    assert await runtime.fetchval("SELECT current_setting('app.current_store_id', true)") in ("", None)


async def test_rls_hides_another_stores_images_from_the_runtime_role(
    superuser: asyncpg.Connection, runtime: asyncpg.Connection, two_stores: TwoStores
) -> None:
    """The functions' own ``store_id`` filter is not the only guard: under store A's setting, store B's image is
    invisible even to a query that names it and filters on nothing else."""
    theirs = await add_media(superuser, two_stores.b.id, two_stores.b.product_ids[0], position=0)
    async with runtime.transaction():
        await runtime.execute("SELECT set_config('app.current_store_id', $1, true)", str(two_stores.a.id))
        assert await runtime.fetchval("SELECT count(*) FROM product_media WHERE id = $1::uuid", theirs) == 0
        await runtime.execute("SELECT set_config('app.current_store_id', $1, true)", str(two_stores.b.id))
        assert await runtime.fetchval("SELECT count(*) FROM product_media WHERE id = $1::uuid", theirs) == 1


def _revision(filename: str) -> ModuleType:
    """A core revision's module, loaded from its file (revision modules are not importable by name)."""
    spec = importlib.util.spec_from_file_location(
        f"tc_revision_{filename[:4]}", core_migrations_dir() / "versions" / filename
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_downgrade_puts_0003s_functions_back_and_the_upgrade_replaces_them(
    postgres: TestDatabase, superuser: asyncpg.Connection, two_stores: TwoStores
) -> None:
    r0003 = _revision("0003_storefront_read_functions.py")
    migrations = Migrations(postgres.settings)

    async def bodies() -> dict[str, str]:
        rows = await superuser.fetch(
            "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY($1::text[])", list(FUNCTIONS)
        )
        return {row["proname"]: _squash(row["prosrc"]) for row in rows}

    assert "0005" not in await migrations.current()
    await migrations.downgrade("0005")
    assert "0005" in await migrations.current()
    old = await bodies()
    assert set(old) == {"tc_storefront_product_page", "tc_storefront_product"}
    assert _squash(r0003.LIST_SQL) in old["tc_storefront_product_page"]
    assert _squash(r0003.DETAIL_SQL) in old["tc_storefront_product"]
    detail = json.loads(
        await superuser.fetchval("SELECT tc_storefront_product($1, $2)", two_stores.a.id, two_stores.a.product_slugs[0])
    )
    assert "media" not in detail
    assert "available" not in detail["variants"][0]

    await migrations.upgrade()
    assert await migrations.current() == migrations.version_heads()
    new = await bodies()
    for function, (_, sql) in FUNCTIONS.items():
        assert _squash(sql) in new[function]
