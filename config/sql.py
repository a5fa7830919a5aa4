"""Plain statements of the few hot paths written out of the ORM (survey submissions)."""


def execute(cursor, sql, params, *, prepared=None):
    """`cursor.execute(sql, params)`; on PostgreSQL, with a name in `prepared`, the statement prepared once per
    connection and executed by that name (config/postgresql: PostgreSQL plans every statement anew otherwise)."""
    if prepared is not None and hasattr(cursor.db, "execute_prepared"):
        cursor.db.execute_prepared(cursor, prepared, sql, params)
    else:
        cursor.execute(sql, params)
