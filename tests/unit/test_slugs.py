"""Store slugs: they name a store in paths and as a subdomain, so they must be valid DNS labels."""

from __future__ import annotations

import re

import pytest

from tenantcommerce.tenancy.services import RESERVED_SLUGS, slug_problems


@pytest.mark.parametrize(
    "slug",
    ["abc", "acme", "a1b", "123", "my-store", "a-b-c", "x" * 63, "a" + "-" * 61 + "b", "shop1", "alpha"],
)
def test_valid_slugs(slug: str) -> None:
    assert slug_problems(slug) == []


@pytest.mark.parametrize("slug", ["", "a", "ab", "x" * 64, "x" * 200])
def test_length_bounds(slug: str) -> None:
    assert slug_problems(slug) == ["must be 3 to 63 characters"]


def test_length_bounds_are_inclusive() -> None:
    assert slug_problems("x" * 3) == []
    assert slug_problems("x" * 63) == []


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS - {"s"}))
def test_reserved_words(slug: str) -> None:
    assert slug_problems(slug) == [f"{slug!r} is reserved"]


@pytest.mark.parametrize("slug", ["www", "api", "admin", "static", "stores", "health", "metrics", "schema"])
def test_platform_names_are_reserved(slug: str) -> None:
    # Names of platform hosts and paths must never be taken by a store.
    assert slug in RESERVED_SLUGS
    assert slug_problems(slug)


@pytest.mark.parametrize(
    "slug",
    [
        "-acme",
        "acme-",
        "-acme-",
        "---",
        "Acme",
        "ACME",
        "acMe",
        "A!",
        "acme!",
        "ac me",
        "ac_me",
        "ac.me",
        "acme/x",
        "café",
        "ａｃｍｅ",  # full-width letters  # noqa: RUF001
    ],
)
def test_malformed_slugs(slug: str) -> None:
    problems = slug_problems(slug)
    assert len(problems) == 1
    assert "lowercase" in problems[0] or "3 to 63" in problems[0]


@pytest.mark.parametrize("slug", ["acme\n", "\nacme", "acme\r\n", " acme", "acme "])
def test_whitespace_and_newlines_are_refused(slug: str) -> None:
    # Python's `$` also matches before a trailing newline; the database's check constraint does not, so a slug
    # the service accepts would then fail in the database instead of answering a clear input error.
    assert slug_problems(slug) != []


def test_python_rule_matches_the_database_constraint() -> None:
    # migrations/versions/0001_core_schema.py: CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$')
    database_rule = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])\Z")
    samples = ["abc", "a-b", "-ab", "ab-", "Ab", "a_b", "x" * 63, "x" * 64, "ab"]
    for sample in samples:
        fine = not slug_problems(sample) or sample in RESERVED_SLUGS
        assert fine == bool(database_rule.match(sample)), sample
