"""The deployment's Stripe settings, from the environment only (an empty value counts as unset).

Secrets never live in a store's config or state: the platform operator sets them for the whole deployment. They are
read when the plugin's register hooks run (at start-up); :meth:`StripeSettings.problems` says what is missing or
malformed, and the plugin reports those sentences through ``tc_register_setup_problems`` (stores cannot enable it
until they are fixed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tenantcommerce_stripe.fees import MAX_FIXED_MINOR, MAX_PERCENT_BP, FeePolicy

DEFAULT_API_BASE = "https://api.stripe.com"
"""Stripe's API; ``TC_STRIPE_API_BASE`` points the plugin elsewhere (an offline server such as ``FakeStripe``)."""

# The names of the variables (not secrets).
SECRET_KEY = "TC_STRIPE_SECRET_KEY"  # noqa: S105
WEBHOOK_SECRET = "TC_STRIPE_WEBHOOK_SECRET"  # noqa: S105
CONNECT_WEBHOOK_SECRET = "TC_STRIPE_CONNECT_WEBHOOK_SECRET"  # noqa: S105
API_BASE = "TC_STRIPE_API_BASE"
FEE_BP = "TC_STRIPE_FEE_BP"
FEE_FIXED = "TC_STRIPE_FEE_FIXED"
PUBLISHABLE_KEY = "TC_STRIPE_PUBLISHABLE_KEY"

_SECRET_KEY_SHAPE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]+$")
_PUBLISHABLE_KEY_SHAPE = re.compile(r"^pk_(test|live)_[A-Za-z0-9_]+$")
_DIGITS = re.compile(r"^[0-9]{1,12}$")
_API_BASE_SHAPE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+/?$")


def _text(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class StripeSettings:
    """What the plugin needs from the deployment.

    Attributes:
        secret_key: ``TC_STRIPE_SECRET_KEY``, the platform account's secret (or restricted) key.
        webhook_secret: ``TC_STRIPE_WEBHOOK_SECRET``, the signing secret of the platform's webhook endpoint (events
            of the platform's own objects: PaymentIntents, charges, refunds, disputes).
        connect_webhook_secret: ``TC_STRIPE_CONNECT_WEBHOOK_SECRET``, the signing secret of the Connect endpoint
            (events of connected accounts: ``account.updated``).
        api_base: ``TC_STRIPE_API_BASE``, where the API is (Stripe's unless set).
        default_fee: the platform fee of stores without their own (``TC_STRIPE_FEE_BP``: basis points of the
            amount, 0 to 10000; ``TC_STRIPE_FEE_FIXED``: minor units of the store's currency added on top).
        publishable_key: ``TC_STRIPE_PUBLISHABLE_KEY`` (optional), the platform's publishable key: handed to
            storefronts with each payment (``PaymentResult.client_options``) so Stripe.js can show the Payment
            Element. Without it a storefront must know the key itself.
        invalid: sentences about values that are set but malformed (see :meth:`problems`).
    """

    secret_key: str | None = None
    webhook_secret: str | None = None
    connect_webhook_secret: str | None = None
    api_base: str = DEFAULT_API_BASE
    default_fee: FeePolicy = field(default_factory=FeePolicy)
    publishable_key: str | None = None
    invalid: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StripeSettings:
        """Read the ``TC_STRIPE_*`` variables (of ``environ``, default ``os.environ``)."""
        env = os.environ if environ is None else environ
        invalid: list[str] = []
        secret_key = _text(env, SECRET_KEY)
        if secret_key is not None and not _SECRET_KEY_SHAPE.fullmatch(secret_key):
            invalid.append(
                f"{SECRET_KEY} must be a Stripe secret key (sk_test_..., sk_live_...) or restricted key (rk_...)"
            )
        secrets: dict[str, str | None] = {}
        for name in (WEBHOOK_SECRET, CONNECT_WEBHOOK_SECRET):
            secret = secrets[name] = _text(env, name)
            if secret is not None and not secret.startswith("whsec_"):
                invalid.append(f"{name} must be a webhook signing secret (whsec_...)")
        publishable_key = _text(env, PUBLISHABLE_KEY)
        if publishable_key is not None and not _PUBLISHABLE_KEY_SHAPE.fullmatch(publishable_key):
            invalid.append(f"{PUBLISHABLE_KEY} must be a Stripe publishable key (pk_test_..., pk_live_...)")
        api_base = _text(env, API_BASE) or DEFAULT_API_BASE
        if not _API_BASE_SHAPE.fullmatch(api_base):
            invalid.append(f"{API_BASE} must be an http(s) address without a path, such as {DEFAULT_API_BASE}")
        percent_bp = _number(env, FEE_BP, MAX_PERCENT_BP, "basis points of the amount (250 is 2.5 %)", invalid)
        fixed_minor = _number(env, FEE_FIXED, MAX_FIXED_MINOR, "minor units of the store's currency", invalid)
        return cls(
            secret_key=secret_key,
            webhook_secret=secrets[WEBHOOK_SECRET],
            connect_webhook_secret=secrets[CONNECT_WEBHOOK_SECRET],
            api_base=api_base.rstrip("/"),
            default_fee=FeePolicy(percent_bp=percent_bp, fixed_minor=fixed_minor),
            publishable_key=publishable_key,
            invalid=tuple(invalid),
        )

    def problems(self) -> list[str]:
        """What the deployment must fix before stores can use Stripe (empty when it is configured)."""
        missing = [
            f"{name} is not set"
            for name, value in (
                (SECRET_KEY, self.secret_key),
                (WEBHOOK_SECRET, self.webhook_secret),
                (CONNECT_WEBHOOK_SECRET, self.connect_webhook_secret),
            )
            if value is None
        ]
        return [*missing, *self.invalid]

    @property
    def configured(self) -> bool:
        """Whether nothing is missing or malformed."""
        return not self.problems()

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """The signing secrets a webhook may be signed with: the platform endpoint's, then the Connect one's."""
        return tuple(secret for secret in (self.webhook_secret, self.connect_webhook_secret) if secret is not None)


def _number(environ: Mapping[str, str], name: str, maximum: int, unit: str, invalid: list[str]) -> int:
    raw = _text(environ, name)
    if raw is None:
        return 0
    if not _DIGITS.fullmatch(raw) or int(raw) > maximum:
        invalid.append(f"{name} must be a whole number from 0 to {maximum} ({unit}), not {raw!r}")
        return 0
    return int(raw)
