"""Plain statements of the few hot paths written out of the ORM (survey submissions)."""


def execute(cursor, sql, params, *, prepared=None):
    """`cursor.execute(sql, params)`; on PostgreSQL, with a name in `prepared`, the statement prepared once per
    connection and executed by that name (config/postgresql: PostgreSQL plans every statement anew otherwise).
    Only for lookups by a unique key: a prepared statement keeps the plan made for the table as it was, and a
    query over a group of rows planned while its table was small scans the whole table once it is large."""
    if prepared is not None and hasattr(cursor.db, "execute_prepared"):
        cursor.db.execute_prepared(cursor, prepared, sql, params)
    else:
        cursor.execute(sql, params)
