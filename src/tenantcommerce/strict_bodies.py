"""JSON bodies are checked strictly: ``"100"`` is not an integer, ``1`` is not ``true``.

Litestar converts request bodies leniently (strings to numbers and booleans). Before a handler's arguments are parsed,
this ``before_request`` hook decodes the body once more, strictly, against the handler's ``data`` type; a mismatch is a
400 naming the field, and nothing runs.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(annotation: Any) -> msgspec.json.Decoder[Any]:
    decoder = _decoders.get(annotation)
    if decoder is None:
        decoder = _decoders[annotation] = msgspec.json.Decoder(annotation, strict=True)
    return decoder


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """Refuse a JSON body whose values have the wrong JSON types for the handler's ``data``."""
    if request.method not in _UNSAFE:
        return
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None or request.content_type[0] in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return  # forms (uploads) are parsed by Litestar as they stream in: never read them whole here
    body = await request.body()
    if not body:
        return  # missing bodies get Litestar's own answer
    try:
        _decoder(field.annotation).decode(body)
    except msgspec.ValidationError as exc:
        raise ValidationException(
            detail="The request does not match the schema",
            extra=[{"message": str(exc), "key": "data", "source": "body"}],
        ) from None
    except msgspec.DecodeError:
        return  # malformed JSON: Litestar answers 400 when it parses the body
