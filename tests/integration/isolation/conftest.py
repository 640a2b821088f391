"""Fixtures of the isolation tests.

``module_postgres`` is the test kit's ``postgres`` with module scope: one migrated database shared by the tests of a
module that only read, or that write inside transactions they roll back. Tests that must commit use ``postgres``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tenantcommerce.testing import TestDatabase, TestServer
from tenantcommerce.testing.plugin import settings_for_url
from tenantcommerce.testing.postgres import clone, drop


@pytest.fixture(scope="module")
def module_postgres(tc_postgres_server: TestServer, tc_template_database: str) -> Iterator[TestDatabase]:
    """A migrated database for one test module, dropped after it."""
    name = asyncio.run(clone(tc_postgres_server, tc_template_database))
    try:
        yield TestDatabase(
            server=tc_postgres_server, name=name, settings=settings_for_url(tc_postgres_server.database_url(name))
        )
    finally:
        asyncio.run(drop(tc_postgres_server, name))
