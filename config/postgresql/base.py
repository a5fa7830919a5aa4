"""PostgreSQL as Django has it, with one change: a connection kept between requests (CONN_MAX_AGE) is checked
(CONN_HEALTH_CHECKS: `SELECT 1`) only when it has not been used for IDLE_BEFORE_CHECK seconds.

Django checks before the first query of every request, which under load is one round trip more per request
(a tenth of a survey submission's time in a worker) for a connection used a few milliseconds before. What the
check guards against — a server restarted or a connection dropped while nobody used it — takes longer than
that; a connection broken while in use fails that request, is found unusable and closed when the request ends
(Django's close_if_unusable_or_obsolete), as it always was."""

import time

from django.db.backends.postgresql import base

IDLE_BEFORE_CHECK = 1.0  # seconds


class DatabaseWrapper(base.DatabaseWrapper):
    used_at = None  # when this connection last gave a cursor (time.monotonic)

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
