"""Accounts: registration, sign-in, password change and reset. No answer reveals whether an e-mail is known."""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tenantcommerce.auth.mailer import EmailMessage, Mailer
from tenantcommerce.auth.models import PasswordResetToken, StoreMember, User
from tenantcommerce.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from tenantcommerce.auth.permissions import permissions_for
from tenantcommerce.auth.schemas import MembershipOut, MeOut, UserOut
from tenantcommerce.auth.tokens import digest, new_secret
from tenantcommerce.errors import AuthenticationRequired, BusinessRuleError, FieldError, InputError
from tenantcommerce.fields import EMAIL_PATTERN
from tenantcommerce.tenancy.context import platform_scope
from tenantcommerce.tenancy.models import Store

if TYPE_CHECKING:
    from uuid import UUID

    from tenantcommerce.db.database import Database

RESET_TOKEN_LIFETIME = datetime.timedelta(hours=1)


def normalise_email(email: str) -> str:
    """E-mails are compared and stored lower-case, without surrounding spaces."""
    return email.strip().lower()


def check_password(password: str, email: str, field: str = "password") -> None:
    """Refuse a weak password with a 422 naming the field."""
    problems = password_problems(password, email=email)
    if problems:
        raise BusinessRuleError(
            f"the {field.replace('_', ' ')} is too weak: " + "; ".join(problems),
            errors=[FieldError(field, problem) for problem in problems],
        )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def register(database: Database, mailer: Mailer, *, email: str, password: str, name: str | None) -> None:
    """Create an account, or (for a known e-mail) tell its owner by mail; the caller learns nothing either way."""
    email = normalise_email(email)
    check_password(password, email)
    with platform_scope():
        async with database.session() as session:
            user = await session.scalar(select(User).where(User.email == email))
            # Hash either way, so a known address takes as long to answer as a new one.
            password_hash = await hash_password(password)
            if user is None:
                session.add(User(email=email, name=name, password_hash=password_hash))
                try:
                    await session.commit()
                except IntegrityError:  # registered concurrently: answer as for a known address
                    await session.rollback()
                else:
                    await mailer.send(
                        EmailMessage(
                            to=email, subject="Welcome", body="Your account is ready: sign in.", kind="welcome"
                        )
                    )
                    return
    await mailer.send(
        EmailMessage(
            to=email,
            subject="Someone tried to register with your address",
            body="You already have an account. If you forgot your password, ask for a reset.",
            kind="account-exists",
        )
    )


async def authenticate(database: Database, *, email: str, password: str) -> User:
    """The user with these credentials.

    Raises:
        AuthenticationRequired: unknown e-mail or wrong password (one message for both).
    """
    email = normalise_email(email)
    with platform_scope():
        async with database.session() as session:
            user = await session.scalar(select(User).where(User.email == email))
            if not await verify_password(user.password_hash if user else None, password) or user is None:
                raise AuthenticationRequired("the e-mail or the password is wrong")
            if user.password_hash and needs_rehash(user.password_hash):
                user.password_hash = await hash_password(password)
                await session.commit()
            return user


async def change_password(database: Database, user_id: UUID, *, current: str, new: str) -> int:
    """Change a password and end every other session; return the new session epoch."""
    with platform_scope():
        async with database.session() as session:
            user = await session.get(User, user_id)
            if user is None or not await verify_password(user.password_hash, current):
                raise BusinessRuleError(
                    "the current password is wrong", errors=[FieldError("current_password", "is wrong")]
                )
            check_password(new, user.email, "new_password")
            user.password_hash = await hash_password(new)
            user.session_epoch += 1
            await session.commit()
            return user.session_epoch


async def request_reset(database: Database, mailer: Mailer, *, email: str, reset_url: str) -> None:
    """Mail a single-use reset link if the account exists; say nothing either way."""
    email = normalise_email(email)
    with platform_scope():
        async with database.session() as session:
            user = await session.scalar(select(User).where(User.email == email))
            if user is None:
                return
            secret = new_secret()
            session.add(
                PasswordResetToken(user_id=user.id, token_hash=digest(secret), expires_at=_now() + RESET_TOKEN_LIFETIME)
            )
            await session.commit()
    await mailer.send(
        EmailMessage(
            to=email,
            subject="Reset your password",
            body=(
                f"Someone asked to reset the password of your account at {reset_url}. If it was not you, ignore "
                "this mail.\n"
                f"Within an hour, send this token with your new password to {reset_url}/api/auth/password/reset.\n"
                f"Reset token: {secret}"
            ),
            kind="password-reset",
        )
    )


async def reset_password(database: Database, *, token: str, new_password: str) -> None:
    """Set a new password with a reset token (single use, one hour) and end every session of the account.

    Raises:
        BusinessRuleError: the token is unknown, used or expired, or the password is too weak.
    """
    with platform_scope():
        async with database.session() as session:
            reset = await session.scalar(
                select(PasswordResetToken).where(PasswordResetToken.token_hash == digest(token)).with_for_update()
            )
            if reset is None or reset.used_at is not None or reset.expires_at <= _now():
                raise BusinessRuleError(
                    "the reset link is invalid, used or expired: ask for a new one",
                    errors=[FieldError("token", "is invalid, used or expired")],
                )
            user = await session.get(User, reset.user_id)
            assert user is not None  # the foreign key cascades
            check_password(new_password, user.email, "new_password")
            reset.used_at = _now()
            user.password_hash = await hash_password(new_password)
            user.session_epoch += 1
            await session.execute(
                update(PasswordResetToken)
                .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
                .values(used_at=_now())
            )
            await session.commit()


async def logout_everywhere(database: Database, user_id: UUID) -> None:
    """End every session of a user."""
    with platform_scope():
        async with database.session() as session:
            await session.execute(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))
            await session.commit()


async def describe_user(database: Database, user_id: UUID) -> MeOut:
    """The user and the stores they work in."""
    with platform_scope():
        async with database.session() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise AuthenticationRequired("sign in first")
            rows = await session.execute(
                select(Store.slug, Store.name, StoreMember.role, StoreMember.permissions)
                .join(StoreMember, StoreMember.store_id == Store.id)
                .where(StoreMember.user_id == user_id)
                .order_by(Store.slug)
            )
            stores = [
                MembershipOut(slug=slug, name=name, role=role, permissions=sorted(permissions_for(role, overrides)))
                for slug, name, role, overrides in rows
            ]
            return MeOut(
                user=UserOut(id=user.id, email=user.email, name=user.name, is_operator=user.is_operator), stores=stores
            )


async def make_operator(database: Database, email: str, password: str | None) -> bool:
    """Flag an account as platform operator, creating it if needed; return True when it was created.

    Raises:
        InputError: the e-mail is malformed.
        BusinessRuleError: the password is too weak.
    """
    email = normalise_email(email)
    if not re.fullmatch(EMAIL_PATTERN, email):
        raise InputError("the e-mail address is malformed", errors=[FieldError("email", "must be an e-mail address")])
    if password is not None:
        check_password(password, email)
    with platform_scope():
        async with database.session() as session:
            user = await session.scalar(select(User).where(User.email == email))
            created = user is None
            if user is None:
                user = User(email=email)
                session.add(user)
            user.is_operator = True
            if password is not None:
                user.password_hash = await hash_password(password)
                if not created:
                    user.session_epoch += 1  # a new password ends the old sessions
            await session.commit()
            return created
