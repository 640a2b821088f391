"""Stripe's wire format: bracket-notation form bodies, parameter schemas and the error shape."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

Kind = Literal["string", "integer", "boolean", "metadata", "object", "list"]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class StripeApiError(Exception):
    """An error answered in Stripe's shape: ``{"error": {"type", "code", "param", "message", ...}}``.

    ``replayable`` is false for errors raised before an endpoint started executing (bad auth, parameter validation):
    like Stripe, the fake does not save those under an ``Idempotency-Key``.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        replayable: bool = True,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.replayable = replayable
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The JSON body Stripe answers with."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, code: str | None = None, param: str | None = None) -> StripeApiError:
    """A 400 ``invalid_request_error`` raised by parameter validation (never saved for idempotent replay)."""
    return StripeApiError(400, message, code=code, param=param, replayable=False)


def parse_form(body: str) -> dict[str, Any]:
    """Decode a form body in Stripe's bracket notation.

    ``a[b][c]=v`` gives nested dicts, ``a[]=v`` appends to a list, and a dict whose keys are all ``0..n-1`` (what the
    stripe library sends for lists: ``a[0]=x&a[1]=y``) becomes a list, except under ``metadata`` (whose keys are free).
    """
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True, strict_parsing=False):
        match = _KEY.match(raw_key)
        if match is None:
            raise invalid(f"Invalid parameter name: {raw_key}", param=raw_key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(node, list):
                if part != "":
                    raise invalid(f"Invalid array: {raw_key}", param=raw_key)
                if last:
                    node.append(value)
                else:
                    child: dict[str, Any] = {}
                    node.append(child)
                    node = child
                continue
            if last:
                if parts[index] == "":
                    raise invalid(f"Invalid parameter name: {raw_key}", param=raw_key)
                if part in node and isinstance(node[part], dict | list):
                    raise invalid(f"Invalid {raw_key}: cannot be both a value and an object", param=raw_key)
                node[part] = value
                continue
            nxt = parts[index + 1]
            existing = node.get(part)
            if existing is None:
                existing = [] if nxt == "" else {}
                node[part] = existing
            elif not isinstance(existing, dict | list):
                raise invalid(f"Invalid {raw_key}: cannot be both a value and an object", param=raw_key)
            node = existing
    return {key: (value if key == "metadata" else _listify(value)) for key, value in root.items()}


def _listify(value: Any) -> Any:
    if isinstance(value, list):
        return [_listify(item) for item in value]
    if isinstance(value, dict):
        converted = {key: _listify(item) for key, item in value.items()}
        if converted and all(key.isdigit() for key in converted):
            indexes = sorted(int(key) for key in converted)
            if indexes == list(range(len(indexes))):
                return [converted[str(i)] for i in indexes]
        return converted
    return value


@dataclass(frozen=True)
class Param:
    """One parameter of an endpoint: its kind, whether it is required, allowed values, and children for objects."""

    kind: Kind = "string"
    required: bool = False
    choices: tuple[str, ...] | None = None
    children: Mapping[str, Param] = field(default_factory=dict)
    item: Param | None = None


def validate(params: Mapping[str, Any], spec: Mapping[str, Param]) -> dict[str, Any]:
    """Check ``params`` against ``spec`` and return them typed (integers and booleans converted).

    Raises ``parameter_unknown`` for a name the spec lacks and ``parameter_missing`` for a required one left out,
    each naming the parameter in bracket notation as Stripe does.
    """
    return _validate_object(params, spec, prefix="")


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def _validate_object(params: Mapping[str, Any], spec: Mapping[str, Param], *, prefix: str) -> dict[str, Any]:
    for key in params:
        if key not in spec:
            name = _name(prefix, key)
            raise invalid(f"Received unknown parameter: {name}", code="parameter_unknown", param=name)
    out: dict[str, Any] = {}
    for key, param in spec.items():
        name = _name(prefix, key)
        if key not in params:
            if param.required:
                raise invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)
            continue
        out[key] = _validate_value(params[key], param, name=name)
    return out


def _validate_value(value: Any, param: Param, *, name: str) -> Any:
    if param.kind == "object":
        if not isinstance(value, Mapping):
            raise invalid(f"Invalid object: {name} must be an object", param=name)
        return _validate_object(value, param.children, prefix=name)
    if param.kind == "metadata":
        if value == "":
            return {}
        if not isinstance(value, Mapping):
            raise invalid(f"Invalid object: {name} must be an object", param=name)
        if len(value) > 50:
            raise invalid("Metadata can have at most 50 keys.", param=name)
        for key, item in value.items():
            if not isinstance(item, str):
                raise invalid(f"Invalid value for {name}[{key}]: must be a string", param=f"{name}[{key}]")
            if len(key) > 40 or len(item) > 500:
                raise invalid(
                    "Metadata keys are limited to 40 characters and values to 500 characters.", param=f"{name}[{key}]"
                )
        return dict(value)
    if param.kind == "list":
        if not isinstance(value, list):
            raise invalid(f"Invalid array: {name} must be an array", param=name)
        item = param.item or Param()
        return [_validate_value(entry, item, name=f"{name}[{i}]") for i, entry in enumerate(value)]
    if not isinstance(value, str):
        raise invalid(f"Invalid {param.kind}: {name} must be a {param.kind}", param=name)
    if param.required and value == "":
        raise invalid(
            f"You passed an empty string for '{name}'. We assume empty values are an attempt to unset a parameter; "
            f"however '{name}' cannot be unset. You should remove '{name}' from your request or supply a non-empty "
            "value.",
            code="parameter_invalid_empty",
            param=name,
        )
    if param.kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            raise invalid(f"Invalid integer: {value}", code="parameter_invalid_integer", param=name)
        return int(value)
    if param.kind == "boolean":
        if value not in ("true", "false"):
            raise invalid(f"Invalid boolean: {value}", param=name)
        return value == "true"
    if param.choices is not None and value not in param.choices:
        raise invalid(f"Invalid {name}: must be one of {', '.join(param.choices)}", param=name)
    return value
