"""The list envelope shared by every list endpoint: ``{"items": [...], "limit": n, "offset": n, "total": n}``."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import Parameter

T = TypeVar("T")

DEFAULT_LIMIT = 24
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")]
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="Items to skip.")]


class Page(msgspec.Struct, Generic[T], frozen=True):
    """One page of a list."""

    items: list[T]
    limit: int
    offset: int
    total: int
