"""Customers of a store: an account (a global user) linked to the store by a ``store_customers`` row.

A customer signs up and in on one store's storefront; the session is bound to that store. The same person may be a
customer of several stores with one account; each store sees only its own ``store_customers`` row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tenantcommerce.auth.mailer import EmailMessage, Mailer
from tenantcommerce.auth.models import User
from tenantcommerce.auth.passwords import hash_password
from tenantcommerce.auth.services import authenticate, check_password, normalise_email
from tenantcommerce.customers.models import StoreCustomer
from tenantcommerce.errors import AuthenticationRequired
from tenantcommerce.tenancy.context import current_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenantcommerce.db.database import Database


class CustomerOut(msgspec.Struct, frozen=True):
    """The signed-in customer, as this store knows them."""

    id: UUID
    email: str
    name: str | None


async def register_customer(database: Database, mailer: Mailer, *, email: str, password: str, name: str | None) -> None:
    """Create an account and its customer record in the store in context, or (for a known e-mail) tell its owner
    to sign in; the caller learns nothing either way."""
    store = current_store()
    email = normalise_email(email)
    check_password(password, email)
    password_hash = await hash_password(password)  # either way: a known address answers as slowly as a new one
    async with database.session() as session:
        user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, password_hash=password_hash)
            session.add(user)
            try:
                await session.flush()
                await _link(session, user)
                await session.commit()
            except IntegrityError:
                await session.rollback()
            else:
                await mailer.send(
                    EmailMessage(
                        to=email, subject=f"Welcome to {store.name}", body="Your account is ready.", kind="welcome"
                    )
                )
                return
    await mailer.send(
        EmailMessage(
            to=email,
            subject=f"Someone tried to sign up at {store.name} with your address",
            body=f"You already have an account: sign in at {store.name} with it, or ask for a password reset.",
            kind="account-exists",
        )
    )


async def _link(session: AsyncSession, user: User) -> StoreCustomer:
    customer = await session.scalar(select(StoreCustomer).where(StoreCustomer.email == user.email))
    if customer is None:
        customer = StoreCustomer(user_id=user.id, email=user.email, name=user.name)
        session.add(customer)
    elif customer.user_id is None:
        customer.user_id = user.id  # a guest of this store now has an account
    await session.flush()
    return customer


async def sign_in_customer(database: Database, *, email: str, password: str) -> tuple[User, CustomerOut]:
    """Check the credentials and make sure the account is a customer of the store in context."""
    user = await authenticate(database, email=email, password=password)
    async with database.session() as session:
        account = await session.get(User, user.id)
        assert account is not None
        customer = await _link(session, account)
        out = CustomerOut(id=customer.id, email=customer.email, name=customer.name)
        await session.commit()
    return user, out


async def describe_customer(database: Database, user_id: UUID) -> CustomerOut:
    """The store-in-context's record of a signed-in customer."""
    async with database.session() as session:
        customer = await session.scalar(select(StoreCustomer).where(StoreCustomer.user_id == user_id))
        if customer is None:
            raise AuthenticationRequired("sign in at this store first")
        return CustomerOut(id=customer.id, email=customer.email, name=customer.name)
