"""The ``|dt`` filter writes its all-digit patterns itself (web/security.py ``_fmt_dt``): exactly what Babel
writes, in the reader's time zone, in both languages, for aware and naive (UTC) moments."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from flask_babel import force_locale, format_datetime

from web.security import _DIGITS_ONLY, _fmt_dt

MOMENTS = [
    dt.datetime(2026, 3, 2, 9, 30, 5, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 31, 16, 0, 0, tzinfo=dt.UTC),  # the next day in Beijing
    dt.datetime(2027, 1, 1, 0, 0, 59, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    dt.datetime(2026, 6, 30, 23, 59, 59),  # naive: UTC, as the database's UTC columns come back
    dt.datetime(1900, 1, 1, 0, 0, tzinfo=dt.UTC),
]

# ``app``: the pages' test app on the suite's own database (tests/web/conftest.py), not one configured
# from the environment, which would open the checkout's own database.


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_digit_patterns_are_written_as_babel_writes_them(app, locale):
    with app.test_request_context("/"), force_locale(locale):
        for moment, pattern in itertools.product(MOMENTS, _DIGITS_ONLY):
            assert _fmt_dt(moment, pattern) == format_datetime(moment, pattern), (moment, pattern)
        assert _fmt_dt(MOMENTS[1]) == "2027-01-01 00:00"


def test_other_patterns_and_values_go_to_babel(app):
    with app.test_request_context("/"), force_locale("en"):
        assert _fmt_dt(MOMENTS[0], "MMM d, y") == format_datetime(MOMENTS[0], "MMM d, y") == "Mar 2, 2026"
        assert _fmt_dt(None) == ""
