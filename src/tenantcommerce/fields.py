"""Field types shared by request schemas: bounded text without NUL (Postgres cannot store it), e-mail addresses."""

from __future__ import annotations

from typing import Annotated

import msgspec

NO_NUL = r"^[^\x00]*$"
EMAIL_PATTERN = r"^[^@\s\x00]{1,64}@[^@\s\x00]+\.[^@\s\x00]{2,}$"

Text100 = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
"""1 to 100 characters, no NUL."""
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
"""1 to 200 characters, no NUL."""
LongText = Annotated[str, msgspec.Meta(max_length=20_000, pattern=NO_NUL)]
"""Up to 20,000 characters, no NUL."""
Email = Annotated[str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=320, description="An e-mail address.")]
"""An e-mail address."""

AttributeValue = Annotated[str, msgspec.Meta(max_length=1000, pattern=NO_NUL)] | int | float | bool | None
"""A variant attribute's value: short text, a number, a flag or null."""
Attributes = Annotated[dict[Text100, AttributeValue], msgspec.Meta(max_length=50)]
"""Up to 50 variant attributes (``{"size": "M", "organic": true}``)."""
