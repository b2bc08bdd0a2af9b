"""Counting the SQL statements and transactions a piece of work sends (the statement budgets,
and what is read from a held value without a statement)."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator

from sqlalchemy import Engine, event


@contextlib.contextmanager
def counted(engine: Engine) -> Iterator[collections.Counter[str]]:
    """Statements (without the test's savepoint plumbing) and transactions: the app's commits
    are savepoints here, so each SAVEPOINT the app opens is one transaction it began."""
    counts: collections.Counter[str] = collections.Counter()

    def on_execute(conn: object, cursor: object, statement: str, *args: object) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb == "SAVEPOINT":
            counts["transactions"] += 1
        elif verb not in ("RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
            counts["statements"] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
