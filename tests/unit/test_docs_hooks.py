"""docs/hooks.md documents every hook with its exact signature and each argument, every event, every provider
method, and every field of the Structs plugins receive and return (like datasette's ``test_docs.py``).

Each documented thing has a heading whose text is its name in backticks (``### `tc_check_checkout` ``). A hook's or a
protocol's section holds a Python block with its signature, checked against the code, and a table with a row per
argument, member or field (``| `checkout` | ... |``).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

from tenantcommerce.auth.mailer import EmailMessage
from tenantcommerce.plugins import events, providers, registrations, specs, types
from tenantcommerce.plugins.context import PluginContext
from tenantcommerce.plugins.host import hook_kind
from tenantcommerce.tenancy.context import StoreContext

HOOKS_MD = Path(__file__).parents[2] / "docs" / "hooks.md"

HOOKS = sorted(name for name, value in vars(specs).items() if name.startswith("tc_") and inspect.isfunction(value))
KIND_HEADINGS = {
    "register": "Register hooks",
    "decide": "Decide hooks",
    "collect": "Collect hooks",
    "event": "Event hooks",
}
PROTOCOLS = (providers.PaymentGateway, providers.ShippingCarrier, providers.TaxCalculator, providers.Theme)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*(\w*)")


@dataclass(frozen=True)
class Section:
    """A heading of the page and its text, up to the next heading of the same or a higher level."""

    level: int
    title: str
    body: str

    def python_blocks(self) -> list[str]:
        """The Python code blocks of the section."""
        return re.findall(r"^```python\n(.*?)^```", self.body, flags=re.MULTILINE | re.DOTALL)

    def described(self) -> set[str]:
        """Names in the first column of the section's tables (``| `name` | ... |``)."""
        return set(re.findall(r"^\|\s*`([^`]+)`\s*\|", self.body, flags=re.MULTILINE))


def parse_sections(markdown: str) -> dict[str, Section]:
    """Sections by title (the heading's text without backticks). Headings inside code blocks do not count."""
    lines = markdown.splitlines()
    headings: list[tuple[int, int, str]] = []  # line index, level, title
    fence: str | None = None
    for index, line in enumerate(lines):
        opened = _FENCE.match(line)
        if opened:
            marker = opened.group(1)
            if fence is None:
                fence = marker[:3]
            elif marker.startswith(fence):
                fence = None
            continue
        heading = _HEADING.match(line) if fence is None else None
        if heading:
            headings.append((index, len(heading.group(1)), heading.group(2).replace("`", "").strip()))
    sections: dict[str, Section] = {}
    for position, (index, level, title) in enumerate(headings):
        end = next((i for i, lv, _ in headings[position + 1 :] if lv <= level), len(lines))
        assert title not in sections, f"docs/hooks.md has two sections called {title!r}"
        sections[title] = Section(level, title, "\n".join(lines[index + 1 : end]) + "\n")
    return sections


@pytest.fixture(scope="module")
def sections() -> dict[str, Section]:
    return parse_sections(HOOKS_MD.read_text(encoding="utf-8"))


def section_of(sections: dict[str, Section], name: str) -> Section:
    assert name in sections, f"docs/hooks.md has no section `{name}` (a heading ### `{name}`)"
    return sections[name]


def normalized(annotation: Any) -> str:
    """An annotation as source text, spelled one way (the code's annotations are strings: postponed evaluation)."""
    if annotation is inspect.Parameter.empty:
        return ""
    text = annotation if isinstance(annotation, str) else ast.unparse(annotation)
    return ast.unparse(ast.parse(text, mode="eval"))


def documented_functions(section: Section) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions defined in the section's Python blocks (top level and in classes), by name."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for block in section.python_blocks():
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found[node.name] = node
    return found


def documented_signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[bool, list[tuple[str, str]], str]:
    """``(is async, [(argument, annotation)], return annotation)`` of a documented function."""
    arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    pairs = [(arg.arg, normalized(arg.annotation) if arg.annotation else "") for arg in arguments]
    returns = normalized(node.returns) if node.returns else ""
    return isinstance(node, ast.AsyncFunctionDef), pairs, returns


def code_signature(function: Any) -> tuple[bool, list[tuple[str, str]], str]:
    """The same triple for a function of the code."""
    signature = inspect.signature(function)
    pairs = [(name, normalized(parameter.annotation)) for name, parameter in signature.parameters.items()]
    return inspect.iscoroutinefunction(function), pairs, normalized(signature.return_annotation)


def structs_of(module: ModuleType) -> list[type[msgspec.Struct]]:
    """The msgspec Structs a module defines."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, msgspec.Struct) and value.__module__ == module.__name__
    ]


DOCUMENTED_TYPES: list[type[Any]] = [
    *structs_of(providers),
    *structs_of(events),
    *structs_of(types),
    StoreContext,
    EmailMessage,
    PluginContext,
    registrations.Routes,
    registrations.PeriodicJob,
]


def members(kind: type[Any]) -> list[str]:
    """Fields of a Struct or dataclass, plus the public methods of a dataclass (``PluginContext.transaction``)."""
    if issubclass(kind, msgspec.Struct):
        return list(kind.__struct_fields__)
    methods = [name for name, value in vars(kind).items() if not name.startswith("_") and callable(value)]
    return [field.name for field in dataclasses.fields(kind)] + methods


def protocol_methods(protocol: type[Any]) -> list[str]:
    return [name for name, value in vars(protocol).items() if not name.startswith("_") and inspect.isfunction(value)]


def test_the_page_and_the_code_have_something_to_compare() -> None:
    assert len(HOOKS) >= 17, HOOKS
    assert {"tc_register_payment_gateways", "tc_check_checkout", "tc_collect_store_warnings"} <= set(HOOKS)
    assert len(events.EVENT_KINDS) >= 5
    assert sum(len(protocol_methods(protocol)) for protocol in PROTOCOLS) >= 7
    assert len(DOCUMENTED_TYPES) >= 25


@pytest.mark.parametrize("hook", HOOKS)
def test_each_hook_has_a_section_with_its_exact_signature(sections: dict[str, Section], hook: str) -> None:
    section = section_of(sections, hook)
    functions = documented_functions(section)

    assert hook in functions, f"the section `{hook}` shows no `def {hook}(...)` in a python block"
    assert documented_signature(functions[hook]) == code_signature(getattr(specs, hook)), (
        f"the signature of `{hook}` in docs/hooks.md differs from tenantcommerce.plugins.specs"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_each_argument_of_a_hook_is_described_in_its_section(sections: dict[str, Section], hook: str) -> None:
    arguments = list(inspect.signature(getattr(specs, hook)).parameters)

    missing = [name for name in arguments if name not in section_of(sections, hook).described()]

    assert arguments
    assert not missing, f"`{hook}`: no table row for argument(s) {missing}"


def test_no_section_documents_a_hook_that_does_not_exist(sections: dict[str, Section]) -> None:
    documented = {title for title in sections if re.fullmatch(r"tc_\w+", title)}

    assert documented - set(HOOKS) == set()


@pytest.mark.parametrize("hook", HOOKS)
def test_each_hook_is_documented_under_the_heading_of_its_kind(sections: dict[str, Section], hook: str) -> None:
    under = section_of(sections, KIND_HEADINGS[hook_kind(hook)]).body

    assert re.search(rf"^###\s+`{hook}`", under, flags=re.MULTILINE), f"`{hook}` is not under its kind's heading"


@pytest.mark.parametrize("event", sorted(events.EVENT_KINDS))
def test_each_event_is_in_the_event_table_with_its_hook_argument_and_payload(
    sections: dict[str, Section], event: str
) -> None:
    kind = events.EVENT_KINDS[event]
    rows = [row for row in section_of(sections, "Events").body.splitlines() if row.startswith(f"| `{event}` |")]

    assert len(rows) == 1, f"the event table has no single row for `{event}`"
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1] == f"`{kind.hook}`"
    assert cells[2] == f"`{kind.argument}`"
    assert f"`{kind.payload.__name__}`" in cells[3]
    assert kind.argument in inspect.signature(getattr(specs, kind.hook)).parameters, "the argument the hook receives"


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda protocol: protocol.__name__)
def test_each_provider_protocol_shows_its_members_with_their_exact_signatures(
    sections: dict[str, Section], protocol: type[Any]
) -> None:
    section = section_of(sections, protocol.__name__)
    classes = [
        node
        for block in section.python_blocks()
        for node in ast.parse(block).body
        if isinstance(node, ast.ClassDef) and node.name == protocol.__name__
    ]
    assert classes, f"the section `{protocol.__name__}` shows no `class {protocol.__name__}` in a python block"
    attributes = {
        node.target.id: normalized(node.annotation)
        for node in classes[0].body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    functions = documented_functions(section)

    assert attributes == {name: normalized(value) for name, value in protocol.__annotations__.items()}
    for method in protocol_methods(protocol):
        assert method in functions, f"`{protocol.__name__}.{method}` is not in the class block"
        assert documented_signature(functions[method]) == code_signature(getattr(protocol, method)), (
            f"the signature of `{protocol.__name__}.{method}` in docs/hooks.md differs from the protocol"
        )
    assert set(functions) == set(protocol_methods(protocol)), "the class block shows methods the protocol lacks"


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda protocol: protocol.__name__)
def test_each_provider_member_is_described_in_its_section(sections: dict[str, Section], protocol: type[Any]) -> None:
    expected = [*protocol.__annotations__, *protocol_methods(protocol)]

    missing = [name for name in expected if name not in section_of(sections, protocol.__name__).described()]

    assert not missing, f"`{protocol.__name__}`: no table row for {missing}"


@pytest.mark.parametrize("kind", DOCUMENTED_TYPES, ids=lambda kind: kind.__name__)
def test_each_field_of_a_struct_plugins_receive_or_return_is_described(
    sections: dict[str, Section], kind: type[Any]
) -> None:
    expected = members(kind)

    missing = [name for name in expected if name not in section_of(sections, kind.__name__).described()]

    assert expected
    assert not missing, f"`{kind.__name__}`: no table row for field(s) {missing}"
