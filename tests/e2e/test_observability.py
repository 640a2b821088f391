"""Request ids, access log lines and ``/metrics`` over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from tenantcommerce.app import create_app
from tenantcommerce.settings import Settings
from tenantcommerce.tenancy.services import set_store_status
from tenantcommerce.testing import TestDatabase, TwoStores
from tenantcommerce.testing.plugin import TEST_METRICS_TOKEN

ALPHA = "/api/storefront/alpha/products"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A started app built from ``settings``, with a client on the apex of the base domain."""
    async with AsyncTestClient(create_app(settings), base_url=f"http://{settings.base_domain}") as client:
        yield client


def request_series(text: str) -> list[dict[str, str]]:
    """The label sets of ``tenantcommerce_http_requests_total`` (parsed by prometheus_client's text parser)."""
    return [
        sample.labels
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "tenantcommerce_http_requests_total"
    ]


# --- X-Request-ID -------------------------------------------------------------------------------------------------


async def test_sane_request_id_is_echoed(client, two_stores: TwoStores) -> None:
    for sent in ("abc-123", "req_1.2:3-X", "a" * 128, "0"):
        for path in (ALPHA, "/health"):
            response = await client.get(path, headers={"x-request-id": sent})
            assert response.status_code == 200
            assert response.headers["x-request-id"] == sent, path


async def test_malformed_request_id_is_replaced(client, two_stores: TwoStores) -> None:
    for sent in ("a" * 300, "a" * 129, "has spaces in it", "semi;colon", 'quote"d', "slash/ed", ""):
        response = await client.get(ALPHA, headers={"x-request-id": sent})
        assert response.status_code == 200
        returned = response.headers["x-request-id"]
        assert returned != sent
        assert SANE_REQUEST_ID.match(returned), returned


async def test_missing_request_id_is_generated(client, two_stores: TwoStores) -> None:
    returned = []
    for path in (ALPHA, ALPHA, "/health"):
        response = await client.get(path)
        assert response.status_code == 200
        returned.append(response.headers["x-request-id"])
    assert all(SANE_REQUEST_ID.match(value) for value in returned)
    assert len(set(returned)) == len(returned)


async def test_request_id_is_returned_on_tenancy_answers(client, tc_database, two_stores: TwoStores) -> None:
    await set_store_status(tc_database, "bravo", "suspended")
    for path, headers, status in (
        ("/api/storefront/nope/products", {}, 404),
        (ALPHA, {"host": "bravo.shop.test"}, 404),
        ("/api/storefront/bravo/products", {}, 403),
    ):
        response = await client.get(path, headers={"x-request-id": "tenancy-answer", **headers})
        assert response.status_code == status
        assert response.headers["x-request-id"] == "tenancy-answer"


async def test_request_id_is_returned_on_unrouted_answers(client) -> None:
    # DESIGN 8: the request id is "accepted from X-Request-ID or generated, and returned" -- on every answer.
    for method, path in (("GET", "/no/such/route"), ("POST", ALPHA), ("DELETE", "/health")):
        response = await client.request(method, path, headers={"x-request-id": "unrouted-1"})
        assert response.status_code in (404, 405)
        assert response.headers.get("x-request-id") == "unrouted-1", (method, path)


# --- access log ---------------------------------------------------------------------------------------------------

# Runs in a process of its own: structlog is configured once per process there, exactly as in production, and the
# JSON lines on stderr are what an operator's log pipeline reads.
LOG_SCRIPT = """
import json, sys
from litestar.testing import TestClient
from tenantcommerce.app import create_app_from_env

answers = []
with TestClient(create_app_from_env(), base_url="http://shop.test") as client:
    for path, headers in json.loads(sys.argv[1]):
        response = client.get(path, headers=headers)
        answers.append([response.status_code, response.headers.get("x-request-id")])
print(json.dumps(answers))
"""


async def test_access_log_lines_carry_request_store_and_user(
    postgres: TestDatabase, two_stores: TwoStores, tmp_path
) -> None:
    requests: list[tuple[str, dict[str, str], str | None]] = [
        (ALPHA, {"x-request-id": "log-1"}, str(two_stores.a.id)),
        ("/api/storefront/bravo/products/bravo-product-1", {"host": "bravo.shop.test"}, str(two_stores.b.id)),
        (f"{ALPHA}?limit=0", {"host": "alpha.shop.test"}, str(two_stores.a.id)),
        ("/health", {"host": "alpha.shop.test", "x-request-id": "log-4"}, None),
        ("/ready", {}, None),
        ("/api/storefront/nope/products", {}, None),
    ]
    env = {key: value for key, value in os.environ.items() if not key.startswith("TC_")}
    env.update(
        TC_DATABASE_URL=postgres.admin_url.render_as_string(hide_password=False),
        TC_BASE_DOMAIN="shop.test",
        TC_LOG_FORMAT="json",
        TC_DATA_DIR=str(tmp_path),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LOG_SCRIPT,
        json.dumps([[path, headers] for path, headers, _ in requests]),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    answers = json.loads(stdout.decode().strip().splitlines()[-1])
    assert [status for status, _ in answers] == [200, 200, 400, 200, 200, 404]

    lines = []
    for raw in stderr.decode().splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue
    access = [line for line in lines if line.get("event") == "request"]
    assert len(access) == len(requests), stderr.decode()
    for line, (path, headers, store_id), (status, request_id) in zip(access, requests, answers, strict=True):
        assert line["path"] == path.split("?")[0]
        assert line["status"] == status
        assert line["method"] == "GET"
        assert line["request_id"] == request_id
        if "x-request-id" in headers:
            assert request_id == headers["x-request-id"]
        assert line["store_id"] == store_id, path
        assert "user_id" in line
        assert line["user_id"] is None


async def test_access_log_is_captured_in_a_rebuilt_app(client, tc_settings, two_stores: TwoStores) -> None:
    # The test kit builds an app per test; each build configures logging again. The access line of the app built
    # last must follow that configuration (here: be seen by structlog.testing.capture_logs).
    assert (await client.get(ALPHA)).status_code == 200  # the first app has logged
    async with started(tc_settings) as second:
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            response = await second.get(ALPHA, headers={"x-request-id": "captured-1"})
    assert response.status_code == 200
    access = [entry for entry in logs if entry.get("event") == "request"]
    assert len(access) == 1, logs
    assert access[0]["request_id"] == "captured-1"
    assert access[0]["store_id"] == str(two_stores.a.id)
    assert access[0]["user_id"] is None


# --- /metrics -----------------------------------------------------------------------------------------------------


async def test_metrics_are_403_when_no_token_is_configured(tc_settings, two_stores: TwoStores, problem) -> None:
    async with started(msgspec.structs.replace(tc_settings, metrics_token=None)) as client:
        for headers in ({}, {"authorization": f"Bearer {TEST_METRICS_TOKEN}"}, {"authorization": "Bearer "}):
            problem(await client.get("/metrics", headers=headers), 403, "permission-denied")


async def test_metrics_need_the_bearer_token(client, problem) -> None:
    for headers in ({}, {"authorization": TEST_METRICS_TOKEN}, {"authorization": f"Basic {TEST_METRICS_TOKEN}"}):
        problem(await client.get("/metrics", headers=headers), 401, "authentication-required")
    for token in ("wrong-token-0123456789", TEST_METRICS_TOKEN[:-1], TEST_METRICS_TOKEN + "x", ""):
        problem(await client.get("/metrics", headers={"authorization": f"Bearer {token}"}), 403, "permission-denied")


async def test_metrics_have_per_store_series(client, two_stores: TwoStores) -> None:
    for path in (ALPHA, f"{ALPHA}/alpha-product-1", f"{ALPHA}/alpha-product-2", f"{ALPHA}?limit=0", "/health"):
        await client.get(path)
    await client.get("/api/storefront/bravo/products", headers={"host": "bravo.shop.test"})
    response = await client.get("/metrics", headers={"authorization": f"Bearer {TEST_METRICS_TOKEN}"})
    assert response.status_code == 200
    assert re.search(r'^tenantcommerce_http_requests_total\{[^\n]*store="alpha"[^\n]*\} 1\.0$', response.text, re.M)

    counts: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "tenantcommerce_http_requests_total":
                labels = sample.labels
                counts[(labels["store"], labels["route"], labels["status"])] = sample.value
    assert counts[("alpha", "/api/storefront/{slug}/products", "200")] == 1
    assert counts[("alpha", "/api/storefront/{slug}/products", "400")] == 1
    assert counts[("alpha", "/api/storefront/{slug}/products/{product_slug}", "200")] == 2
    assert counts[("bravo", "/api/storefront/{slug}/products", "200")] == 1
    assert counts[("_platform", "/health", "200")] == 1
    # Routes are labelled by template, never by the raw path.
    assert "alpha-product-1" not in response.text
    assert "tenantcommerce_http_request_duration_seconds_bucket{" in response.text


async def test_metrics_content_type_is_one_prometheus_accepts(client) -> None:
    response = await client.get("/metrics", headers={"authorization": f"Bearer {TEST_METRICS_TOKEN}"})
    assert response.status_code == 200
    media_type, *parameters = (part.strip() for part in response.headers["content-type"].split(";"))
    assert media_type == "text/plain"
    names = [parameter.split("=", 1)[0].lower() for parameter in parameters]
    # A duplicated parameter makes the media type unparseable (Go's mime.ParseMediaType, used by Prometheus).
    assert len(names) == len(set(names)), response.headers["content-type"]
    assert "version" in names


async def test_metrics_store_labels_are_bounded(tc_settings, two_stores: TwoStores) -> None:
    async with started(msgspec.structs.replace(tc_settings, metrics_store_labels=1)) as client:
        for _ in range(2):
            assert (await client.get(ALPHA)).status_code == 200
            assert (await client.get("/api/storefront/bravo/products")).status_code == 200
            assert (await client.get("/api/storefront/bravo/products", headers={"host": "bravo.shop.test"})).is_success
        response = await client.get("/metrics", headers={"authorization": f"Bearer {TEST_METRICS_TOKEN}"})
    assert response.status_code == 200
    stores = {labels["store"] for labels in request_series(response.text)} - {"_platform"}
    assert stores == {"alpha", "_other"}
    counted: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "tenantcommerce_http_requests_total":
                counted[sample.labels["store"]] = counted.get(sample.labels["store"], 0) + sample.value
    assert counted["alpha"] == 2
    assert counted["_other"] == 4  # bravo's requests, aggregated
