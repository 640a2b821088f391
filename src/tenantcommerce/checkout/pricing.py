"""The one totals pipeline: subtotal -> discounts -> shipping -> tax -> total.

Pure except for the tax call, which is passed in. A discount off the subtotal is spread over the lines in proportion
to their subtotals (largest remainder, so the shares add up exactly), and tax is computed on what each line costs
after its share.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from tenantcommerce.checkout.schemas import LineSnapshot, PricedLine, Totals
from tenantcommerce.errors import PluginError
from tenantcommerce.plugins.providers import Address, TaxLine, TaxRequest, TaxResult

TaxCall = Callable[[TaxRequest], Awaitable[TaxResult]]


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` (0 <= amount <= sum(weights)) over ``weights`` in proportion, by largest remainder.

    The shares add up to ``amount`` exactly and no share exceeds its weight.
    """
    total = sum(weights)
    if amount < 0 or amount > total:
        raise ValueError(f"cannot spread {amount} over weights summing to {total}")
    if total == 0:
        return [0 for _ in weights]
    shares = [amount * weight // total for weight in weights]
    remainders = sorted(range(len(weights)), key=lambda index: (-(amount * weights[index] % total), index))
    for index in remainders[: amount - sum(shares)]:
        shares[index] += 1
    return shares


async def price(
    lines: Sequence[LineSnapshot],
    currency: str,
    *,
    discount_minor: int = 0,
    free_shipping: bool = False,
    shipping_minor: int | None = None,
    destination: Address | None = None,
    tax: TaxCall | None = None,
    tax_plugin_id: str = "tax",
) -> Totals:
    """Run the pipeline.

    Args:
        lines: the checkout's lines.
        currency: the store's currency.
        discount_minor: taken off the subtotal (capped at it).
        free_shipping: the discount makes shipping free.
        shipping_minor: the chosen quote's amount (``None``: not chosen yet, counts 0).
        destination: where the order goes; tax needs it.
        tax: the store's tax calculator's ``calculate`` (``None``: no tax).
        tax_plugin_id: named in the error when the calculator answers with other lines than it was asked.
    """
    subtotals = [line.unit_price_minor * line.qty for line in lines]
    subtotal = sum(subtotals)
    discount = min(max(discount_minor, 0), subtotal)
    shares = allocate(discount, subtotals)
    shipping = 0 if free_shipping or shipping_minor is None else shipping_minor
    taxes = {str(line.variant_id): 0 for line in lines}
    shipping_tax = 0
    prices_include_tax = False
    if tax is not None and destination is not None and lines:
        request = TaxRequest(
            currency=currency,
            destination=destination,
            lines=[
                TaxLine(key=str(line.variant_id), sku=line.sku, quantity=line.qty, amount_minor=amount - share)
                for line, amount, share in zip(lines, subtotals, shares, strict=True)
            ],
            shipping_minor=shipping,
        )
        result = await tax(request)
        answered = {taxed.key: taxed.tax_minor for taxed in result.lines}
        if set(answered) != set(taxes):
            raise PluginError("the tax calculator answered for other lines than it was asked", plugin_id=tax_plugin_id)
        taxes = answered
        shipping_tax = result.shipping_tax_minor
        prices_include_tax = result.prices_include_tax
    tax_total = sum(taxes.values()) + shipping_tax
    total = subtotal - discount + shipping + (0 if prices_include_tax else tax_total)
    return Totals(
        currency=currency,
        subtotal_minor=subtotal,
        discount_minor=discount,
        shipping_minor=shipping,
        tax_minor=tax_total,
        total_minor=total,
        prices_include_tax=prices_include_tax,
        shipping_tax_minor=shipping_tax,
        free_shipping=free_shipping,
        lines=[
            PricedLine(
                variant_id=line.variant_id,
                sku=line.sku,
                qty=line.qty,
                unit_price_minor=line.unit_price_minor,
                subtotal_minor=amount,
                discount_minor=share,
                tax_minor=taxes[str(line.variant_id)],
            )
            for line, amount, share in zip(lines, subtotals, shares, strict=True)
        ],
    )
