"""Who a storefront call comes from, as idempotency keys and carts see it: the key's shape, the client a key belongs
to (user, else cart token, else address), and the cart token a request carries."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import RequestFactory

from tenantcommerce.auth.principal import Principal
from tenantcommerce.cart.tokens import cart_token_hash, cart_token_of, new_cart_token
from tenantcommerce.errors import InputError
from tenantcommerce.storefront.idempotency import _valid_key, client_of


def scope(
    headers: dict[str, str] | None = None, user: Any = None, client: tuple[str, int] | None = ("10.0.0.1", 5)
) -> Any:
    return {
        "type": "http",
        "headers": [(key.lower().encode(), value.encode("latin-1")) for key, value in (headers or {}).items()],
        "user": user,
        "client": client,
    }


@pytest.mark.parametrize("key", ["a", "k" * 255, "6f1c5c1e-9a53-4a53-a3a1-1f7b0e0b8a11", "!~"])
def test_keys_of_1_to_255_visible_ascii_characters_are_valid(key: str) -> None:
    assert _valid_key(key) == key


@pytest.mark.parametrize("key", ["", "k" * 256, "two words", "tab\tkey", "ключ", "é", "\x7f", "nul\x00"])
def test_other_keys_are_invalid_input_naming_the_header(key: str) -> None:
    with pytest.raises(InputError) as raised:
        _valid_key(key)
    assert [error.field for error in raised.value.errors] == ["Idempotency-Key"]


def test_a_signed_in_user_is_the_client_whatever_token_they_send() -> None:
    user_id = uuid.uuid4()
    principal = Principal(user_id=user_id, email="jo@example.com", is_operator=False, via="session")
    assert client_of(scope({"X-Cart-Token": "abc"}, user=principal)) == f"user:{user_id}"
    assert client_of(scope(user=principal)) == f"user:{user_id}"


def test_a_cart_token_header_or_cookie_is_the_client_and_the_header_wins() -> None:
    by_header = client_of(scope({"X-Cart-Token": "token-one"}))
    by_cookie = client_of(scope({"Cookie": "csrftoken=x; tc_cart=token-one"}))
    assert by_header == by_cookie
    assert by_header.startswith("cart:")
    assert "token-one" not in by_header, "the token itself is not kept"
    assert client_of(scope({"X-Cart-Token": "token-one", "Cookie": "tc_cart=token-two"})) == by_header
    assert client_of(scope({"X-Cart-Token": "token-two"})) != by_header


def test_without_user_or_token_the_address_is_the_client() -> None:
    assert client_of(scope()) == "addr:10.0.0.1"
    assert client_of(scope({"Cookie": "tc_cart="})) == "addr:10.0.0.1"
    assert client_of(scope(client=None)) == "addr:unknown"


def test_the_cart_token_comes_from_the_header_else_the_cookie() -> None:
    token = new_cart_token()
    assert len(token) >= 43
    assert new_cart_token() != token
    assert cart_token_hash(token) != cart_token_hash(new_cart_token())
    assert len(cart_token_hash(token)) == 32
    factory = RequestFactory()
    assert cart_token_of(factory.get("/", headers={"X-Cart-Token": token})) == token
    assert cart_token_of(factory.get("/", headers={"Cookie": f"tc_cart={token}"})) == token
    assert cart_token_of(factory.get("/", headers={"X-Cart-Token": token, "Cookie": "tc_cart=other"})) == token
    assert cart_token_of(factory.get("/")) is None
    assert cart_token_of(factory.get("/", headers={"X-Cart-Token": "   "})) is None
    assert cart_token_of(factory.get("/", headers={"X-Cart-Token": "x" * 101})) is None
