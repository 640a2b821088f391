"""The Stripe side of ``benchmarks/checkout.py`` (``BENCH_GATEWAY=stripe``).

* :func:`start_fake` runs :class:`tenantcommerce_stripe.testing.FakeStripe` in the harness process (its server thread
  answers the app's API calls while the harness waits for wrk) and :func:`app_env` gives the app the ``TC_STRIPE_*``
  variables that point the plugin at it.
* :func:`connect_store` gives the bench store what onboarding would: an Express account created in the fake (its
  ``metadata[store_id]`` naming the store), onboarding finished there, and the account recorded in the plugin's state.
* :func:`intents_of` reads which ready checkouts got a PaymentIntent (the complete call answered
  ``awaiting_payment``); :func:`succeed` marks those PaymentIntents succeeded in the fake and builds the
  ``payment_intent.succeeded`` events; :func:`write_deliveries` signs them (the platform endpoint's secret) into the
  file the webhook Lua script (:data:`WEBHOOK_LUA`) posts; :func:`settlement` counts what the webhooks did.

Signatures are made right before each wrk run, and a run is capped at :data:`WEBHOOK_RUN_CAP` seconds, inside the
plugin's 300 s tolerance.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
from tenantcommerce_stripe.state import AccountState, with_account
from tenantcommerce_stripe.testing import DEFAULT_SECRET_KEY, FakeStripe, sign_webhook
from tenantcommerce_stripe.webhooks import TOLERANCE

GATEWAY_ID = "stripe"
WEBHOOK_PATH = "/api/payments/stripe/webhook"
PLATFORM_SECRET = "whsec_bench_platform_" + secrets.token_hex(12)
CONNECT_SECRET = "whsec_bench_connect_" + secrets.token_hex(12)
FEE_BP = 250  # the platform fee: 2.5 % of the amount ...
FEE_FIXED = 30  # ... plus 0.30
WEBHOOK_RUN_CAP = TOLERANCE - 60
"""Seconds one webhook run may last: its signatures are made just before it starts and expire after 300 s."""


def start_fake() -> FakeStripe:
    """The offline Stripe server, listening on 127.0.0.1 in a thread of this process."""
    fake = FakeStripe().start()
    no_proxy = {part for part in os.environ.get("NO_PROXY", "").split(",") if part} | {"127.0.0.1", "localhost"}
    os.environ["NO_PROXY"] = ",".join(sorted(no_proxy))  # the harness's stripe client, and the app's env
    return fake


def app_env(fake: FakeStripe) -> dict[str, str]:
    """The deployment's Stripe settings, pointed at ``fake``."""
    return {
        "TC_STRIPE_SECRET_KEY": DEFAULT_SECRET_KEY,
        "TC_STRIPE_WEBHOOK_SECRET": PLATFORM_SECRET,
        "TC_STRIPE_CONNECT_WEBHOOK_SECRET": CONNECT_SECRET,
        "TC_STRIPE_API_BASE": fake.api_base,
        "TC_STRIPE_FEE_BP": str(FEE_BP),
        "TC_STRIPE_FEE_FIXED": str(FEE_FIXED),
        "NO_PROXY": os.environ["NO_PROXY"],
    }


async def connect_store(database: Any, fake: FakeStripe, store_id: UUID) -> str:
    """Enable the ``stripe`` plugin for the store with a connected account that finished onboarding; its id."""
    from tenantcommerce.testing.plugins import enable_plugin, plugin_context

    await enable_plugin(database, store_id, GATEWAY_ID)
    account = fake.client().v1.accounts.create(
        params={
            "type": "express",
            "country": "DE",
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            "metadata": {"store_id": str(store_id)},
        }
    )
    fake.enable_account(account.id)
    recorded = AccountState(
        id=account.id, charges_enabled=True, payouts_enabled=True, details_submitted=True, synced_at=int(time.time())
    )
    await plugin_context(database, store_id, GATEWAY_ID).set_state(with_account({}, recorded))
    return str(account.id)


@dataclass
class Intents:
    """The PaymentIntents the complete calls of a set of checkouts made (per the database)."""

    by_checkout: dict[UUID, str]
    created: list[float]  # when each was recorded (epoch seconds)
    in_fake: int = 0  # PaymentIntents the fake holds for these checkouts (should equal len(by_checkout))

    @property
    def last_created(self) -> float | None:
        return max(self.created) if self.created else None


async def intents_of(dsn: str, made: list[tuple[str, UUID]], fake: FakeStripe, settle: float = 10.0) -> Intents:
    """Checkouts of ``made`` that are ``awaiting_payment`` with a PaymentIntent, and when each was made.

    Complete calls still running when wrk stopped finish afterwards (they count, as the orders of such calls do in
    the manual mode): wait (up to ``settle`` seconds) until every PaymentIntent the fake made for these checkouts is
    recorded."""
    deadline = time.monotonic() + settle
    while True:
        found = await _intents_of(dsn, made, fake)
        if found.in_fake == len(found.by_checkout) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


async def _intents_of(dsn: str, made: list[tuple[str, UUID]], fake: FakeStripe) -> Intents:
    checkout_ids = [checkout_id for _, checkout_id in made]
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT c.id, c.payment_ref, extract(epoch FROM s.created_at) AS created "
            "FROM checkouts c JOIN stripe_payment_intents s ON s.store_id = c.store_id AND s.checkout_id = c.id "
            "AND s.payment_intent_id = c.payment_ref "
            "WHERE c.id = ANY($1::uuid[]) AND c.status = 'awaiting_payment'",
            checkout_ids,
        )
    finally:
        await conn.close()
    wanted = {str(checkout_id) for checkout_id in checkout_ids}
    in_fake = sum(
        1 for intent in list(fake.payment_intents.values()) if intent["metadata"].get("checkout_id") in wanted
    )
    return Intents(
        by_checkout={row["id"]: row["payment_ref"] for row in rows},
        created=[float(row["created"]) for row in rows],
        in_fake=in_fake,
    )


def succeed(fake: FakeStripe, intents: Intents) -> list[dict[str, Any]]:
    """The customer paid every PaymentIntent: each marked succeeded in the fake, and its
    ``payment_intent.succeeded`` event (not signed yet)."""
    return [
        fake.event("payment_intent.succeeded", fake.succeed_payment_intent(payment_intent))
        for payment_intent in intents.by_checkout.values()
    ]


def write_deliveries(path: Path, events: list[dict[str, Any]], duplicates: float, rng: random.Random) -> int:
    """Sign ``events`` now and write one delivery per line (``<Stripe-Signature>\\t<body>``) in a shuffled order,
    a share ``duplicates`` (0 to 1) of them twice: the copy a few dozen positions after the original, so some copies
    arrive while the original is being applied. Returns the number of deliveries."""
    signed = [sign_webhook(event, PLATFORM_SECRET) for event in events]
    order = list(range(len(signed)))
    rng.shuffle(order)
    keyed: list[tuple[float, int]] = [(float(position), index) for position, index in enumerate(order)]
    copies = rng.sample(order, round(len(order) * min(max(duplicates, 0.0), 1.0)))
    position_of = {index: position for position, index in enumerate(order)}
    keyed += [(position_of[index] + rng.uniform(0.5, 64.0), index) for index in copies]
    keyed.sort()
    with path.open("w") as out:
        for _, index in keyed:
            out.write(f"{signed[index].header}\t{signed[index].payload.decode()}\n")
    return len(keyed)


WEBHOOK_LUA = """
-- generated by benchmarks/checkout.py: posts pre-signed Stripe webhooks, each line of the file once
local deliveries = "%(deliveries)s"
local markers = "%(markers)s"
local threads_total = %(threads)d
local counter = 0
local threads = {}

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

local function finished()
    local marker = io.open(markers .. "/done-" .. tid, "w")
    marker:write("done")
    marker:close()
end

function init(args)
    tid = tonumber(tid) or 0
    local lines = {}
    for line in io.lines(deliveries) do lines[#lines + 1] = line end
    local first = math.floor(#lines * tid / threads_total) + 1
    local last = math.floor(#lines * (tid + 1) / threads_total)
    requests = {}
    for i = first, last do
        local tab = lines[i]:find("\\t", 1, true)
        local headers = {["Stripe-Signature"] = lines[i]:sub(1, tab - 1), ["Content-Type"] = "application/json"}
        requests[#requests + 1] = wrk.format("POST", "%(path)s", headers, lines[i]:sub(tab + 1))
    end
    health = wrk.format("GET", "/health")
    idx, answered, spare = 0, 0, 0
    statuses, outcomes = {}, {}
    -- wrk 4 calls request() of the first thread once before the run, to check it (script_verify_request): that
    -- call must not use up a delivery.
    verifying = tid == 0
    if #requests == 0 then finished() end
end

function request()
    if verifying then
        verifying = false
        return requests[1] or health
    end
    idx = idx + 1
    if idx > #requests then
        spare = spare + 1
        return health
    end
    return requests[idx]
end

function delay()
    -- every delivery is sent: the connections wait for the last answers, asking /health now and then
    if idx >= #requests then return 100 end
    return 0
end

function response(status, headers, body)
    if status == 200 and body:find('"status":"ok"', 1, true) then return end  -- a spare /health
    answered = answered + 1
    statuses[status] = (statuses[status] or 0) + 1
    local outcome = body:match('"outcome":"(%%a+)"') or "none"
    outcomes[outcome] = (outcomes[outcome] or 0) + 1
    if answered == #requests then
        finished()
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local total, by_outcome, spares = {}, {}, 0
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
        for outcome, n in pairs(thread:get("outcomes")) do by_outcome[outcome] = (by_outcome[outcome] or 0) + n end
        spares = spares + thread:get("spare")
    end
    for status, n in pairs(total) do io.write(string.format("status %%d %%d\\n", status, n)) end
    for outcome, n in pairs(by_outcome) do io.write(string.format("outcome %%s %%d\\n", outcome, n)) end
    io.write(string.format("spare %%d\\n", spares))
end
"""


def write_webhook_lua(path: Path, deliveries: Path, markers: Path, threads: int) -> Path:
    """The wrk script posting each line of ``deliveries`` once (each thread its own slice); a thread writes
    ``markers/done-<n>`` when all its deliveries are answered."""
    path.write_text(
        WEBHOOK_LUA % {"deliveries": deliveries, "markers": markers, "threads": threads, "path": WEBHOOK_PATH}
    )
    return path


@dataclass
class Settlement:
    """What the webhooks of a set of checkouts did, per the database."""

    orders: int  # orders of the checkouts
    ordered_checkouts: int  # distinct checkouts with an order
    payments: int  # payment rows of the PaymentIntents
    paid_intents: int  # distinct PaymentIntents with a payment row
    completed: int  # checkouts now completed
    events: dict[str, int] = field(default_factory=dict)  # payment_events of the PaymentIntents, by outcome
    last_placed: float | None = None

    @property
    def duplicates(self) -> int:
        """Orders (or payments) beyond one per checkout (PaymentIntent)."""
        return (self.orders - self.ordered_checkouts) + (self.payments - self.paid_intents)


async def settlement(dsn: str, intents: Intents) -> Settlement:
    checkout_ids = list(intents.by_checkout)
    refs = list(intents.by_checkout.values())
    conn = await asyncpg.connect(dsn)
    try:
        orders = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT checkout_id) AS checkouts, "
            "extract(epoch FROM max(placed_at)) AS last FROM orders WHERE checkout_id = ANY($1::uuid[])",
            checkout_ids,
        )
        payments = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT transaction_id) AS refs FROM payments "
            "WHERE method = $1 AND transaction_id = ANY($2::text[])",
            GATEWAY_ID,
            refs,
        )
        completed = await conn.fetchval(
            "SELECT count(*) FROM checkouts WHERE id = ANY($1::uuid[]) AND status = 'completed'", checkout_ids
        )
        events = await conn.fetch(
            "SELECT outcome, count(*) AS n FROM payment_events WHERE gateway_id = $1 AND payment_ref = ANY($2::text[]) "
            "GROUP BY outcome",
            GATEWAY_ID,
            refs,
        )
    finally:
        await conn.close()
    return Settlement(
        orders=int(orders["n"]),
        ordered_checkouts=int(orders["checkouts"]),
        payments=int(payments["n"]),
        paid_intents=int(payments["refs"]),
        completed=int(completed),
        events={row["outcome"]: int(row["n"]) for row in events},
        last_placed=float(orders["last"]) if orders["last"] is not None else None,
    )
