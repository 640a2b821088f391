"""The admin HTTP API: enabling and configuring the plugin through the core, listing payments, marking them paid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tenantcommerce.auth.models import StoreMember
from tenantcommerce.db.database import Database
from tenantcommerce.plugins.providers import PaymentRequest
from tenantcommerce.tenancy.context import platform_scope
from tenantcommerce.testing.accounts import csrf_headers, sign_up_and_in
from tenantcommerce.testing.plugins import plugin_context, store_context

from tenantcommerce_manual_payments.gateways import BankTransferGateway, CashOnDeliveryGateway, settings_of
from tenantcommerce_manual_payments.settings import ManualPaymentsSettings

Client = AsyncTestClient[Litestar]
PLUGIN = "/api/admin/{slug}/plugins/manual-payments"
PAYMENTS = PLUGIN + "/payments"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


async def create_store(client: Client, slug: str, currency: str = "EUR") -> None:
    body = {"slug": slug, "name": slug.title(), "currency": currency}
    response = await client.post("/api/stores", json=body, headers=await csrf_headers(client))
    assert response.status_code == 201, response.text


async def configure(client: Client, slug: str, body: dict[str, Any]) -> httpx.Response:
    response: httpx.Response = await client.patch(
        PLUGIN.format(slug=slug), json=body, headers=await csrf_headers(client)
    )
    return response


async def mark_paid(client: Client, slug: str, ref: str, body: Any = None) -> httpx.Response:
    """``POST .../payments/{ref}/mark-paid`` (by default with the amount and currency of ``create_payment``)."""
    body = {"amount_minor": 4_250, "currency": "EUR"} if body is None else body
    response: httpx.Response = await client.post(
        f"{PAYMENTS.format(slug=slug)}/{ref}/mark-paid", json=body, headers=await csrf_headers(client)
    )
    return response


async def store_id(database: Database, slug: str) -> UUID:
    async with database.pool.acquire() as conn:
        found: UUID = await conn.fetchval("SELECT id FROM stores WHERE slug = $1", slug)
    return found


async def create_payment(
    database: Database, slug: str, key: str = "k1", amount: int = 4_250, method: str = "bank_transfer"
) -> str:
    """A payment made the way checkout will make it: through the store's gateway, with the store's saved config."""
    ctx = await store_context(database, await store_id(database, slug))
    async with database.store_transaction(ctx.id) as conn:
        config = await conn.fetchval("SELECT config FROM store_plugins WHERE plugin_id = 'manual-payments'")
    settings = msgspec.convert(msgspec.json.decode(config), ManualPaymentsSettings, strict=False)
    plugin = plugin_context(database, ctx.id, "manual-payments", settings)
    assert settings_of(plugin).methods
    gateway = BankTransferGateway() if method == "bank_transfer" else CashOnDeliveryGateway()
    request = PaymentRequest(
        checkout_id=UUID("01900000-0000-7000-8000-000000000001"),
        amount_minor=amount,
        currency=ctx.currency,
        reference="C-1",
        idempotency_key=key,
    )
    return (await gateway.create_payment(ctx, request, plugin)).payment_ref


@pytest.fixture
async def beans(client: Client, mp_config: dict[str, Any]) -> str:
    """Store ``beans`` (EUR) owned by the signed-in client, with the plugin enabled and both methods configured."""
    await sign_up_and_in(client, "owner@beans.test")
    await create_store(client, "beans")
    response = await configure(client, "beans", {"enabled": True, "config": mp_config})
    assert response.status_code == 200, response.text
    return "beans"


# --- enabling and configuring through the core ---------------------------------------------------------------------


async def test_enabling_shows_the_plugin_with_its_gateways_and_no_warning(client: Client, beans: str) -> None:
    response = await client.get(PLUGIN.format(slug=beans))
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["enabled"] is True
    assert view["plugin"]["payment_gateways"] == ["bank-transfer", "cash-on-delivery"]
    assert view["config"]["reference_prefix"] == "BEANS"
    assert view["settings_schema"] is not None
    assert view["warnings"] == []


async def test_enabled_without_a_method_the_plugin_warns(client: Client) -> None:
    await sign_up_and_in(client, "owner@bare.test")
    await create_store(client, "bare")
    response = await configure(client, "bare", {"enabled": True, "config": {}})
    assert response.status_code == 200, response.text
    [warning] = response.json()["warnings"]
    assert "no manual payment method" in warning["message"]
    assert warning["plugin_id"] == "manual-payments"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"bank_transfer": {"account_holder": "Beans GmbH", "iban": "not an iban"}}, "config.bank_transfer.iban"),
        ({"bank_transfer": {"account_holder": "Beans GmbH", "iban": "de89370400440532013000"}},
         "config.bank_transfer.iban"),
        ({"bank_transfer": {"account_holder": "Beans GmbH", "iban": "DE89"}}, "config.bank_transfer.iban"),
        ({"bank_transfer": {"account_holder": "Beans GmbH", "iban": "DE89370400440532013000", "bic": "COBA"}},
         "config.bank_transfer.bic"),
        ({"bank_transfer": {"account_holder": "", "iban": "DE89370400440532013000"}},
         "config.bank_transfer.account_holder"),
        ({"bank_transfer": {"iban": "DE89370400440532013000"}}, "config.bank_transfer.account_holder"),
        ({"bank_transfer": {"account_holder": "B", "iban": "DE89370400440532013000", "swift": "x"}},
         "config.bank_transfer.swift"),
        ({"reference_prefix": "pay"}, "config.reference_prefix"),
        ({"reference_prefix": "TOOLONGX"}, "config.reference_prefix"),
        ({"cash_on_delivery": "sometimes"}, "config.cash_on_delivery"),
        ({"paypal": True}, "config.paypal"),
    ],
    ids=["iban-shape", "iban-lower-case", "iban-short", "bic", "holder-empty", "holder-missing", "unknown-bank-field",
         "prefix-lower-case", "prefix-long", "cod-not-bool", "unknown-field"],
)  # fmt: skip
async def test_invalid_config_is_refused_with_the_failing_field_and_not_saved(
    client: Client, beans: str, mp_config: dict[str, Any], config: dict[str, Any], field: str
) -> None:
    body = problem(await configure(client, beans, {"config": config}), 422)
    assert fields(body) == [field]
    saved = (await client.get(PLUGIN.format(slug=beans))).json()["config"]
    assert saved == mp_config


# --- listing and reading ---------------------------------------------------------------------------------------------


async def test_a_payment_made_through_the_gateway_is_listed_and_readable(
    client: Client, beans: str, tc_database: Database
) -> None:
    ref = await create_payment(tc_database, beans)

    listed = await client.get(PAYMENTS.format(slug=beans))
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 24, 0)
    [item] = page["items"]
    assert (item["reference"], item["method"], item["status"]) == (ref, "bank_transfer", "pending")
    assert (item["amount_minor"], item["currency"], item["refunded_minor"]) == (4_250, "EUR", 0)
    assert "idempotency_key" not in item

    one = await client.get(f"{PAYMENTS.format(slug=beans)}/{ref}")
    assert one.status_code == 200, one.text
    assert one.json() == {"payment": item, "refunds": []}


async def test_payments_are_listed_newest_first_filtered_by_status_and_paged(
    client: Client, beans: str, tc_database: Database
) -> None:
    refs = [await create_payment(tc_database, beans, key=f"k{i}", amount=100 + i) for i in range(3)]
    paid = await mark_paid(client, beans, refs[1], {"amount_minor": 101, "currency": "EUR"})
    assert paid.status_code == 200, paid.text

    async def listed(query: str) -> dict[str, Any]:
        response = await client.get(f"{PAYMENTS.format(slug=beans)}?{query}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    everything = await listed("")
    assert [item["reference"] for item in everything["items"]] == refs[::-1]
    pending = await listed("status=pending")
    assert ([item["reference"] for item in pending["items"]], pending["total"]) == ([refs[2], refs[0]], 2)
    succeeded = await listed("status=succeeded")
    assert [item["reference"] for item in succeeded["items"]] == [refs[1]]
    assert (await listed("status=cancelled"))["items"] == []
    second = await listed("limit=1&offset=1")
    assert ([item["reference"] for item in second["items"]], second["total"]) == ([refs[1]], 3)


@pytest.mark.parametrize("query", ["status=paid", "limit=0", "limit=101", "offset=-1", "limit=x"])
async def test_bad_list_parameters_are_bad_input(client: Client, beans: str, query: str) -> None:
    problem(await client.get(f"{PAYMENTS.format(slug=beans)}?{query}"), 400)


@pytest.mark.parametrize("reference", ["BEANS-NOPE2345", "beans-" + "x" * 300, "BEANS-%E2%82%AC"])
async def test_an_unknown_reference_is_not_found(client: Client, beans: str, reference: str) -> None:
    problem(await client.get(f"{PAYMENTS.format(slug=beans)}/{reference}"), 404)
    problem(await mark_paid(client, beans, reference), 404)


# --- marking paid ----------------------------------------------------------------------------------------------------


async def test_marking_paid_confirms_the_payment_once_and_audits_it(
    client: Client, beans: str, tc_database: Database
) -> None:
    ref = await create_payment(tc_database, beans)
    body = {"amount_minor": 4_250, "currency": "EUR", "note": "statement line 12"}

    first = await mark_paid(client, beans, ref, body)
    again = await mark_paid(client, beans, ref, {**body, "note": "again"})

    assert first.status_code == 200, first.text
    payment = first.json()["payment"]
    assert (payment["status"], payment["note"]) == ("succeeded", "statement line 12")
    assert payment["paid_at"]
    assert again.status_code == 200, again.text
    assert again.json()["payment"] == payment, "marking paid again changes nothing"
    audit = (await client.get(f"/api/admin/{beans}/audit")).json()["items"]
    marked = [entry for entry in audit if entry["action"] == "manual_payment.marked_paid"]
    assert [entry["target_id"] for entry in marked] == [ref]
    assert marked[0]["changes"]["status"] == {"from": "pending", "to": "succeeded"}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"amount_minor": 4_249, "currency": "EUR"}, "amount_minor"), ({"amount_minor": 4_250, "currency": "USD"},
     "currency"), ({"amount_minor": 2**64, "currency": "EUR"}, "amount_minor")],
    ids=["amount", "currency", "amount-beyond-bigint"],
)  # fmt: skip
async def test_marking_paid_with_another_amount_or_currency_is_refused(
    client: Client, beans: str, tc_database: Database, body: dict[str, Any], field: str
) -> None:
    ref = await create_payment(tc_database, beans)
    response = await mark_paid(client, beans, ref, body)
    assert fields(problem(response, 422)) == [field]
    assert (await client.get(f"{PAYMENTS.format(slug=beans)}/{ref}")).json()["payment"]["status"] == "pending"


@pytest.mark.parametrize(
    "body",
    [
        {"amount_minor": "4250", "currency": "EUR"},
        {"amount_minor": 4250.0, "currency": "EUR"},
        {"amount_minor": -1, "currency": "EUR"},
        {"amount_minor": 4250, "currency": "eur"},
        {"amount_minor": 4250},
        {"currency": "EUR"},
        {"amount_minor": 4250, "currency": "EUR", "paid": True},
        {"amount_minor": 4250, "currency": "EUR", "note": "x" * 1001},
        {"amount_minor": 4250, "currency": "EUR", "note": 12},
        [],
    ],
    ids=["amount-text", "amount-float", "amount-negative", "currency-lower", "no-currency", "no-amount",
         "unknown-field", "note-long", "note-number", "not-an-object"],
)  # fmt: skip
async def test_a_malformed_mark_paid_body_is_bad_input_and_changes_nothing(
    client: Client, beans: str, tc_database: Database, body: Any
) -> None:
    ref = await create_payment(tc_database, beans)
    response = await mark_paid(client, beans, ref, body)
    problem(response, 400)
    assert (await client.get(f"{PAYMENTS.format(slug=beans)}/{ref}")).json()["payment"]["status"] == "pending"


async def test_a_body_that_is_not_json_is_bad_input(client: Client, beans: str, tc_database: Database) -> None:
    ref = await create_payment(tc_database, beans)
    headers = {**await csrf_headers(client), "content-type": "application/json"}
    response = await client.post(f"{PAYMENTS.format(slug=beans)}/{ref}/mark-paid", content=b"{", headers=headers)
    problem(response, 400)


async def test_a_cancelled_payment_cannot_be_marked_paid(client: Client, beans: str, tc_database: Database) -> None:
    ref = await create_payment(tc_database, beans)
    async with tc_database.store_transaction(await store_id(tc_database, beans), readonly=False) as conn:
        await conn.execute("UPDATE manual_payments SET status = 'cancelled' WHERE reference = $1", ref)
    response = await mark_paid(client, beans, ref)
    problem(response, 422)


# --- stores, enablement, access --------------------------------------------------------------------------------------


async def test_another_stores_payment_is_not_found(client: Client, beans: str, tc_database: Database) -> None:
    ref = await create_payment(tc_database, beans)
    await create_store(client, "teapot")
    response = await configure(client, "teapot", {"enabled": True, "config": {"cash_on_delivery": True}})
    assert response.status_code == 200, response.text

    problem(await client.get(f"{PAYMENTS.format(slug='teapot')}/{ref}"), 404)
    marked = await mark_paid(client, "teapot", ref)
    problem(marked, 404)
    assert (await client.get(PAYMENTS.format(slug="teapot"))).json()["total"] == 0
    assert (await client.get(f"{PAYMENTS.format(slug=beans)}/{ref}")).json()["payment"]["status"] == "pending"


async def test_the_routes_answer_404_while_the_plugin_is_not_enabled(client: Client, tc_database: Database) -> None:
    await sign_up_and_in(client, "owner@later.test")
    await create_store(client, "later")
    problem(await client.get(PAYMENTS.format(slug="later")), 404)

    enabled = await configure(client, "later", {"enabled": True, "config": {"cash_on_delivery": True}})
    assert enabled.status_code == 200, enabled.text
    ref = await create_payment(tc_database, "later", method="cash_on_delivery")
    assert (await client.get(PAYMENTS.format(slug="later"))).status_code == 200

    disabled = await configure(client, "later", {"enabled": False})
    assert disabled.status_code == 200, disabled.text
    problem(await client.get(PAYMENTS.format(slug="later")), 404)
    problem(await client.get(f"{PAYMENTS.format(slug='later')}/{ref}"), 404)
    marked = await mark_paid(client, "later", ref)
    problem(marked, 404)


async def test_signed_out_callers_are_refused(client: Client, beans: str) -> None:
    await client.post("/api/auth/logout", headers=await csrf_headers(client))
    problem(await client.get(PAYMENTS.format(slug=beans)), 401)
    problem(await mark_paid(client, beans, "BEANS-NOPE2345"), 401)


async def test_staff_can_read_payments_but_not_mark_them_paid(
    client: Client, beans: str, tc_database: Database, make_member: Callable[..., Any]
) -> None:
    ref = await create_payment(tc_database, beans)
    await make_member(beans, "staff@beans.test", "staff")

    assert (await client.get(f"{PAYMENTS.format(slug=beans)}/{ref}")).status_code == 200
    response = await mark_paid(client, beans, ref)
    assert "orders:refund" in problem(response, 403)["detail"]


async def test_a_member_granted_orders_refund_can_mark_paid(
    client: Client, beans: str, tc_database: Database, make_member: Callable[..., Any]
) -> None:
    ref = await create_payment(tc_database, beans)
    await make_member(beans, "clerk@beans.test", "staff", {"orders:refund": True})
    response = await mark_paid(client, beans, ref)
    assert response.status_code == 200, response.text


async def test_api_tokens_need_the_same_permissions(client: Client, beans: str, tc_database: Database) -> None:
    ref = await create_payment(tc_database, beans)

    async def token(permissions: list[str]) -> dict[str, str]:
        body = {"name": "+".join(permissions), "permissions": permissions}
        created = await client.post(f"/api/admin/{beans}/tokens", json=body, headers=await csrf_headers(client))
        assert created.status_code == 201, created.text
        return {"Authorization": f"Bearer {created.json()['token']}"}

    reader, cashier = await token(["orders:read"]), await token(["orders:refund"])
    await client.post("/api/auth/logout", headers=await csrf_headers(client))
    client.cookies.clear()
    body = {"amount_minor": 4_250, "currency": "EUR"}
    url = f"{PAYMENTS.format(slug=beans)}/{ref}"

    assert (await client.get(url, headers=reader)).status_code == 200
    problem(await client.post(f"{url}/mark-paid", json=body, headers=reader), 403)
    marked = await client.post(f"{url}/mark-paid", json=body, headers=cashier)
    assert marked.status_code == 200, marked.text
    assert marked.json()["payment"]["status"] == "succeeded"


@pytest.fixture
def make_member(client: Client, tc_database: Database) -> Callable[..., Any]:
    """``await make_member(slug, email, role, permissions)``: sign ``client`` up and in as ``email`` and make that
    user a member of the store."""

    async def make(slug: str, email: str, role: str, permissions: dict[str, bool] | None = None) -> None:
        me = await sign_up_and_in(client, email)
        member = StoreMember(
            store_id=await store_id(tc_database, slug),
            user_id=UUID(me["user"]["id"]),
            role=role,
            permissions=permissions or {},
        )
        with platform_scope():
            async with tc_database.session() as session:
                session.add(member)
                await session.commit()

    return make
