"""The admin side of the catalog: products, variants and stock, for the store in context (ORM, write path)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import msgspec
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from tenantcommerce.catalog.models import Product, ProductVariant
from tenantcommerce.catalog.services import ProductInput, Slug, VariantInput, create_product
from tenantcommerce.catalog.services import add_variant as add
from tenantcommerce.errors import BusinessRuleError, Conflict, FieldError, NotFound
from tenantcommerce.fields import Attributes, LongText, Text100, Text200
from tenantcommerce.inventory.models import InventoryAdjustment
from tenantcommerce.jobs.outbox import emit
from tenantcommerce.money import Money
from tenantcommerce.plugins.events import ProductChanged

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.auth.principal import Principal

ProductSort = Literal["name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"]
ProductStatus = Literal["draft", "active", "archived"]


class AdminVariant(msgspec.Struct, frozen=True):
    """A variant with its stock on hand."""

    id: UUID
    sku: str
    title: str
    price: Money
    inventory: int
    reserved: int
    """Held by checkouts awaiting payment; ``inventory - reserved`` can be sold."""
    weight_grams: int | None
    attributes: dict[str, Any]
    position: int


class AdminProduct(msgspec.Struct, frozen=True):
    """A product of any status, with its variants."""

    id: UUID
    name: str
    slug: str
    description: str
    status: str
    variants: list[AdminVariant]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ProductUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Fields to change; absent ones stay."""

    name: Text200 | msgspec.UnsetType = msgspec.UNSET
    slug: Slug | msgspec.UnsetType = msgspec.UNSET
    description: LongText | msgspec.UnsetType = msgspec.UNSET
    status: ProductStatus | msgspec.UnsetType = msgspec.UNSET


class VariantUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Variant fields to change; stock changes go through adjustments."""

    sku: Text100 | msgspec.UnsetType = msgspec.UNSET
    title: Text200 | msgspec.UnsetType = msgspec.UNSET
    price_minor: Annotated[int, msgspec.Meta(ge=0, le=10**12)] | msgspec.UnsetType = msgspec.UNSET
    attributes: Attributes | msgspec.UnsetType = msgspec.UNSET
    position: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | msgspec.UnsetType = msgspec.UNSET
    weight_grams: Annotated[int, msgspec.Meta(ge=0, le=10**8)] | msgspec.UnsetType | None = msgspec.UNSET


class StockAdjustmentInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Add (positive) or remove (negative) stock of one variant, with the reason kept in the history."""

    variant_id: UUID
    delta: Annotated[int, msgspec.Meta(ge=-(10**9), le=10**9)]
    reason: Text200


class StockAdjustmentOut(msgspec.Struct, frozen=True):
    """One entry of the stock history."""

    id: UUID
    variant_id: UUID
    delta: int
    inventory_after: int
    reason: str
    actor_user_id: UUID | None
    created_at: datetime.datetime


def _variant_out(variant: ProductVariant) -> AdminVariant:
    return AdminVariant(
        id=variant.id,
        sku=variant.sku,
        title=variant.title,
        price=Money(variant.price_minor, variant.currency),
        inventory=variant.inventory,
        reserved=variant.reserved,
        weight_grams=variant.weight_grams,
        attributes=variant.attributes,
        position=variant.position,
    )


async def _product_out(session: AsyncSession, product: Product) -> AdminProduct:
    variants = await session.scalars(
        select(ProductVariant)
        .where(ProductVariant.product_id == product.id)
        .order_by(ProductVariant.position, ProductVariant.id)
    )
    return AdminProduct(
        id=product.id,
        name=product.name,
        slug=product.slug,
        description=product.description,
        status=product.status,
        variants=[_variant_out(variant) for variant in variants],
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def _conflict(exc: IntegrityError) -> Exception:
    text = str(exc.orig)
    if "uq_products_store_id_slug" in text:
        return Conflict("another product of this store has this slug", errors=[FieldError("slug", "is taken")])
    if "uq_product_variants_store_id_sku" in text:
        return Conflict("another variant of this store has this SKU", errors=[FieldError("sku", "is taken")])
    return BusinessRuleError(f"the change breaks a rule of the catalog: {text.splitlines()[0]}")


async def get_product(session: AsyncSession, product_id: UUID) -> AdminProduct:
    """One product of the store (another store's answers 404)."""
    product = await session.get(Product, _key(session, product_id))
    if product is None:
        raise NotFound("no such product in this store")
    return await _product_out(session, product)


def _key(session: AsyncSession, row_id: UUID) -> tuple[UUID, UUID]:
    store_id = session.sync_session.info.get("tenantcommerce.store_id")
    assert isinstance(store_id, UUID)
    return store_id, row_id


async def list_products(
    session: AsyncSession, *, status: str | None, q: str | None, sort: str, limit: int, offset: int
) -> tuple[list[AdminProduct], int]:
    """Products matching the filters, sorted, one page."""
    query = select(Product)
    if status is not None:
        query = query.where(Product.status == status)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Product.name.ilike(pattern), Product.slug.ilike(pattern)))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = getattr(Product, sort.lstrip("-"))
    order = column.desc() if sort.startswith("-") else column.asc()
    products = await session.scalars(query.order_by(order, Product.id).limit(limit).offset(offset))
    return [await _product_out(session, product) for product in products], total


def _changed(product: Product) -> ProductChanged:
    return ProductChanged(product_id=product.id, slug=product.slug, status=product.status)


async def create(session: AsyncSession, data: ProductInput, principal: Principal | None) -> AdminProduct:
    """Create a product with its variants."""
    try:
        product = await create_product(session, data, actor_user_id=principal.user_id if principal else None)
        await emit(session, "product.created", _changed(product))
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise _conflict(exc) from None
    return await _product_out(session, product)


async def update_product(session: AsyncSession, product_id: UUID, data: ProductUpdate) -> AdminProduct:
    """Change a product's name, slug, description or status."""
    product = await session.get(Product, _key(session, product_id))
    if product is None:
        raise NotFound("no such product in this store")
    for field in ("name", "slug", "description", "status"):
        value = getattr(data, field)
        if value is not msgspec.UNSET:
            setattr(product, field, value)
    try:
        await session.flush()
        await emit(session, "product.updated", _changed(product))
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise _conflict(exc) from None
    return await _product_out(session, product)


async def add_variant(
    session: AsyncSession, product_id: UUID, data: VariantInput, principal: Principal | None
) -> AdminProduct:
    """Add a variant to a product."""
    product = await session.get(Product, _key(session, product_id))
    if product is None:
        raise NotFound("no such product in this store")
    position = await session.scalar(
        select(func.coalesce(func.max(ProductVariant.position) + 1, 0)).where(ProductVariant.product_id == product.id)
    )
    try:
        await add(
            session, product, data, position=position or 0, actor_user_id=principal.user_id if principal else None
        )
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise _conflict(exc) from None
    return await _product_out(session, product)


async def update_variant(
    session: AsyncSession, product_id: UUID, variant_id: UUID, data: VariantUpdate
) -> AdminProduct:
    """Change a variant's SKU, title, price, attributes or position."""
    variant = await session.get(ProductVariant, _key(session, variant_id))
    if variant is None or variant.product_id != product_id:
        raise NotFound("no such variant of this product in this store")
    for field in ("sku", "title", "price_minor", "attributes", "position", "weight_grams"):
        value = getattr(data, field)
        if value is not msgspec.UNSET:
            setattr(variant, field, value)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise _conflict(exc) from None
    product = await session.get(Product, _key(session, product_id))
    assert product is not None
    return await _product_out(session, product)


async def adjust_stock(
    session: AsyncSession, data: StockAdjustmentInput, principal: Principal | None
) -> StockAdjustmentOut:
    """Change a variant's stock on hand atomically (never below zero, never below what checkouts hold) and keep the
    change in the history."""
    if data.delta == 0:
        raise BusinessRuleError("delta must not be 0", errors=[FieldError("delta", "must not be 0")])
    result = await session.execute(
        update(ProductVariant)
        .where(
            ProductVariant.id == data.variant_id,
            ProductVariant.inventory + data.delta >= 0,
            ProductVariant.inventory + data.delta >= ProductVariant.reserved,
        )
        .values(inventory=ProductVariant.inventory + data.delta)
        .returning(ProductVariant.inventory)
    )
    inventory = result.scalar_one_or_none()
    if inventory is None:
        row = (
            await session.execute(
                select(ProductVariant.inventory, ProductVariant.reserved).where(ProductVariant.id == data.variant_id)
            )
        ).first()
        await session.rollback()
        if row is None:
            raise NotFound("no such variant in this store", errors=[FieldError("variant_id", "not found")])
        if row.inventory + data.delta < 0:
            raise BusinessRuleError(
                f"only {row.inventory} in stock: cannot remove {-data.delta}",
                errors=[FieldError("delta", "would make the stock negative")],
            )
        raise BusinessRuleError(
            f"{row.reserved} of the {row.inventory} in stock are held by checkouts awaiting payment: at most "
            f"{row.inventory - row.reserved} can be removed",
            errors=[FieldError("delta", "would remove stock that checkouts hold")],
        )
    adjustment = InventoryAdjustment(
        variant_id=data.variant_id,
        delta=data.delta,
        inventory_after=inventory,
        reason=data.reason,
        actor_user_id=principal.user_id if principal else None,
    )
    session.add(adjustment)
    await session.commit()
    return _adjustment_out(adjustment)


def _adjustment_out(row: InventoryAdjustment) -> StockAdjustmentOut:
    return StockAdjustmentOut(
        id=row.id,
        variant_id=row.variant_id,
        delta=row.delta,
        inventory_after=row.inventory_after,
        reason=row.reason,
        actor_user_id=row.actor_user_id,
        created_at=row.created_at,
    )


async def stock_history(
    session: AsyncSession, *, variant_id: UUID | None, limit: int, offset: int
) -> tuple[list[StockAdjustmentOut], int]:
    """Stock changes, newest first (of one variant, when given)."""
    query = select(InventoryAdjustment)
    if variant_id is not None:
        query = query.where(InventoryAdjustment.variant_id == variant_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(InventoryAdjustment.created_at.desc(), InventoryAdjustment.id.desc()).limit(limit).offset(offset)
    )
    return [_adjustment_out(row) for row in rows], total
