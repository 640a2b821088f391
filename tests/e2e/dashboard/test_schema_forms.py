"""Config forms generated from a plugin's settings JSON Schema, and the config read back from a form."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import pytest

from tenantcommerce.errors import InputError
from tenantcommerce.web.admin.schema_forms import config_from_form, form_fields, names_of, with_values


class Inner(msgspec.Struct, frozen=True):
    holder: str
    code: str | None = None


class Settings(msgspec.Struct, frozen=True):
    account: Inner | None = None
    enabled: bool = False
    mode: Literal["test", "live"] = "test"
    limit: Annotated[int, msgspec.Meta(ge=0)] = 10
    rate: float = 1.5
    note: str | None = None
    zones: list[str] = msgspec.field(default_factory=list)


SCHEMA = msgspec.json.schema(Settings)


def by_name(fields: list, name: str):  # type: ignore[no-untyped-def]
    for item in fields:
        if item.name == name:
            return item
        found = by_name(item.children, name)
        if found is not None:
            return found
    return None


def test_fields_follow_the_schema_and_the_config() -> None:
    fields = form_fields(SCHEMA, {"account": {"holder": "Ada"}, "enabled": True, "zones": ["EU"]})
    assert names_of(fields) == [
        "config.account.holder", "config.account.code", "config.enabled", "config.mode", "config.limit",
        "config.rate", "config.note", "config.zones",
    ]  # fmt: skip
    account = by_name(fields, "config.account")
    assert account.kind == "group"
    assert account.nullable
    assert by_name(fields, "config.account.holder").value == "Ada"
    assert by_name(fields, "config.account.holder").required
    assert by_name(fields, "config.enabled").checked
    mode = by_name(fields, "config.mode")
    assert (mode.kind, mode.options, mode.value) == ("select", ["live", "test"], "test")
    assert by_name(fields, "config.limit").kind == "integer"
    assert by_name(fields, "config.limit").value == "10"  # the default
    assert by_name(fields, "config.zones").kind == "json"
    assert by_name(fields, "config.zones").value.replace("\n", "").replace(" ", "") == '["EU"]'


def test_a_form_reads_back_into_a_config_the_struct_accepts() -> None:
    form = {
        "config.account.holder": "Ada",
        "config.enabled": "on",
        "config.mode": "live",
        "config.limit": "3",
        "config.rate": "2.5",
        "config.zones": '["EU", "US"]',
    }
    config = config_from_form(SCHEMA, form)
    assert config == {
        "account": {"holder": "Ada", "code": None}, "enabled": True, "mode": "live", "limit": 3, "rate": 2.5,
        "note": None, "zones": ["EU", "US"],
    }  # fmt: skip
    assert msgspec.convert(config, Settings).account == Inner(holder="Ada")


def test_an_empty_optional_object_is_null() -> None:
    config = config_from_form(SCHEMA, {"config.mode": "test"})
    assert config["account"] is None
    assert config["enabled"] is False
    assert "limit" not in config  # left empty: the default applies


@pytest.mark.parametrize(
    ("name", "value"), [("config.limit", "three"), ("config.rate", "x"), ("config.zones", "[not json")]
)
def test_unparseable_inputs_are_named(name: str, value: str) -> None:
    with pytest.raises(InputError) as raised:
        config_from_form(SCHEMA, {name: value})
    assert raised.value.errors[0].field == name


def test_a_re_rendered_form_keeps_what_was_typed() -> None:
    fields = with_values(form_fields(SCHEMA, {"enabled": True}), {"config.limit": "abc"})
    assert by_name(fields, "config.limit").value == "abc"
    assert not by_name(fields, "config.enabled").checked
