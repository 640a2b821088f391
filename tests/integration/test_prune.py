"""``tenantcommerce db prune`` deletes what has expired and keeps what is still live."""

from __future__ import annotations

import asyncio
import datetime

import asyncpg
from click.testing import CliRunner

from tenantcommerce.cli import main
from tenantcommerce.db.urls import asyncpg_dsn
from tenantcommerce.testing import TestDatabase, insert_sample_row

NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


async def _arrange(postgres: TestDatabase) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        store = await insert_sample_row(conn, "stores")
        user = await insert_sample_row(conn, "users")
        for name, expires in (("expired", NOW - DAY), ("live", NOW + DAY)):
            await insert_sample_row(conn, "sessions", session_id=name, data="\\x00", expires_at=expires.isoformat())
        for name, expires, used in (
            ("expired-long-ago", NOW - 2 * DAY, None),
            ("used-long-ago", NOW + DAY, NOW - 2 * DAY),
            ("fresh", NOW + DAY, None),
        ):
            await insert_sample_row(
                conn, "password_reset_tokens", user_id=user["id"], token_hash=name.ljust(64, "x"),
                expires_at=expires.isoformat(), used_at=used.isoformat() if used else None,
            )  # fmt: skip
        for name, expires, accepted in (
            ("old-expired", NOW - 40 * DAY, None),
            ("old-accepted", NOW + DAY, NOW - 40 * DAY),
            ("pending", NOW + DAY, None),
        ):
            await insert_sample_row(
                conn, "store_invitations", store_id=store["id"], email=f"{name}@example.com", role="staff",
                token_hash=name.ljust(64, "y"), expires_at=expires.isoformat(),
                accepted_at=accepted.isoformat() if accepted else None,
            )  # fmt: skip
    finally:
        await conn.close()


async def _left(postgres: TestDatabase) -> dict[str, list[str]]:
    conn = await asyncpg.connect(asyncpg_dsn(postgres.admin_url))
    try:
        return {
            "sessions": [r[0] for r in await conn.fetch("SELECT session_id FROM sessions ORDER BY 1")],
            "tokens": [r[0].rstrip("x") for r in await conn.fetch("SELECT token_hash FROM password_reset_tokens")],
            "invitations": [r[0] for r in await conn.fetch("SELECT email FROM store_invitations")],
        }
    finally:
        await conn.close()


def test_prune_deletes_only_what_has_expired(postgres: TestDatabase) -> None:
    asyncio.run(_arrange(postgres))
    env = {"TC_DATABASE_URL": postgres.admin_url.render_as_string(hide_password=False)}

    result = CliRunner().invoke(main, ["db", "prune"], env=env)

    assert result.exit_code == 0, result.output
    assert (
        "Deleted 1 session(s), 2 reset token(s), 2 invitation(s), 0 delivered event(s) and 0 idempotency key(s)."
        in result.output
    )
    left = asyncio.run(_left(postgres))
    assert left == {"sessions": ["live"], "tokens": ["fresh"], "invitations": ["pending@example.com"]}
    again = CliRunner().invoke(main, ["db", "prune"], env=env)
    assert (
        "Deleted 0 session(s), 0 reset token(s), 0 invitation(s), 0 delivered event(s) and 0 idempotency key(s)."
        in again.output
    )
