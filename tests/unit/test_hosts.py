"""Which store a Host header names: platform hosts, subdomains of TC_BASE_DOMAIN, custom domains."""

from __future__ import annotations

import pytest

from tenantcommerce.tenancy.resolver import HostKind, classify_host, is_ip_address, normalise_host

BASE = "shop.example"
PLATFORM = HostKind(platform=True)


def slug(value: str) -> HostKind:
    return HostKind(slug=value)


def domain(value: str) -> HostKind:
    return HostKind(domain=value)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        # the apex and www are platform hosts
        ("shop.example", PLATFORM),
        ("www.shop.example", PLATFORM),
        # a subdomain names a store
        ("acme.shop.example", slug("acme")),
        ("my-store.shop.example", slug("my-store")),
        # anything else is a custom domain
        ("shop.acme.com", domain("shop.acme.com")),
        ("acme.com", domain("acme.com")),
        # a host that merely ends with the base domain's text is not a subdomain of it
        ("evilshop.example", domain("evilshop.example")),
        ("shop.example.evil.com", domain("shop.example.evil.com")),
        # IP addresses are platform hosts
        ("127.0.0.1", PLATFORM),
        ("10.1.2.3", PLATFORM),
        ("[::1]", PLATFORM),
        ("[2001:db8::1]", PLATFORM),
        # ports are ignored
        ("shop.example:8000", PLATFORM),
        ("www.shop.example:443", PLATFORM),
        ("acme.shop.example:8443", slug("acme")),
        ("shop.acme.com:8080", domain("shop.acme.com")),
        ("127.0.0.1:8000", PLATFORM),
        ("[::1]:8000", PLATFORM),
        ("[2001:db8::1]:443", PLATFORM),
        # a trailing dot (fully qualified) changes nothing
        ("shop.example.", PLATFORM),
        ("www.shop.example.", PLATFORM),
        ("acme.shop.example.", slug("acme")),
        ("acme.shop.example.:8000", slug("acme")),
        ("shop.acme.com.", domain("shop.acme.com")),
        # host names are case-insensitive
        ("SHOP.EXAMPLE", PLATFORM),
        ("WWW.Shop.Example", PLATFORM),
        ("ACME.Shop.Example", slug("acme")),
        ("Shop.ACME.com:80", domain("shop.acme.com")),
        # surrounding whitespace
        (" acme.shop.example ", slug("acme")),
        # no host at all
        ("", PLATFORM),
    ],
)
def test_classify_host(host: str, expected: HostKind) -> None:
    assert classify_host(host, BASE) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", PLATFORM),
        ("localhost:8000", PLATFORM),
        ("www.localhost:8000", PLATFORM),
        ("acme.localhost:8000", slug("acme")),
        ("ACME.LOCALHOST", slug("acme")),
        ("example.com", domain("example.com")),
    ],
)
def test_classify_host_on_the_default_base_domain(host: str, expected: HostKind) -> None:
    assert classify_host(host, "localhost") == expected


def test_a_store_on_another_base_domain_is_a_custom_domain() -> None:
    assert classify_host("acme.shop.example", "other.example") == domain("acme.shop.example")


@pytest.mark.parametrize("host", ["::1", "2001:db8::1", "fe80::1"])
def test_bare_ipv6_literals_are_platform_hosts(host: str) -> None:
    # An IPv6 literal without brackets (as some proxies and ASGI servers pass it) is still an IP address.
    assert classify_host(host, BASE) == PLATFORM


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("Acme.Shop.Example", "acme.shop.example"),
        ("acme.shop.example:8000", "acme.shop.example"),
        ("acme.shop.example.", "acme.shop.example"),
        ("acme.shop.example.:8000", "acme.shop.example"),
        ("[::1]:8000", "[::1]"),
        ("[::1]", "[::1]"),
        ("  localhost  ", "localhost"),
    ],
)
def test_normalise_host(host: str, expected: str) -> None:
    assert normalise_host(host) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("2001:db8::1", True),
        ("localhost", False),
        ("256.1.1.1", False),
        ("acme.shop.example", False),
        ("", False),
    ],
)
def test_is_ip_address(host: str, expected: bool) -> None:
    assert is_ip_address(host) is expected
