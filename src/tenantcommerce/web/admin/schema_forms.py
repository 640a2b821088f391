"""Forms generated from a plugin's settings JSON Schema (what ``msgspec.json.schema`` makes of its settings Struct),
and the config read back from a submitted form.

Objects become fieldsets (a nullable object is ``null`` when all its inputs are left empty), strings text inputs (a
``enum`` a select), integers and numbers number inputs, booleans checkboxes; anything else (arrays, maps, unions)
is edited as JSON in a textarea. Inputs are named by their path, ``config.bank_transfer.iban``, which is also how the
service names a field it refuses, so its message lands next to the input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tenantcommerce.errors import FieldError, InputError

ROOT = "config"


@dataclass
class FormField:
    """One input (or a fieldset of them) of a generated form."""

    name: str
    label: str
    kind: str
    """``text``, ``integer``, ``number``, ``checkbox``, ``select``, ``json`` or ``group``."""
    required: bool = False
    nullable: bool = False
    help: str | None = None
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)
    children: list[FormField] = field(default_factory=list)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}), root)
    return schema


def _unwrap(schema: Mapping[str, Any], root: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The schema without a ``null`` alternative, and whether ``null`` was allowed."""
    schema = _resolve(schema, root)
    options = schema.get("anyOf")
    if isinstance(options, list):
        rest = [option for option in options if option.get("type") != "null"]
        if len(rest) == 1 and len(rest) < len(options):
            inner = _resolve(rest[0], root)
            merged = {**inner, "description": inner.get("description") or schema.get("description")}
            return merged, True
    return schema, False


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _kind(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "select"
    kind = schema.get("type")
    if kind == "object" and isinstance(schema.get("properties"), dict):
        return "group"
    if kind in ("string", "integer", "number"):
        return "text" if kind == "string" else kind
    if kind == "boolean":
        return "checkbox"
    return "json"


def form_fields(schema: Mapping[str, Any], config: Mapping[str, Any]) -> list[FormField]:
    """The inputs of ``schema``'s object, filled with ``config``."""
    return _children(_resolve(schema, schema), schema, config, ROOT)


def _children(obj: Mapping[str, Any], root: Mapping[str, Any], values: Any, path: str) -> list[FormField]:
    values = values if isinstance(values, Mapping) else {}
    required = set(obj.get("required", []))
    fields: list[FormField] = []
    for name, prop in obj.get("properties", {}).items():
        inner, nullable = _unwrap(prop, root)
        kind = _kind(inner)
        current = values.get(name, inner.get("default", prop.get("default")))
        item = FormField(
            name=f"{path}.{name}",
            label=str(inner.get("title") if kind != "group" and inner.get("title") else _label(name)),
            kind=kind,
            required=name in required and not nullable,
            nullable=nullable,
            help=inner.get("description") if kind != "group" else None,
        )
        if kind == "group":
            item.children = _children(inner, root, current, item.name)
        elif kind == "checkbox":
            item.checked = current is True
        elif kind == "json":
            item.value = "" if current is None else json.dumps(current, indent=2)
        else:
            item.value = "" if current is None else str(current)
            if kind == "select":
                item.options = [str(option) for option in inner["enum"]]
        fields.append(item)
    return fields


def with_values(fields: list[FormField], form: Mapping[str, str]) -> list[FormField]:
    """``fields`` showing what was submitted (a re-rendered form keeps what was typed)."""
    for item in fields:
        if item.kind == "group":
            with_values(item.children, form)
        elif item.kind == "checkbox":
            item.checked = form.get(item.name) == "on"
        else:
            item.value = form.get(item.name, "")
    return fields


def config_from_form(schema: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The config a submitted form describes (validated by the plugin's service afterwards, not here).

    Raises:
        InputError: a number or JSON input that does not parse (named by its input).
    """
    value = _read(form_fields(schema, {}), form)
    return value if isinstance(value, dict) else {}


def _read(fields: list[FormField], form: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in fields:
        if item.kind == "group":
            inner = _read(item.children, form)
            if item.nullable and not any(value not in (None, False) for value in inner.values()):
                data[_key(item)] = None
            else:
                data[_key(item)] = inner
            continue
        if item.kind == "checkbox":
            data[_key(item)] = form.get(item.name) == "on"
            continue
        text = form.get(item.name, "").strip()
        if not text:
            if item.nullable:
                data[_key(item)] = None
            continue
        data[_key(item)] = _parse(item, text)
    return data


def _key(item: FormField) -> str:
    return item.name.rsplit(".", 1)[-1]


def _parse(item: FormField, text: str) -> Any:
    try:
        if item.kind == "integer":
            return int(text)
        if item.kind == "number":
            return float(text)
        if item.kind == "json":
            return json.loads(text)
    except (ValueError, RecursionError):
        message = {"integer": "enter a whole number", "number": "enter a number"}.get(item.kind, "enter valid JSON")
        raise InputError(f"{item.name}: {message}", errors=[FieldError(item.name, message)]) from None
    return text


def names_of(fields: list[FormField]) -> list[str]:
    """Every input name of ``fields`` (for placing error messages)."""
    names: list[str] = []
    for item in fields:
        names.extend(names_of(item.children) if item.kind == "group" else [item.name])
    return names
