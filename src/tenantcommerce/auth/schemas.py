"""Request and response schemas of ``/api/auth/`` and ``/api/stores`` (msgspec)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from tenantcommerce.fields import NO_NUL, Email, Text200

Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=NO_NUL)]
Name = Text200
SecretToken = Annotated[str, msgspec.Meta(min_length=20, max_length=200)]


class RegisterInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new account."""

    email: Email
    password: Password
    name: Name | None = None


class LoginInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """E-mail and password."""

    email: Email
    password: Password


class ChangePasswordInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The current password and the new one."""

    current_password: Password
    new_password: Password


class ResetRequestInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where to send a reset link."""

    email: Email


class ResetInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The token from the reset mail and the new password."""

    token: SecretToken
    new_password: Password


class UserOut(msgspec.Struct, frozen=True):
    """A signed-in user."""

    id: UUID
    email: str
    name: str | None
    is_operator: bool


class MembershipOut(msgspec.Struct, frozen=True):
    """A store the user works in, with the role and resulting permissions."""

    slug: str
    name: str
    role: str
    permissions: list[str]


class MeOut(msgspec.Struct, frozen=True):
    """The caller and their stores."""

    user: UserOut
    stores: list[MembershipOut]


class Accepted(msgspec.Struct, frozen=True):
    """A request taken, whose outcome is not disclosed (it goes by mail)."""

    detail: str
