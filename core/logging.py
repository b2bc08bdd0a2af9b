"""Structured JSON logs with a request id and no personal data.

Log records carry event names and opaque identifiers only; `PII_KEYS` fields passed as
`extra` are redacted as a second line of defence.

Every HTTP request writes one line (`service.middleware`), so formatting one is kept cheap
(issue #14): the second of the timestamp is formatted once per second, the JSON encoder is
built once, and which of a record's attributes are its `extra` fields is worked out once per
shape of record (the attribute names in order), not per record.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

PII_KEYS = frozenset(
    {"email", "name", "postcode", "birth_date", "birthdate", "bsn", "password", "address"}
)
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
    "request_id",
}
_REDACTED = "[redacted]"
_MAX_SHAPES = 256  # the call sites' `extra` sets; a bound all the same
# What json.dumps(entry, default=str, ensure_ascii=False) did, without building an encoder
# per call.
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode
_base_factory = logging.getLogRecordFactory()


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Stamp every record with the request id current when it was made (not when written)."""
    record = _base_factory(*args, **kwargs)
    record.request_id = request_id_var.get()
    return record


logging.setLogRecordFactory(_record_factory)


def _extra_fields(names: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """The `extra` fields among a record's attribute names, in order, each with whether it is
    redacted."""
    return tuple(
        (name, name.lower() in PII_KEYS)
        for name in names
        if name not in _STANDARD and not name.startswith("_")
    )


class JsonFormatter(logging.Formatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._second: tuple[int, str] = (-1, "")  # one tuple: swapped whole, thread-safe
        self._shapes: dict[tuple[str, ...], tuple[tuple[str, bool], ...]] = {}

    def format(self, record: logging.LogRecord) -> str:
        created = record.created
        second = self._second
        if second[0] != int(created):
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
            self._second = second = (int(created), text)
        attributes = record.__dict__
        entry: dict[str, Any] = {
            "ts": f"{second[1]}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": attributes.get("request_id", "-"),
        }
        shape = tuple(attributes)
        fields = self._shapes.get(shape)
        if fields is None:
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes.clear()
            fields = self._shapes[shape] = _extra_fields(shape)
        for name, redacted in fields:
            entry[name] = _REDACTED if redacted else attributes[name]
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encode(entry)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log prints full URLs, whose query strings can hold codes and hints.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
