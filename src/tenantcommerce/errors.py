"""One exception tree, and one mapping from it (and from Litestar's own errors) to problem+json (RFC 9457).

Every error answer has ``type``, ``title``, ``status`` and a ``detail`` that says what to fix; input errors add
``errors: [{"field": ..., "message": ...}]``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

import asyncpg
import msgspec
import structlog
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from litestar import Request, Response

PROBLEM_TYPE_PREFIX = "urn:tenantcommerce:problem:"

_log = structlog.get_logger("tenantcommerce.errors")


class FieldError(msgspec.Struct, frozen=True):
    """One field of the input and what is wrong with it."""

    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An error answer (``application/problem+json``), as documented in the OpenAPI schema."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = msgspec.field(default_factory=list)


_RESPONSE_DESCRIPTIONS = {
    400: "The request does not match the schema; `errors` names each field.",
    401: "Sign in or send a valid token.",
    403: "Not allowed, or the store is suspended.",
    404: "Missing, or another store's (never told apart).",
    409: "Conflict: duplicate, illegal transition or idempotency-key reuse.",
    413: "The upload is larger than the limit the answer names.",
    415: "The upload is not of an accepted type.",
    422: "Well-formed but not allowed by a business rule; `errors` names each field.",
    502: "A plugin (payment, shipping or tax provider) failed; the answer names it.",
    504: "A plugin took too long; the answer names it.",
    503: "Not ready.",
}


def problem_responses(*status_codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the problem+json answers a handler can give."""
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=_RESPONSE_DESCRIPTIONS.get(code, "Error"),
            media_type="application/problem+json",
            generate_examples=False,
        )
        for code in status_codes
    }


class TenantCommerceError(Exception):
    """Base of every error tenantcommerce raises on purpose."""

    status_code: ClassVar[int] = 500
    kind: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    def to_problem(self) -> ProblemDetailsException:
        """The problem+json exception Litestar renders for this error."""
        extra: dict[str, Any] = {}
        if self.errors:
            extra["errors"] = [msgspec.to_builtins(error) for error in self.errors]
        return ProblemDetailsException(
            detail=self.detail,
            status_code=self.status_code,
            type_=PROBLEM_TYPE_PREFIX + self.kind,
            title=self.title,
            extra=extra or None,
        )


class SettingsError(TenantCommerceError):
    """A ``TC_*`` variable is missing or malformed; raised at start-up."""

    kind = "settings"
    title = "Invalid settings"


class DatabaseSetupError(TenantCommerceError):
    """The database is not ready to serve: out-of-date schema, unsafe role, missing roles."""

    kind = "database-setup"
    title = "Database not ready"


class IsolationError(TenantCommerceError):
    """Code touched store data without a store in context (a programming error, never the client's)."""

    kind = "isolation"
    title = "Store isolation violated"


class InputError(TenantCommerceError):
    """400: the request does not match the schema (types, required fields, bounds)."""

    status_code = 400
    kind = "invalid-input"
    title = "Invalid input"


class AuthenticationRequired(TenantCommerceError):
    """401: sign in or send a valid token."""

    status_code = 401
    kind = "authentication-required"
    title = "Authentication required"


class PermissionDenied(TenantCommerceError):
    """403: signed in, but not allowed."""

    status_code = 403
    kind = "permission-denied"
    title = "Permission denied"


class StoreSuspended(PermissionDenied):
    """403: the store exists but is suspended."""

    kind = "store-suspended"
    title = "Store suspended"


class NotFound(TenantCommerceError):
    """404: missing, or belonging to another store (the two are never told apart)."""

    status_code = 404
    kind = "not-found"
    title = "Not found"


class StoreNotFound(NotFound):
    """404: no store answers to this host or slug."""

    kind = "store-not-found"
    title = "Store not found"


class Conflict(TenantCommerceError):
    """409: duplicate, illegal state transition, idempotency-key reuse."""

    status_code = 409
    kind = "conflict"
    title = "Conflict"


class BusinessRuleError(TenantCommerceError):
    """422: well-formed, but not allowed by a business rule."""

    status_code = 422
    kind = "unprocessable"
    title = "Not allowed by a business rule"


class PluginSetupError(TenantCommerceError):
    """A plugin cannot be loaded: a misspelt hook, a sync implementation of an async hook, a duplicate id."""

    kind = "plugin-setup"
    title = "Plugin setup failed"


class PluginError(TenantCommerceError):
    """502: a plugin (a payment gateway, a carrier, a tax calculator, a hook) failed; the detail names it."""

    status_code = 502
    kind = "plugin-failed"
    title = "A plugin failed"

    def __init__(self, detail: str, *, plugin_id: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors=errors)
        self.plugin_id = plugin_id


class PluginTimeout(PluginError):
    """504: a plugin did not answer within ``TC_PLUGIN_TIMEOUT``."""

    status_code = 504
    kind = "plugin-timeout"
    title = "A plugin did not answer in time"


_STATUS_KINDS = {
    400: ("invalid-input", "Invalid input"),
    401: ("authentication-required", "Authentication required"),
    403: ("permission-denied", "Permission denied"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("unprocessable", "Not allowed by a business rule"),
    429: ("too-many-requests", "Too many requests"),
}


_NAMED_FIELD = re.compile(r"field `([^`]+)`")
_AT_PATH = re.compile(r"- at (?:`key` in )?`\$\.?([^`]*)`")


def _field_of(item: dict[str, Any]) -> str:
    """The field an error is about: msgspec names it in the message (``... field `email``` / ``- at `$.a.b```);
    Litestar's ``key`` is only the parameter (``data`` for the whole body)."""
    message = str(item.get("message", ""))
    path = _AT_PATH.search(message)
    named = _NAMED_FIELD.search(message)
    parts = [part for part in (path.group(1) if path else "", named.group(1) if named else "") if part]
    if parts:
        return ".".join(parts)
    key = item.get("key")
    if key and key != "data":
        return str(key)
    return "body"


def _message_of(item: dict[str, Any]) -> str:
    return _AT_PATH.sub("", str(item.get("message", "invalid value"))).strip()


def field_errors_of(message: str) -> list[FieldError]:
    """A msgspec validation message as field errors (``Expected int, got str - at `$.rate``` -> ``rate``)."""
    item = {"message": message}
    return [FieldError(field=_field_of(item), message=_message_of(item))]


def _from_validation(exc: ValidationException) -> ProblemDetailsException:
    errors: list[dict[str, str]] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            errors.append({"field": _field_of(item), "message": _message_of(item)})
    detail = exc.detail or "The request does not match the schema"
    if errors:
        detail = "The request does not match the schema: " + "; ".join(
            f"{error['field']}: {error['message']}" for error in errors
        )
    return ProblemDetailsException(
        detail=detail,
        status_code=400,
        type_=PROBLEM_TYPE_PREFIX + "invalid-input",
        title="Invalid input",
        extra={"errors": errors or [{"field": "body", "message": detail}]},
        headers=exc.headers,
    )


def problem_of_http(exc: HTTPException) -> ProblemDetailsException:
    """The problem+json of a Litestar HTTP error (validation errors name their fields), as the API answers it."""
    if isinstance(exc, ProblemDetailsException):
        return exc
    if isinstance(exc, ValidationException):
        return _from_validation(exc)
    kind, title = _STATUS_KINDS.get(exc.status_code, ("http-error", "HTTP error"))
    if exc.status_code >= 500:
        kind, title = "internal-error", "Internal error"
    extra = {"errors": [{"field": "body", "message": exc.detail}]} if exc.status_code == 400 else None
    return ProblemDetailsException(
        detail=exc.detail,
        status_code=exc.status_code,
        type_=PROBLEM_TYPE_PREFIX + kind,
        title=title,
        headers=exc.headers,
        extra=extra,
    )


# Postgres refuses these characters (NUL above all) in text: the client's input, never a server fault.
_UNSTORABLE_TEXT = {"22021", "22P05"}


def _from_database(exc: Exception) -> ProblemDetailsException:
    orig = getattr(exc, "orig", exc)
    sqlstate = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    if sqlstate in _UNSTORABLE_TEXT:
        detail = "the request contains characters that cannot be stored (such as NUL): remove them"
        return ProblemDetailsException(
            detail=detail,
            status_code=400,
            type_=PROBLEM_TYPE_PREFIX + "invalid-input",
            title="Invalid input",
            extra={"errors": [{"field": "body", "message": detail}]},
        )
    _log.error("database error", error=type(orig).__name__, sqlstate=sqlstate, detail=str(orig).splitlines()[0])
    return ProblemDetailsException(
        detail="The server could not complete the request; it has been logged.",
        status_code=500,
        type_=PROBLEM_TYPE_PREFIX + "internal-error",
        title="Internal error",
    )


def _from_ours(exc: TenantCommerceError) -> ProblemDetailsException:
    if exc.status_code == 500:
        _log.error("internal error", error=type(exc).__name__, detail=exc.detail)
        return ProblemDetailsException(
            detail="The server could not complete the request; it has been logged.",
            status_code=500,
            type_=PROBLEM_TYPE_PREFIX + "internal-error",
            title="Internal error",
        )
    return exc.to_problem()


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    _log.exception("unhandled error", path=request.url.path)
    return ProblemDetailsException(
        detail="The server could not complete the request; it has been logged.",
        status_code=500,
        type_=PROBLEM_TYPE_PREFIX + "internal-error",
        title="Internal error",
    ).to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    """Litestar's problem-details plugin, configured with our single mapping."""
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                HTTPException: problem_of_http,
                TenantCommerceError: _from_ours,
                DBAPIError: _from_database,
                asyncpg.PostgresError: _from_database,
            }
        )
    )


exception_handlers = {Exception: _unexpected}
"""Handlers for what the problem-details plugin does not map: an unexpected exception is a logged 500."""
