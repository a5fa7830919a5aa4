"""PostgreSQL as Django has it, with two additions. A connection kept between requests (CONN_MAX_AGE) is checked
(CONN_HEALTH_CHECKS: `SELECT 1`) only when it has not been used for IDLE_BEFORE_CHECK seconds. And a hot
statement may be prepared once per connection (execute_prepared), so that PostgreSQL plans it once.

Django checks before the first query of every request, which under load is one round trip more per request
(a tenth of a survey submission's time in a worker) for a connection used a few milliseconds before. What the
check guards against — a server restarted or a connection dropped while nobody used it — takes longer than
that; a connection broken while in use fails that request, is found unusable and closed when the request ends
(Django's close_if_unusable_or_obsolete), as it always was."""

import re
import time

from django.db.backends.postgresql import base

IDLE_BEFORE_CHECK = 1.0  # seconds


class DatabaseWrapper(base.DatabaseWrapper):
    used_at = None  # when this connection last gave a cursor (time.monotonic)

    def get_new_connection(self, conn_params):
        self.prepared = set()  # the statements prepared on this connection (they last as long as it does)
        return super().get_new_connection(conn_params)

    def execute_prepared(self, cursor, name, sql, params):
        """Execute `sql` (with %s placeholders) as the statement `name`, prepared on this connection the first
        time: PostgreSQL plans a statement anew on every execution, which for a join of several tables can cost
        ten times the execution itself. A PREPARE outlives a rolled-back transaction, as this set does. Executed
        plainly when the settings say PREPARED_STATEMENTS: False (a pooler that hands each transaction another
        server connection)."""
        if not self.settings_dict.get("PREPARED_STATEMENTS", True):
            cursor.execute(sql, params)
            return
        if name not in self.prepared:
            numbered = iter(range(1, len(params) + 1))
            cursor.execute(f"PREPARE {name} AS " + re.sub("%s", lambda _m: f"${next(numbered)}", sql))
            self.prepared.add(name)
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)

    def close_if_health_check_failed(self):
        recent = self.used_at is not None and time.monotonic() - self.used_at < IDLE_BEFORE_CHECK
        if self.connection is not None and recent:
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _cursor(self, name=None):
        cursor = super()._cursor(name)
        self.used_at = time.monotonic()
        return cursor

    def close(self):
        super().close()
        self.used_at = None
