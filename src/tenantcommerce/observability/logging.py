"""structlog set-up: JSON lines in production, readable lines in a terminal.

Request-scoped fields (``request_id``, ``store_id``, ``user_id``) are bound with ``structlog.contextvars`` by the
request middleware, so every line written while a request runs carries them.
"""

from __future__ import annotations

import datetime
import logging
import sys
from typing import Literal

import msgspec
import structlog

_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}


_encoder = msgspec.json.Encoder(enc_hook=str)


def _json(event: object, **_: object) -> str:
    return _encoder.encode(event).decode()


def configure_logging(level: str = "INFO", fmt: Literal["json", "console"] = "console", *, cache: bool = False) -> None:
    """Configure structlog (and route the standard library's records through the same format).

    ``cache`` caches each logger on first use (faster; use it in production, where the configuration never changes).
    """
    numeric = _LEVELS.get(level, logging.INFO)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_json)
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    # Replace the processors in place: loggers bound under an earlier configuration (another app in the same
    # process, or structlog.testing.capture_logs) keep a reference to this very list.
    processors = structlog.get_config()["processors"]
    processors[:] = [*shared, renderer]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # One logger type for every format: loggers cached under an earlier configuration keep their factory.
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        # Cached loggers keep their level and stream for good: only worth it where one configuration lives on.
        cache_logger_on_first_use=cache,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.INFO) if numeric > logging.DEBUG else numeric)
    # One line per request or job is ours to write (the access log, the outbox's own warnings); outbound HTTP
    # clients (httpx, which payment and shipping plugins use) would add a line per call.
    for noisy in ("uvicorn.access", "procrastinate", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING if numeric > logging.DEBUG else numeric)


class AccessLog:
    """Writes the access line of each request.

    In JSON format the line is built and encoded in one step (the same fields structlog would write: ``event``,
    ``level``, ``timestamp`` and the request's fields): it is written for every request, so its cost counts on the
    hot path. In console format it goes through structlog like every other line.
    """

    def __init__(self, level: str, fmt: Literal["json", "console"]) -> None:
        self.enabled = _LEVELS.get(level, logging.INFO) <= logging.INFO
        self.direct = fmt == "json"
        self._logger = structlog.get_logger("tenantcommerce.access")

    def write(self, **fields: object) -> None:
        """One access line (nothing below INFO)."""
        if not self.enabled:
            return
        if self.direct:
            line = {"event": "request", **fields, "level": "info",
                    "timestamp": datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")}  # fmt: skip
            sys.stderr.write(_json(line) + "\n")
            return
        self._logger.info("request", **fields)
