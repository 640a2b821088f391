"""The demo: two stores with a realistic catalog, seeded once and reused on later runs."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tenantcommerce.catalog.services import ProductInput, VariantInput, create_product
from tenantcommerce.errors import Conflict
from tenantcommerce.tenancy.context import StoreContext, platform_scope, use_store
from tenantcommerce.tenancy.models import Store
from tenantcommerce.tenancy.services import create_store

if TYPE_CHECKING:
    from tenantcommerce.db.database import Database
    from tenantcommerce.plugins.host import PluginHost


@dataclass(frozen=True)
class DemoStore:
    """A demo store and what it sells."""

    slug: str
    name: str
    currency: str
    owner_email: str
    sku_prefix: str
    nouns: tuple[tuple[str, int, tuple[str, ...]], ...]  # (noun, base price in minor units, variant titles)
    adjectives: tuple[str, ...]


DEMO_STORES = (
    DemoStore(
        slug="acme-outfitters",
        name="Acme Outfitters",
        currency="USD",
        owner_email="owner@acme-outfitters.example",
        sku_prefix="ACME",
        nouns=(
            ("T-Shirt", 2400, ("S", "M", "L", "XL")),
            ("Hoodie", 5900, ("S", "M", "L", "XL")),
            ("Rain Jacket", 12900, ("S", "M", "L")),
            ("Beanie", 1900, ("One size",)),
            ("Trail Socks", 1400, ("S/M", "L/XL")),
            ("Canvas Tote", 2200, ("Natural", "Black")),
            ("Cap", 2500, ("One size",)),
        ),
        adjectives=(
            "Classic",
            "Organic",
            "Everyday",
            "Summit",
            "Harbor",
            "Alpine",
            "Coastal",
            "Urban",
            "Vintage",
            "Merino",
            "Heritage",
            "Trail",
        ),
    ),
    DemoStore(
        slug="nordic-home",
        name="Nordic Home",
        currency="EUR",
        owner_email="owner@nordic-home.example",
        sku_prefix="NORD",
        nouns=(
            ("Mug", 1800, ("White", "Sand", "Slate")),
            ("Scented Candle", 2600, ("Small", "Large")),
            ("Wool Throw", 8900, ("Grey", "Oat")),
            ("Linen Napkins (set of 4)", 3200, ("Natural", "Rust", "Sage")),
            ("Table Lamp", 11900, ("Oak", "Black")),
            ("Serving Board", 4500, ("Small", "Medium", "Large")),
            ("Vase", 3900, ("Clear", "Smoke")),
        ),
        adjectives=(
            "Fjord",
            "Birch",
            "Stone",
            "Aurora",
            "Lagom",
            "Hygge",
            "Moss",
            "Pine",
            "Linden",
            "Frost",
            "Harbour",
            "Meadow",
        ),
    ),
)

PRODUCTS_PER_STORE = 36
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 (the demo's published sign-in, for local use only)


def _slugify(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def demo_catalog(store: DemoStore) -> list[ProductInput]:
    """The deterministic catalog of a demo store."""
    rng = random.Random(store.slug)  # noqa: S311 (demo data, deterministic on purpose)
    products: list[ProductInput] = []
    for index in range(PRODUCTS_PER_STORE):
        noun, base_price, titles = store.nouns[index % len(store.nouns)]
        adjective = store.adjectives[index % len(store.adjectives)]
        name = f"{adjective} {noun}"
        slug = _slugify(name)
        price = base_price + rng.choice((0, 0, 500, 1000, -200))
        variants = [
            VariantInput(
                sku=f"{store.sku_prefix}-{index + 1:03d}-{position + 1}",
                title=title,
                price_minor=price + (300 if title in ("XL", "Large") else 0),
                inventory=rng.choice((0, 3, 8, 12, 25, 40, 100)),
                attributes={"option": title},
            )
            for position, title in enumerate(titles)
        ]
        products.append(
            ProductInput(
                name=name,
                slug=slug,
                description=f"The {name.lower()}, made to last. Part of the {store.name} collection.",
                status="draft" if index % 12 == 11 else "active",
                variants=variants,
            )
        )
    return products


async def seed_demo(database: Database, echo: Callable[[str], None] = print) -> list[StoreContext]:
    """Create the demo stores and their catalogs; stores that exist already are kept as they are."""
    contexts: list[StoreContext] = []
    for demo in DEMO_STORES:
        try:
            store = await create_store(
                database, slug=demo.slug, name=demo.name, currency=demo.currency, owner_email=demo.owner_email
            )
        except Conflict:
            with platform_scope():
                async with database.session() as session:
                    row = (await session.execute(select(Store).where(Store.slug == demo.slug))).scalar_one()
                    store = StoreContext(id=row.id, slug=row.slug, name=row.name, currency=row.currency,
                                         status=row.status)  # type: ignore[arg-type]  # fmt: skip
            echo(f"  {demo.slug}: already seeded")
            contexts.append(store)
            continue
        with use_store(store):
            async with database.session() as session:
                for product in demo_catalog(demo):
                    await create_product(session, product)
                await session.commit()
        echo(f"  {demo.slug}: {PRODUCTS_PER_STORE} products")
        contexts.append(store)
    await _give_owners_the_demo_password(database)
    return contexts


_DEMO_IBANS = {"USD": "GB33BUKB20201555555555", "EUR": "DE89370400440532013000"}  # published example IBANs


def _manual_payments(store: DemoStore) -> dict[str, Any]:
    return {
        "bank_transfer": {"account_holder": store.name, "iban": _DEMO_IBANS[store.currency]},
        "cash_on_delivery": store.currency == "USD",
        "reference_prefix": store.sku_prefix,
    }


DEMO_PLUGINS: dict[str, Callable[[DemoStore], dict[str, Any]]] = {
    "manual-payments": _manual_payments,
    # Its default rate (free standard shipping) is added by the plugin itself when it is enabled.
    "shipping-rates": lambda store: {},
    # EUR prices are gross, as European shops show them; USD prices get tax on top.
    "tax-rates": lambda store: {"prices_include_tax": store.currency == "EUR"},
}
"""The plugin packages the demo enables in each store (when installed), with the config each store gets."""
DEMO_PLUGIN_PACKAGES = "tenantcommerce-manual-payments tenantcommerce-shipping-rates tenantcommerce-tax-rates"
OPTIONAL_DEMO_PLUGINS: dict[str, Callable[[DemoStore], dict[str, Any]]] = {"stripe": lambda store: {}}
"""Plugins the demo enables only when they are installed and configured (Stripe: its ``TC_STRIPE_*`` test keys)."""


def ready_optional_plugins(host: PluginHost) -> list[str]:
    """The optional demo plugins that are installed and configured on this deployment."""
    return [
        plugin_id
        for plugin_id in OPTIONAL_DEMO_PLUGINS
        if host.has_plugin(plugin_id) and not host.registrations.setup_problems.get(plugin_id)
    ]


async def enable_demo_plugins(
    database: Database, host: PluginHost, stores: list[StoreContext], echo: Callable[[str], None] = print
) -> list[str]:
    """Enable the installed demo plugins in each demo store (and the optional ones that are configured, see
    :data:`OPTIONAL_DEMO_PLUGINS`), through the same service as the admin API; a store that already has a row for a
    plugin keeps it as it is.

    Returns:
        The demo plugins that are not installed.
    """
    from tenantcommerce.plugins.models import StorePlugin
    from tenantcommerce.plugins.services import configure_plugin

    missing = [plugin_id for plugin_id in DEMO_PLUGINS if not host.has_plugin(plugin_id)]
    wanted = {
        **DEMO_PLUGINS,
        **{plugin_id: OPTIONAL_DEMO_PLUGINS[plugin_id] for plugin_id in ready_optional_plugins(host)},
    }
    by_slug = {demo.slug: demo for demo in DEMO_STORES}
    for store in stores:
        with use_store(store):
            async with database.session() as session:
                enabled = []
                for plugin_id, config_of in wanted.items():
                    if plugin_id in missing:
                        continue
                    if await session.scalar(select(StorePlugin.id).where(StorePlugin.plugin_id == plugin_id)):
                        continue
                    await configure_plugin(
                        session, host, plugin_id, enabled=True, config=config_of(by_slug[store.slug])
                    )
                    enabled.append(plugin_id)
                await session.commit()
        if enabled:
            echo(f"  {store.slug}: enabled {', '.join(enabled)}")
    return missing


async def _give_owners_the_demo_password(database: Database) -> None:
    """Demo owners sign in with :data:`DEMO_PASSWORD` (only those who have no password yet)."""
    from tenantcommerce.auth.models import User
    from tenantcommerce.auth.passwords import hash_password

    with platform_scope():
        async with database.session() as session:
            emails = [demo.owner_email for demo in DEMO_STORES]
            for user in await session.scalars(select(User).where(User.email.in_(emails), User.password_hash.is_(None))):
                user.password_hash = await hash_password(DEMO_PASSWORD)
            await session.commit()
