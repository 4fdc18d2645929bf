"""The query plans of the look-ups at a year of data: `python -m bench year-bench --explain`.

The statements are the app's own: `lookup.find_vehicles` and the API's `list_orders` run
against the database, their SQL caught as the driver receives it, and asked again under
EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (PostgreSQL) with the same parameters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import create_engine
from app.services import lookup
from app.services.api import views as api_views
from app.settings import Settings


async def plans(settings: Settings, queries: dict[str, str], since: str) -> dict[str, str]:
    """The plan of the first statement each look-up sends, by look-up."""
    engine = create_engine(settings.database_url)
    caught: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            caught.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", catch)
    out = {}
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            for name, query in queries.items():
                caught.clear()
                await lookup.find_vehicles(db, query)
                out[f"walk-in by {name} ({query})"] = await _explain(db, caught[0])
            caught.clear()
            moment = dt.datetime.fromisoformat(since)
            await api_views.list_orders(db, updated_since=moment, limit=50)
            count, page = caught[0], caught[1]
            out[f"API updated_since, count ({since})"] = await _explain(db, count)
            out[f"API updated_since, page ({since})"] = await _explain(db, page)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", catch)
        await engine.dispose()
    return out


async def _explain(db: AsyncSession, statement: tuple[str, Any]) -> str:
    sql, parameters = statement
    conn = await db.connection()
    if conn.dialect.name == "sqlite":
        rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)).all()
        return "\n".join("  " * _depth(rows, row) + str(row[3]) for row in rows)
    rows = (await conn.exec_driver_sql("EXPLAIN " + sql, parameters)).all()
    return "\n".join(str(row[0]) for row in rows)


def _depth(rows: list[Any], row: Any) -> int:
    """How deep a row of EXPLAIN QUERY PLAN sits (its parent chain)."""
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent:
        depth, parent = depth + 1, parents.get(parent, 0)
    return depth
