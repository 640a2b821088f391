"""Carts of the store in context: find, create, change, and read them revalidated (ORM, write path).

Who a cart belongs to is a :class:`CartOwner`: the signed-in customer of this store (their one open cart), else the
guest whose token hashes to the cart's ``token_hash``. Every read prices the lines anew, reports what changed since
the shopper last saw the cart (price, availability, stock) and remembers the prices shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import delete, func, select, update

from tenantcommerce.cart.models import MAX_CART_LINES, MAX_LINE_QUANTITY, Cart, CartItem
from tenantcommerce.cart.schemas import CartChange, CartLine, CartOut
from tenantcommerce.cart.tokens import cart_token_hash, new_cart_token
from tenantcommerce.catalog.models import Product, ProductVariant
from tenantcommerce.customers.models import StoreCustomer
from tenantcommerce.errors import BusinessRuleError, FieldError, NotFound
from tenantcommerce.money import Money
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.auth.principal import Principal


@dataclass(frozen=True)
class CartOwner:
    """Who is asking for a cart: a customer of this store, or a guest holding a token (or neither yet)."""

    customer_id: UUID | None
    token_hash: bytes | None


async def customer_id_of(session: AsyncSession, principal: Principal | None) -> UUID | None:
    """The ``store_customers`` id of a caller signed in as a customer of the store in context, else ``None``."""
    if principal is None or principal.customer_store_id != current_store().id:
        return None
    return await session.scalar(select(StoreCustomer.id).where(StoreCustomer.user_id == principal.user_id))


async def owner_of(session: AsyncSession, principal: Principal | None, token: str | None) -> CartOwner:
    """The :class:`CartOwner` of a request."""
    return CartOwner(await customer_id_of(session, principal), cart_token_hash(token) if token else None)


async def find_cart(session: AsyncSession, owner: CartOwner, *, lock: bool = False) -> Cart | None:
    """The owner's open cart (a customer's own, else the guest token's), or ``None``."""
    query = select(Cart).where(Cart.status == "open")
    if owner.customer_id is not None:
        query = query.where(Cart.customer_id == owner.customer_id)
    elif owner.token_hash is not None:
        query = query.where(Cart.token_hash == owner.token_hash, Cart.customer_id.is_(None))
    else:
        return None
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def require_cart(session: AsyncSession, owner: CartOwner, *, lock: bool = False) -> Cart:
    """:func:`find_cart`, or 404 saying how to get one."""
    cart = await find_cart(session, owner, lock=lock)
    if cart is None:
        raise NotFound("no cart: add an item (POST .../cart/items) or create one (POST .../cart) first")
    return cart


async def open_cart(session: AsyncSession, owner: CartOwner) -> tuple[Cart, str | None]:
    """The owner's open cart, created when there is none; the new guest token when one was made."""
    cart = await find_cart(session, owner, lock=True)
    if cart is not None:
        return cart, None
    token = None
    if owner.customer_id is None:
        token = new_cart_token()
        cart = Cart(token_hash=cart_token_hash(token))
    else:
        cart = Cart(token_hash=cart_token_hash(new_cart_token()), customer_id=owner.customer_id)
    session.add(cart)
    await session.flush()
    return cart, token


async def _variant_for_sale(session: AsyncSession, variant_id: UUID) -> tuple[ProductVariant, Product]:
    row = (
        await session.execute(
            select(ProductVariant, Product)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(ProductVariant.id == variant_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such variant in this store", errors=[FieldError("variant_id", "not found")])
    variant, product = row
    if product.status != "active":
        raise BusinessRuleError(
            f"{product.name} is not for sale", errors=[FieldError("variant_id", "the product is not for sale")]
        )
    return variant, product


def _check_available(variant: ProductVariant, qty: int) -> None:
    available = max(variant.inventory - variant.reserved, 0)
    if qty > available:
        raise BusinessRuleError(
            f"only {available} of {variant.sku} available, asked for {qty}",
            errors=[FieldError("qty", f"at most {available} available")],
        )


async def add_item(session: AsyncSession, cart: Cart, variant_id: UUID, qty: int) -> None:
    """Add ``qty`` of a variant (merging with its line); the total must be available and within the limits."""
    variant, _ = await _variant_for_sale(session, variant_id)
    line = await session.scalar(select(CartItem).where(CartItem.cart_id == cart.id, CartItem.variant_id == variant_id))
    new_qty = qty + (line.qty if line else 0)
    if new_qty > MAX_LINE_QUANTITY:
        raise BusinessRuleError(
            f"a line holds at most {MAX_LINE_QUANTITY}", errors=[FieldError("qty", f"at most {MAX_LINE_QUANTITY}")]
        )
    _check_available(variant, new_qty)
    if line is None:
        count = await session.scalar(select(func.count()).where(CartItem.cart_id == cart.id)) or 0
        if count >= MAX_CART_LINES:
            raise BusinessRuleError(
                f"a cart holds at most {MAX_CART_LINES} lines",
                errors=[FieldError("variant_id", f"the cart already has {MAX_CART_LINES} lines")],
            )
        session.add(CartItem(cart_id=cart.id, variant_id=variant_id, qty=new_qty, unit_price_minor=variant.price_minor))
    else:
        line.qty = new_qty
    cart.version += 1
    await session.flush()


async def set_quantity(session: AsyncSession, cart: Cart, variant_id: UUID, qty: int) -> None:
    """Set a line's quantity (it must be available)."""
    line = await session.scalar(select(CartItem).where(CartItem.cart_id == cart.id, CartItem.variant_id == variant_id))
    if line is None:
        raise NotFound("this variant is not in the cart")
    variant, _ = await _variant_for_sale(session, variant_id)
    _check_available(variant, qty)
    line.qty = qty
    cart.version += 1
    await session.flush()


async def remove_item(session: AsyncSession, cart: Cart, variant_id: UUID) -> None:
    """Take a variant out of the cart."""
    result = await session.execute(
        delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.variant_id == variant_id).returning(CartItem.id)
    )
    if result.first() is None:
        raise NotFound("this variant is not in the cart")
    cart.version += 1
    await session.flush()


async def read_cart(session: AsyncSession, cart: Cart, *, token: str | None = None) -> CartOut:
    """The cart priced now, with what changed since it was last shown; remembers the prices shown."""
    currency = current_store().currency
    rows = (
        await session.execute(
            select(CartItem, ProductVariant, Product)
            .join(ProductVariant, ProductVariant.id == CartItem.variant_id)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(CartItem.cart_id == cart.id)
            .order_by(CartItem.created_at, CartItem.id)
        )
    ).all()
    lines: list[CartLine] = []
    changes: list[CartChange] = []
    subtotal = 0
    for item, variant, product in rows:
        available = max(variant.inventory - variant.reserved, 0)
        on_sale = product.status == "active"
        price = Money(variant.price_minor, currency)
        if item.unit_price_minor != variant.price_minor:
            changes.append(
                CartChange(
                    variant_id=variant.id,
                    kind="price_changed",
                    message=f"the price of {product.name} ({variant.title}) changed from "
                    f"{Money(item.unit_price_minor, currency).format()} to {price.format()}",
                    previous_price=Money(item.unit_price_minor, currency),
                    price=price,
                )
            )
            item.unit_price_minor = variant.price_minor
        if not on_sale:
            changes.append(
                CartChange(variant_id=variant.id, kind="unavailable", message=f"{product.name} is no longer for sale")
            )
        elif item.qty > available:
            changes.append(
                CartChange(
                    variant_id=variant.id,
                    kind="insufficient_stock",
                    message=f"only {available} of {product.name} ({variant.title}) available, the cart has {item.qty}",
                    available=available,
                )
            )
        line_total = price.times(item.qty)
        subtotal += line_total.amount_minor
        lines.append(
            CartLine(
                variant_id=variant.id,
                product_id=product.id,
                product_slug=product.slug,
                product_name=product.name,
                variant_title=variant.title,
                sku=variant.sku,
                qty=item.qty,
                unit_price=price,
                line_total=line_total,
                available=available,
                purchasable=on_sale and item.qty <= available,
            )
        )
    await session.flush()
    return CartOut(
        id=cart.id,
        token=token,
        currency=currency,
        lines=lines,
        subtotal=Money(subtotal, currency),
        item_count=sum(line.qty for line in lines),
        changes=changes,
        checkout_ready=bool(lines) and all(line.purchasable for line in lines),
    )


async def merge_guest_cart(session: AsyncSession, customer_id: UUID, token: str) -> None:
    """At sign-in: move the guest cart's lines into the customer's open cart (quantities add up, capped at the line
    limit), or hand the guest cart to the customer when they have none. The guest token stops working either way."""
    guest = await find_cart(session, CartOwner(None, cart_token_hash(token)), lock=True)
    if guest is None:
        return
    own = await find_cart(session, CartOwner(customer_id, None), lock=True)
    if own is None:
        guest.customer_id = customer_id
        guest.token_hash = cart_token_hash(new_cart_token())
        guest.version += 1
        await session.flush()
        return
    mine = {item.variant_id: item for item in await session.scalars(select(CartItem).where(CartItem.cart_id == own.id))}
    for item in await session.scalars(select(CartItem).where(CartItem.cart_id == guest.id)):
        existing = mine.get(item.variant_id)
        if existing is not None:
            existing.qty = min(existing.qty + item.qty, MAX_LINE_QUANTITY)
        elif len(mine) < MAX_CART_LINES:
            mine[item.variant_id] = CartItem(
                cart_id=own.id, variant_id=item.variant_id, qty=item.qty, unit_price_minor=item.unit_price_minor
            )
            session.add(mine[item.variant_id])
    await session.execute(update(Cart).where(Cart.id == guest.id).values(status="merged"))
    own.version += 1
    await session.flush()
