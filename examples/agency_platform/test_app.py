"""Tests of the agency's own routes, on real Postgres through the ``tenantcommerce.testing`` kit.

Run from the repository root (the project's ``testpaths`` is ``tests``, so name this folder)::

    .venv/bin/python -m pytest examples/agency_platform
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from app import create_agency_app
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tenantcommerce import Settings
from tenantcommerce.db.database import Database
from tenantcommerce.tenancy.services import set_store_status
from tenantcommerce.testing import TwoStores


@pytest_asyncio.fixture
async def agency_client(tc_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The agency app on the test database, started, on the apex of ``TC_BASE_DOMAIN`` (a platform host)."""
    app = create_agency_app(tc_settings)
    async with AsyncTestClient(app, base_url=f"http://{tc_settings.base_domain}") as client:
        yield client


async def test_hello_greets_in_the_store_of_the_path(agency_client, two_stores: TwoStores) -> None:
    response = await agency_client.get(f"/api/storefront/{two_stores.a.slug}/hello")

    assert response.status_code == 200
    assert response.json() == {
        "store": "alpha",
        "name": "Alpha",
        "currency": "EUR",
        "active_products": 3,  # alpha's three active products: not its draft, nothing of bravo's
        "message": "Welcome to Alpha!",
    }


async def test_hello_on_a_store_subdomain(agency_client, two_stores: TwoStores, tc_settings: Settings) -> None:
    host = f"{two_stores.b.slug}.{tc_settings.base_domain}"

    response = await agency_client.get(f"/api/storefront/{two_stores.b.slug}/hello", headers={"host": host})

    assert response.status_code == 200
    assert response.json()["currency"] == "USD"


async def test_hello_of_an_unknown_store_is_a_404_problem(agency_client, two_stores: TwoStores) -> None:
    response = await agency_client.get("/api/storefront/nobody-here/hello")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:tenantcommerce:problem:store-not-found"


async def test_stores_count_counts_by_status(agency_client, two_stores: TwoStores, tc_database: Database) -> None:
    await set_store_status(tc_database, two_stores.b.slug, "suspended")

    response = await agency_client.get("/api/agency/stores-count")

    assert response.status_code == 200
    assert response.json() == {"stores": 2, "active": 1, "suspended": 1}
