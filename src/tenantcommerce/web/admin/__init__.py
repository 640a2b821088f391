"""The admin dashboard: server-rendered pages at ``/admin/{slug}/`` over the same services and guards as the JSON
admin API (see ``docs/dashboard.md``).

Errors on these pages are pages too: not signed in redirects to the sign-in page, a store the caller is no member of
(or a missing order or product) is a 404 page, a permission the member lacks a 403 page.
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response, Router
from litestar.exceptions import HTTPException
from litestar.response import Redirect

from tenantcommerce.errors import AuthenticationRequired, TenantCommerceError
from tenantcommerce.web.admin.auth import DashboardAuthController
from tenantcommerce.web.admin.customers import CustomersPagesController
from tenantcommerce.web.admin.discounts import DiscountsPagesController
from tenantcommerce.web.admin.orders import OrdersPagesController
from tenantcommerce.web.admin.overview import OverviewController
from tenantcommerce.web.admin.pages import error_status, html, see_other, sign_in_url
from tenantcommerce.web.admin.products import ProductImagesPagesController, ProductsPagesController
from tenantcommerce.web.admin.settings import SettingsPagesController
from tenantcommerce.web.admin.static import admin_static
from tenantcommerce.web.admin.team import AuditPagesController, MembersPagesController, TokensPagesController

__all__ = ["admin_static", "dashboard_router"]

_log = structlog.get_logger("tenantcommerce.web.admin")


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any] | Redirect:
    if isinstance(exc, AuthenticationRequired):
        return see_other(sign_in_url(request))
    status, message = error_status(exc)
    if status == 500:
        _log.error("dashboard error", path=request.url.path, error=type(exc).__name__, exc_info=exc)
        message = "something went wrong on our side; it has been logged"
    headers = getattr(exc, "headers", None) or {}
    page = html(request, "error.html", {"status": status, "message": message}, status=status)
    page.headers.update(headers)
    return page


dashboard_router = Router(
    path="/",
    route_handlers=[
        DashboardAuthController,
        OverviewController,
        OrdersPagesController,
        ProductsPagesController,
        ProductImagesPagesController,
        CustomersPagesController,
        DiscountsPagesController,
        SettingsPagesController,
        MembersPagesController,
        TokensPagesController,
        AuditPagesController,
    ],
    exception_handlers={TenantCommerceError: _error_page, HTTPException: _error_page, Exception: _error_page},
    include_in_schema=False,
)
"""Every page of the dashboard (``/admin/...``)."""
