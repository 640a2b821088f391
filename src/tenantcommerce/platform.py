"""Platform endpoints: ``/health``, ``/ready`` and ``/metrics`` (operators only)."""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tenantcommerce.auth.sessions import ANONYMOUS_OPT
from tenantcommerce.errors import AuthenticationRequired, PermissionDenied, TenantCommerceError, problem_responses
from tenantcommerce.runtime import Runtime


class Health(msgspec.Struct, frozen=True):
    """Liveness or readiness."""

    status: str


class NotReady(TenantCommerceError):
    """503: the database does not answer."""

    status_code = 503
    kind = "not-ready"
    title = "Not ready"


@get("/health", summary="Liveness", tags=["platform"], opt={ANONYMOUS_OPT: True})
async def health() -> Health:
    """The process answers (no database round trip)."""
    return Health(status="ok")


@get("/ready", summary="Readiness", tags=["platform"], responses=problem_responses(503), opt={ANONYMOUS_OPT: True})
async def ready(runtime: NamedDependency[Runtime]) -> Health:
    """The database answers."""
    try:
        await runtime.database.ping()
    except Exception as exc:
        raise NotReady(f"the database does not answer: {type(exc).__name__}") from exc
    return Health(status="ready")


@get(
    "/metrics",
    summary="Prometheus metrics",
    include_in_schema=False,
    media_type=MediaType.TEXT,
    opt={ANONYMOUS_OPT: True},
)
async def metrics(request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[bytes]:
    """Metrics for operators, with ``Authorization: Bearer <TC_METRICS_TOKEN>``."""
    token = runtime.settings.metrics_token
    if token is None:
        raise PermissionDenied("metrics are disabled: set TC_METRICS_TOKEN and send it as a bearer token")
    sent = request.headers.get("authorization", "")
    if not sent.startswith("Bearer "):
        raise AuthenticationRequired("send Authorization: Bearer <TC_METRICS_TOKEN>")
    if not hmac.compare_digest(sent.removeprefix("Bearer ").encode(), token.encode()):
        raise PermissionDenied("the metrics token is wrong")
    # CONTENT_TYPE_LATEST carries its own charset; pass it as the header so Litestar does not add a second one.
    return Response(generate_latest(runtime.metrics.registry), headers={"content-type": CONTENT_TYPE_LATEST})
