"""The hook specs themselves, by introspection: every hook is typed, documented, of the kind its name says, and
every event hook has the event that feeds it."""

from __future__ import annotations

import ast
import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from tenantcommerce.plugins import specs
from tenantcommerce.plugins.events import EVENT_KINDS
from tenantcommerce.plugins.host import HOOK_NAMES, hook_kind

SPEC_MARKER = "tenantcommerce_spec"


def hook(name: str) -> Callable[..., Any]:
    function: Callable[..., Any] = getattr(specs, name)
    return function


def type_checking_namespace() -> dict[str, Any]:
    """The names of ``specs`` plus those it imports under ``if TYPE_CHECKING:`` (so string annotations resolve)."""
    namespace = dict(vars(specs))
    tree = ast.parse(inspect.getsource(specs))
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            block = ast.Module(body=node.body, type_ignores=[])
            exec(compile(block, specs.__file__, "exec"), namespace)  # noqa: S102 (the module's own imports)
    return namespace


def docstring_sections(function: Callable[..., Any]) -> dict[str, list[str]]:
    """Google-style sections of the docstring (``Args``, ``Returns``, ...) -> their indented lines."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in (inspect.getdoc(function) or "").splitlines():
        header = re.fullmatch(r"(\w+):", line)
        if header:
            current = header.group(1)
            sections[current] = []
        elif current is not None and line.startswith("    "):
            sections[current].append(line)
        elif line.strip():
            current = None
    return sections


def documented_args(function: Callable[..., Any]) -> list[str]:
    return [
        match.group(1)
        for line in docstring_sections(function).get("Args", [])
        if (match := re.match(r"    (\w+)(?: \([^)]*\))?:", line))
    ]


def test_hook_names_are_exactly_the_marked_specs() -> None:
    marked = sorted(name for name, value in vars(specs).items() if callable(value) and hasattr(value, SPEC_MARKER))

    assert list(HOOK_NAMES) == marked
    assert all(name.startswith("tc_") for name in marked)
    assert {hook_kind(name) for name in HOOK_NAMES} == {"register", "decide", "collect", "event"}


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_parameter_and_the_result_of_every_hook_are_annotated_with_resolvable_types(name: str) -> None:
    signature = inspect.signature(hook(name))

    unannotated = [p.name for p in signature.parameters.values() if p.annotation is inspect.Parameter.empty]
    assert unannotated == [], f"{name}: parameters without a type"
    assert signature.return_annotation is not inspect.Signature.empty, f"{name}: no return type"
    hints = typing.get_type_hints(hook(name), globalns=type_checking_namespace())
    assert set(hints) == {*signature.parameters, "return"}


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_documents_each_of_its_parameters(name: str) -> None:
    function = hook(name)
    parameters = list(inspect.signature(function).parameters)

    assert inspect.getdoc(function), f"{name} has no docstring"
    assert documented_args(function) == parameters, f"{name}: the Args section must name each parameter in order"


@pytest.mark.parametrize("name", [name for name in HOOK_NAMES if hook_kind(name) in ("decide", "collect")])
def test_every_hook_with_a_result_documents_it(name: str) -> None:
    assert docstring_sections(hook(name)).get("Returns"), f"{name}: no Returns section"


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_the_signature_matches_the_kind(name: str) -> None:
    function = hook(name)
    parameters = list(inspect.signature(function).parameters)
    kind = hook_kind(name)

    if kind == "register":
        assert parameters == ["register"]
        assert not inspect.iscoroutinefunction(function), f"{name}: register hooks are plain functions"
    else:
        assert parameters[0] == "ctx", f"{name}: ctx comes first"
        assert parameters[-1] == "plugin", f"{name}: plugin comes last"
        assert inspect.iscoroutinefunction(function), f"{name}: per-call hooks are async"
    if kind in ("register", "event"):
        assert inspect.signature(function).return_annotation == "None"


@pytest.mark.parametrize("name", [name for name in HOOK_NAMES if hook_kind(name) == "event"])
def test_every_event_hook_is_fed_by_an_event_whose_payload_is_its_argument(name: str) -> None:
    kinds = [kind for kind in EVENT_KINDS.values() if kind.hook == name]
    assert len(kinds) == 1, f"{name}: expected exactly one event kind, found {kinds}"
    kind = kinds[0]

    hints = typing.get_type_hints(hook(name), globalns=type_checking_namespace())
    assert hints[kind.argument] is kind.payload


@pytest.mark.parametrize("event", sorted(EVENT_KINDS))
def test_every_event_names_an_event_hook_and_carries_a_frozen_struct(event: str) -> None:
    kind = EVENT_KINDS[event]

    assert kind.name == event
    assert kind.hook in HOOK_NAMES
    assert hook_kind(kind.hook) == "event"
    assert issubclass(kind.payload, msgspec.Struct)
    assert kind.payload.__struct_config__.frozen
