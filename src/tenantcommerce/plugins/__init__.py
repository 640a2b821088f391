"""What a plugin author imports: the hook marker, the providers' protocols and Structs, registrations, events.

See ``docs/plugins.md`` (the guide) and ``docs/hooks.md`` (every hook).
"""

from tenantcommerce import hookimpl
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.events import PluginToggled, ProductChanged, StoreCreated
from tenantcommerce.plugins.host import PluginHost, PluginInfo
from tenantcommerce.plugins.providers import (
    THEME_TEMPLATES,
    Address,
    LabelRequest,
    PaymentConfirmation,
    PaymentEvent,
    PaymentGateway,
    PaymentRequest,
    PaymentResult,
    RefundRequest,
    RefundResult,
    ShippingCarrier,
    ShippingLabel,
    ShippingLine,
    ShippingQuote,
    ShippingRequest,
    TaxCalculator,
    TaxComponent,
    TaxedLine,
    TaxLine,
    TaxRequest,
    TaxResult,
    Theme,
    WebhookRequest,
)
from tenantcommerce.plugins.registrations import ROUTE_PREFIXES, PeriodicJob, Routes
from tenantcommerce.plugins.types import CheckoutLine, CheckoutRejection, CheckoutSummary, StoreWarning

__all__ = [
    "ROUTE_PREFIXES",
    "THEME_TEMPLATES",
    "Address",
    "CheckoutLine",
    "CheckoutRejection",
    "CheckoutSummary",
    "LabelRequest",
    "PaymentConfirmation",
    "PaymentEvent",
    "PaymentGateway",
    "PaymentRequest",
    "PaymentResult",
    "PeriodicJob",
    "PluginContext",
    "PluginHost",
    "PluginInfo",
    "PluginToggled",
    "ProductChanged",
    "RefundRequest",
    "RefundResult",
    "Routes",
    "ShippingCarrier",
    "ShippingLabel",
    "ShippingLine",
    "ShippingQuote",
    "ShippingRequest",
    "StoreCreated",
    "StoreWarning",
    "TaxCalculator",
    "TaxComponent",
    "TaxLine",
    "TaxRequest",
    "TaxResult",
    "TaxedLine",
    "Theme",
    "WebhookRequest",
    "hookimpl",
]
