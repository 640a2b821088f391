"""Every dashboard template rendered alone (no server, no database) with no, one and many items: it renders under
StrictUndefined, escapes what it is given, labels its inputs, and shows errors next to their fields."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

import msgspec
import pytest
from tenantcommerce_manual_payments.settings import ManualPaymentsSettings

from tenantcommerce.auth.api_tokens import CreatedToken, TokenOut
from tenantcommerce.auth.audit_log import AuditEntryOut
from tenantcommerce.auth.members import InvitationOut, MemberOut
from tenantcommerce.auth.schemas import MembershipOut, UserOut
from tenantcommerce.catalog.admin import AdminProduct, AdminVariant
from tenantcommerce.catalog.schemas import AdminMedia
from tenantcommerce.discounts.schemas import DiscountOut
from tenantcommerce.money import Money
from tenantcommerce.orders.schemas import OrderDetail, OrderItemOut, OrderSummary, PaymentOut, RefundOut
from tenantcommerce.plugins.admin_controllers import StorePluginView
from tenantcommerce.plugins.host import PluginInfo
from tenantcommerce.plugins.types import StoreWarning
from tenantcommerce.tenancy.admin_controllers import StoreSettings
from tenantcommerce.tenancy.context import StoreContext
from tenantcommerce.web.admin.customers import CustomerRow
from tenantcommerce.web.admin.discounts import discount_values
from tenantcommerce.web.admin.overview import LowStock, Overview
from tenantcommerce.web.admin.pages import admin_environment
from tenantcommerce.web.admin.schema_forms import form_fields
from tenantcommerce.web.rendering import render

NOW = datetime.datetime(2026, 11, 28, 9, 30, tzinfo=datetime.UTC)
STORE = StoreContext(id=uuid.uuid4(), slug="alpha", name="Alpha <&> Co", currency="EUR", status="active")
USER = UserOut(id=uuid.uuid4(), email="owner@alpha.test", name=None, is_operator=False)
ALL = frozenset(
    {"orders:read", "orders:fulfill", "orders:refund", "products:read", "products:write", "inventory:write"}
)
SIZES = [0, 1, 12]


def page(can: frozenset[str] = ALL, stores: int = 1, **extra: Any) -> dict[str, Any]:
    members = [MembershipOut(slug=f"store-{i}", name=f"Store {i}", role="owner", permissions=[]) for i in range(stores)]
    return {
        "csrf_token": "tok<en>",
        "user": USER,
        "stores": members,
        "store": STORE,
        "base": "/admin/alpha",
        "nav": [{"path": "overview", "label": "Overview", "current": True}],
        "section": "overview",
        "can": can,
        "notice": None,
        **extra,
    }


def draw(template: str, context: dict[str, Any]) -> str:
    return render(admin_environment(), f"_admin/{template}", context)


def labelled(html: str) -> None:
    """Every visible input, select and textarea has a label naming its id."""
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', html)
    for control in ids:
        assert f'for="{control}"' in html, control
    unnamed = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")(?![^>]*\sid=)[^>]*>', html)
    assert not unnamed, unnamed


def summary(n: int) -> OrderSummary:
    return OrderSummary(
        id=uuid.uuid4(), order_number=1000 + n, email=f"c{n}@example.com", customer_id=None, status="open",
        payment_status="paid", fulfillment_status="unfulfilled", currency="EUR", total_minor=1500 + n,
        refunded_minor=0, item_count=1, placed_at=NOW, created_at=NOW,
    )  # fmt: skip


def item(n: int) -> OrderItemOut:
    return OrderItemOut(id=uuid.uuid4(), product_id=uuid.uuid4(), variant_id=uuid.uuid4(), sku=f"SKU-{n}",
                        product_name=f"Shirt <{n}>", variant_title="M", qty=2, unit_price_minor=1000,
                        total_price_minor=2000, discount_minor=0, tax_minor=0, fulfilled_qty=0, restocked_qty=0,
                        waiting_qty=2)  # fmt: skip


def detail(items: int) -> OrderDetail:
    payment = PaymentOut(
        id=uuid.uuid4(), method="bank-transfer", status="succeeded", amount_minor=2500, refunded_minor=0,
        currency="EUR", transaction_id="PAY-1", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    return OrderDetail(
        id=uuid.uuid4(), order_number=1001, checkout_id=None, customer_id=None, email="ada@example.com",
        status="open", payment_status="paid", fulfillment_status="unfulfilled", currency="EUR", subtotal_minor=2000,
        discount_minor=0, shipping_minor=500, tax_minor=0, total_minor=2500, refunded_minor=0,
        payment_method="bank-transfer", shipping_choice={"name": "Standard"},
        shipping_address={"name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "country": "DE"},
        billing_address=None, discount_code=None, flags=[], cancelled_at=None, cancel_reason=None, placed_at=NOW,
        created_at=NOW, updated_at=NOW, items=[item(n) for n in range(items)], payments=[payment] if items else [],
        fulfillments=[], refunds=[],
    )  # fmt: skip


def product(variants: int) -> AdminProduct:
    return AdminProduct(
        id=uuid.uuid4(), name="Linen <shirt>", slug="linen-shirt", description="", status="active",
        variants=[
            AdminVariant(id=uuid.uuid4(), sku=f"LS-{n}", title=f"Size {n}", price=Money(4990, "EUR"), inventory=n,
                         reserved=0, weight_grams=None, attributes={}, position=n)
            for n in range(variants)
        ],
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_login_empty_and_with_an_error() -> None:
    empty = draw("login.html", {"csrf_token": "t", "next": "/admin/", "values": {}, "errors": {}})
    assert '<html lang="en">' in empty
    assert 'name="_csrf_token" value="t"' in empty
    labelled(empty)
    failed = draw(
        "login.html",
        {"csrf_token": "t", "next": "/admin/", "values": {"email": "a<b"}, "errors": {"": "wrong", "email": "bad"}},
    )
    assert 'role="alert"' in failed
    assert 'id="email-error"' in failed
    assert 'aria-describedby="email-error"' in failed
    assert "a&lt;b" in failed


@pytest.mark.parametrize("count", SIZES)
def test_stores(count: int) -> None:
    stores = [MembershipOut(slug=f"s-{i}", name=f"S {i}", role="staff", permissions=[]) for i in range(count)]
    html = draw("stores.html", {"csrf_token": "t", "user": USER, "stores": stores})
    assert html.count('href="/admin/s-') == count
    if not count:
        assert "You do not work in any store yet" in html


def test_error_page() -> None:
    for status in (400, 403, 404, 429, 500):
        html = draw("error.html", {"csrf_token": "t", "status": status, "message": "<why>"})
        assert f"Error {status}" in html
        assert "&lt;why&gt;" in html


@pytest.mark.parametrize("count", SIZES)
def test_overview(count: int) -> None:
    low = [LowStock(uuid.uuid4(), f"P{n}", f"SKU-{n}", "M", n % 3) for n in range(count)]
    html = draw(
        "overview.html",
        page(stores=count, overview=Overview(orders_today=count, revenue_today_minor=1234, low_stock=low),
             low_stock_limit=5),
    )  # fmt: skip
    assert "12.34 EUR" in html
    assert html.count("SKU-") == count
    assert "Alpha &lt;&amp;&gt; Co" in html
    assert ("Switch store" in html) == (count > 1)
    if not count:
        assert "Nothing is running low" in html


@pytest.mark.parametrize("count", SIZES)
def test_orders(count: int) -> None:
    html = draw(
        "orders.html",
        page(orders=[summary(n) for n in range(count)], total=count, page=1, pages=2 if count > 10 else 1,
             filters={"status": "open"} if count else {}, order_statuses=("open",), payment_statuses=("paid",),
             fulfillment_statuses=("fulfilled",)),
    )  # fmt: skip
    labelled(html)
    assert html.count('href="/admin/alpha/orders/') == count
    if count > 10:
        assert 'rel="next"' in html
        assert "status=open" in html
    if not count:
        assert "No orders yet." in html


@pytest.mark.parametrize("count", SIZES)
def test_order(count: int) -> None:
    order = detail(count)
    context = page(order=order, form=None, values={}, errors={}, refundable_minor=2500 if count else 0)
    html = draw("order.html", context)
    labelled(html)
    assert html.count("Shirt &lt;") == count
    assert ("Mark as shipped" in html) == bool(count)
    assert "Cancel order" in html
    viewer = draw("order.html", {**context, "can": frozenset({"orders:read"})})
    assert "Mark as shipped" not in viewer
    assert "Cancel order" not in viewer
    assert '<form method="post" action="/admin/alpha/orders' not in viewer
    failed = draw(
        "order.html", {**context, "form": "refund", "values": {"amount": "99"}, "errors": {"amount": "too much"}}
    )
    if count:
        assert 'id="amount-error"' in failed
        assert 'value="99"' in failed
    refunds = [
        RefundOut(
            id=uuid.uuid4(),
            payment_id=uuid.uuid4(),
            amount_minor=100,
            currency="EUR",
            status="pending" if n == 0 else "succeeded",
            refund_ref=None,
            reason=f"<r{n}>",
            lines=[],
            actor_user_id=None,
            created_at=NOW,
        )
        for n in range(count)
    ]
    with_refunds = draw("order.html", {**context, "order": msgspec.structs.replace(order, refunds=refunds)})
    assert with_refunds.count("&lt;r") == count
    assert ("Retry refund" in with_refunds) == bool(count)


@pytest.mark.parametrize("count", SIZES)
def test_products(count: int) -> None:
    html = draw(
        "products.html",
        page(products=[product(n % 3) for n in range(count)], total=count, page=1, pages=1, filters={},
             statuses=("draft", "active")),
    )  # fmt: skip
    labelled(html)
    assert html.count('href="/admin/alpha/products/') - html.count('href="/admin/alpha/products/new"') == count
    assert "New product" in html
    if not count:
        assert "No products yet." in html


def test_new_product_form() -> None:
    html = draw("product_new.html", page(values={"status": "draft"}, errors={}, statuses=("draft", "active")))
    labelled(html)
    failed = draw(
        "product_new.html", page(values={"slug": "A B"}, errors={"slug": "bad", "": "x"}, statuses=("draft",))
    )
    assert 'id="slug-error"' in failed
    assert 'value="A B"' in failed


@pytest.mark.parametrize("count", SIZES)
def test_product(count: int) -> None:
    made = product(count)
    images = [
        AdminMedia(
            id=uuid.uuid4(),
            product_id=made.id,
            variant_id=None,
            url=f"/api/storefront/alpha/media/{n}",
            content_type="image/png",
            byte_size=10,
            sha256="0",
            width=10,
            height=10,
            alt=f"<photo {n}>",
            position=n,
            created_at=NOW,
        )
        for n in range(count)
    ]
    context = page(
        product=made, images=images, statuses=("draft", "active"), form=None, values={}, errors={}, notice="Saved."
    )
    html = draw("product.html", context)
    labelled(html)
    assert html.count("Adjust stock</button>") == count
    assert html.count('alt="&lt;photo') == count
    assert "Linen &lt;shirt&gt;" in html
    assert "Saved." in html
    if not count:
        assert "No variants yet" in html
    else:
        variant = made.variants[0]
        failed = draw("product.html", {**context, "form": f"stock-{variant.id}", "errors": {"delta": "too many"}})
        assert f'id="stock-{variant.id}-delta-error"' in failed
    assert html.count('name="position"') == count
    if count:
        image = images[0]
        typed = {"alt": "typed", "position": "x", "variant_id": ""}
        errors = {"position": "enter a whole number"}
        failed_image = draw("product.html", {**context, "form": f"image-{image.id}", "values": typed, "errors": errors})
        assert f'id="image-{image.id}-position-error"' in failed_image
        assert 'value="typed"' in failed_image
    viewer = draw("product.html", {**context, "can": frozenset({"products:read"})})
    assert "<form" not in viewer.split("<main")[1]
    assert viewer.count("&lt;photo") == 2 * count, "a reader sees each image's alt text (img and caption)"


# --- customers, discounts, settings, plugins, members, tokens, audit ------------------------------------------------


@pytest.mark.parametrize("count", SIZES)
def test_customers(count: int) -> None:
    rows = [
        CustomerRow(uuid.uuid4(), f"c{n}@example.com", "Ada" if n else None, n % 2 == 0, n, 100 * n)
        for n in range(count)
    ]
    html = draw("customers.html", page(customers=rows, total=count, page=1, pages=1, filters={}, currency="EUR"))
    labelled(html)
    assert html.count("@example.com") == count
    if not count:
        assert "No customers yet." in html


@pytest.mark.parametrize("count", SIZES)
def test_discounts(count: int) -> None:
    kinds = ("percentage", "fixed_amount", "free_shipping")
    rows = [
        DiscountOut(
            id=uuid.uuid4(),
            code=f"CODE{n}",
            kind=kinds[n % 3],
            value=1000,
            min_subtotal=Money(0, "EUR"),
            starts_at=None,
            ends_at=None,
            usage_limit=None,
            times_used=n % 2,
            active=n % 2 == 0,
            created_at=NOW,
            updated_at=NOW,
        )
        for n in range(count)
    ]
    context = page(
        can=ALL | {"discounts:read", "discounts:write"}, discounts=rows, total=count, page=1, pages=1, filters={},
        kinds=kinds, values={}, errors={},
    )  # fmt: skip
    html = draw("discounts.html", context)
    labelled(html)
    assert html.count('">CODE') == count
    if count:
        assert "10.0 %" in html
    failed = draw("discounts.html", {**context, "errors": {"code": "bad code"}, "values": {"code": "x y"}})
    assert 'id="code-error"' in failed
    reader = draw("discounts.html", {**context, "can": frozenset({"discounts:read"})})
    assert "Create discount" not in reader


@pytest.mark.parametrize("count", SIZES)
def test_settings(count: int) -> None:
    settings = StoreSettings(
        slug="alpha", name="Alpha", currency="EUR", status="active", contact_email=None, theme="default"
    )
    views = [
        StorePluginView(
            plugin=PluginInfo(id=f"plugin-{n}", distribution=None, version="1.0", hooks=()),
            enabled=n % 2 == 0,
            priority=0,
            config={},
            state={},
            settings_schema=None,
            warnings=[StoreWarning(message="set an IBAN", severity="warning", plugin_id=f"plugin-{n}")] if n else [],
        )
        for n in range(count)
    ]
    values = {"name": "Alpha", "contact_email": "", "currency": "EUR", "theme": "default"}
    context = page(settings=settings, plugins=views, themes=["default", "midnight"], values=values, errors={})
    html = draw("settings.html", {**context, "can": ALL | {"settings:read", "settings:write"}})
    labelled(html)
    assert html.count('href="/admin/alpha/settings/plugins/') == count
    reader = draw("settings.html", {**context, "can": frozenset({"settings:read"})})
    assert "Save settings" not in reader
    if not count:
        assert "No plugins are installed." in html


SCHEMA = msgspec.json.schema(ManualPaymentsSettings)


@pytest.mark.parametrize("configured", [False, True])
def test_plugin(configured: bool) -> None:
    config = {"bank_transfer": {"account_holder": "A <B>", "iban": "DE89370400440532013000"}} if configured else {}
    view = StorePluginView(
        plugin=PluginInfo(id="manual-payments", distribution="tenantcommerce-manual-payments", version="1.0", hooks=()),
        enabled=configured, priority=0, config=config, state={}, settings_schema=SCHEMA, warnings=[],
    )  # fmt: skip
    fields = form_fields(SCHEMA, config)
    context = page(view=view, fields=fields, values={"enabled": "", "priority": "0"}, errors={})
    html = draw("plugin.html", {**context, "can": ALL | {"plugins:manage", "settings:read"}})
    labelled(html)
    assert 'name="config.bank_transfer.iban"' in html
    assert ('value="A &lt;B&gt;"' in html) == configured
    failed = draw(
        "plugin.html", {**context, "can": ALL | {"plugins:manage"}, "errors": {"config.bank_transfer.iban": "bad"}}
    )
    assert 'id="config.bank_transfer.iban-error"' in failed
    reader = draw("plugin.html", {**context, "can": frozenset({"settings:read"})})
    assert "Save plugin" not in reader


def test_plugin_without_config() -> None:
    view = StorePluginView(
        plugin=PluginInfo(id="tiny", distribution=None, version=None, hooks=()), enabled=False, priority=0, config={},
        state={}, settings_schema=None, warnings=[],
    )  # fmt: skip
    html = draw("plugin.html", page(view=view, fields=[], values={}, errors={}))
    assert "This plugin takes no configuration." in html


@pytest.mark.parametrize("count", SIZES)
def test_members(count: int) -> None:
    me = USER.id
    people = [
        MemberOut(
            user_id=me if n == 0 else uuid.uuid4(),
            email=f"m{n}@alpha.test",
            name=None,
            role="staff",
            overrides={},
            permissions=[],
        )
        for n in range(count)
    ]
    invitations = [
        InvitationOut(
            id=uuid.uuid4(), email=f"i{n}@alpha.test", role="viewer", expires_at=NOW, accepted_at=None, revoked_at=None
        )
        for n in range(count)
    ]
    context = page(members=people, invitations=invitations, roles=("owner", "staff"), me_id=me, form=None,
                   values={"role": "staff"}, errors={})  # fmt: skip
    html = draw("members.html", {**context, "can": ALL | {"members:read", "members:manage"}})
    labelled(html)
    assert html.count("@alpha.test</span>") == count or html.count("@alpha.test") >= 2 * count
    if not count:
        assert "No pending invitations." in html
    reader = draw("members.html", {**context, "can": frozenset({"members:read"})})
    assert "Send invitation" not in reader


@pytest.mark.parametrize("overrides", [{}, {"orders:refund": True}, {"orders:refund": True, "products:write": False}])
def test_member(overrides: dict[str, bool]) -> None:
    from tenantcommerce.auth.permissions import PERMISSIONS, ROLE_PERMISSIONS, permissions_for

    granted = sorted(permissions_for("staff", overrides))
    person = MemberOut(user_id=uuid.uuid4(), email="<m>@alpha.test", name="M", role="staff", overrides=overrides,
                       permissions=granted)  # fmt: skip
    context = page(person=person, all_permissions=PERMISSIONS, from_role=ROLE_PERMISSIONS["staff"], chosen=granted,
                   errors={})  # fmt: skip
    html = draw("member.html", {**context, "can": ALL | {"members:read", "members:manage"}})
    labelled(html)
    assert "&lt;m&gt;@alpha.test" in html
    assert html.count(" checked") == len(granted)
    assert html.count(">added</span>") == sum(overrides.values())
    assert html.count(">taken away</span>") == len(overrides) - sum(overrides.values())
    assert "Save permissions" in html
    reader = draw("member.html", {**context, "can": frozenset({"members:read"})})
    assert "Save permissions" not in reader
    assert reader.count(" disabled") == len(PERMISSIONS)
    failed = draw("member.html", {**context, "can": ALL, "errors": {"members:manage": "last owner", "": "no"}})
    assert 'id="perm-members:manage-error"' in failed
    assert "That did not work" in failed


@pytest.mark.parametrize("count", SIZES)
def test_tokens(count: int) -> None:
    tokens = [
        TokenOut(
            id=uuid.uuid4(),
            name=f"t{n}",
            prefix="tc_abcd",
            permissions=["orders:read"],
            created_by="owner",
            created_at=NOW,
            expires_at=NOW,
            revoked_at=NOW if n % 2 else None,
            last_used_at=None,
        )
        for n in range(count)
    ]
    context = page(tokens=tokens, grantable=["orders:read"], created=None, values={"permissions": []}, errors={})
    html = draw("tokens.html", context)
    labelled(html)
    assert html.count("tc_abcd…") == count
    if count:
        created = CreatedToken(token="tc_secret<1>", details=tokens[0])
        shown = draw("tokens.html", {**context, "created": created})
        assert 'value="tc_secret&lt;1&gt;"' in shown
    else:
        assert "No tokens yet." in html


@pytest.mark.parametrize("count", SIZES)
def test_audit(count: int) -> None:
    actor = uuid.uuid4()
    entries = [
        AuditEntryOut(
            id=uuid.uuid4(),
            created_at=NOW,
            actor_user_id=actor if n % 2 else None,
            actor_token_id=None,
            action="settings.updated",
            target_type="store",
            target_id=None,
            changes={"name": {"from": "A", "to": f"<B{n}>"}},
            request_id=None,
        )
        for n in range(count)
    ]
    html = draw("audit.html", page(entries=entries, people={actor: "a@alpha.test"}, total=count, page=1,
                                   pages=1, filters={}))  # fmt: skip
    assert html.count("settings.updated") == count
    assert html.count("&lt;B") == count
    if not count:
        assert "Nothing audited yet." in html


@pytest.mark.parametrize("kind", ["percentage", "fixed_amount", "free_shipping"])
def test_discount(kind: str) -> None:
    discount = DiscountOut(
        id=uuid.uuid4(), code="SUMMER", kind=kind, value=1250 if kind != "free_shipping" else 0,
        min_subtotal=Money(2000, "EUR"), starts_at=NOW, ends_at=None, usage_limit=None, times_used=2, active=True,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    values = discount_values(discount)
    context = page(can=ALL | {"discounts:read", "discounts:write"}, discount=discount, values=values, errors={})
    html = draw("discount.html", context)
    labelled(html)
    assert values["starts_at"] == "2026-11-28T09:30"
    assert values["min_subtotal"] == "20.00"
    assert values["value"] == {"percentage": "12.5", "fixed_amount": "12.50", "free_shipping": ""}[kind]
    assert ('name="value"' in html) == (kind != "free_shipping")
    reader = draw("discount.html", {**context, "can": frozenset({"discounts:read"})})
    assert "Save discount" not in reader
