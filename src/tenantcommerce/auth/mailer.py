"""Outgoing mail. The default mailer logs each message; a host app (or, with the plugin system, a plugin) passes its
own :class:`Mailer` to ``TenantCommerce(settings, mailer=...)``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import msgspec
import structlog

_log = structlog.get_logger("tenantcommerce.mail")


class EmailMessage(msgspec.Struct, frozen=True):
    """One plain-text e-mail."""

    to: str
    subject: str
    body: str
    kind: str
    """What the mail is for: ``welcome``, ``account-exists``, ``password-reset``, ``invitation``, ..."""


@runtime_checkable
class Mailer(Protocol):
    """Sends e-mail."""

    async def send(self, message: EmailMessage) -> None:
        """Send ``message`` (or queue it); raise only when it cannot be accepted at all."""


class LoggingMailer:
    """Writes each message to the log instead of sending it (the default; fine for development)."""

    async def send(self, message: EmailMessage) -> None:
        _log.info("mail", to=message.to, subject=message.subject, kind=message.kind, body=message.body)


class RecordingMailer:
    """Keeps every message in :attr:`outbox` (for tests)."""

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.outbox.append(message)

    def last(self, to: str, kind: str | None = None) -> EmailMessage:
        """The newest message to ``to`` (of ``kind``, when given)."""
        for message in reversed(self.outbox):
            if message.to == to and (kind is None or message.kind == kind):
                return message
        raise LookupError(f"no {kind or ''} mail to {to}")
