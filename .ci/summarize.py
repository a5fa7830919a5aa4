"""Sum the closing lines of every pytest run in a CI log into one plain line: `N passed, N failed, N skipped`.

pytest ends each run with a line such as `=== 1663 passed, 3 skipped in 270.79s ===`; CI runs several stages
(PostgreSQL, its load tests, SQLite), and the last line of the log is read as the number of tests run.
"""

import re
import sys

CLOSING = re.compile(r"^=+ (?P<body>.*\d+ (?:passed|failed|errors?|skipped|deselected).*) in [\d.]+s.*=+$")
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


def main(path):
    totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    stages = 0
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = CLOSING.match(line.strip())
            if not match:
                continue
            stages += 1
            for number, kind in COUNT.findall(match["body"]):
                kind = {"errors": "error", "xfailed": "passed", "xpassed": "failed"}.get(kind, kind)
                totals[kind] += int(number)
    failed = totals["failed"] + totals["error"]
    sys.stdout.write(f"{stages} test stages\n")
    sys.stdout.write(f"{totals['passed']} passed, {failed} failed, {totals['skipped']} skipped\n")
    return 1 if failed or not stages else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
