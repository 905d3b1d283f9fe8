"""Numbers without gaps or duplicates, on SQLite and on PostgreSQL, under concurrency and
failures: a number reserved for a filing that fails is taken by the next filing."""

from __future__ import annotations

import datetime as dt
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from archive import numbering
from archive.errors import Conflict
from archive.models import NumberReservation
from tests.conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES
PATTERN = "HT-{year:04d}{month:02d}-{seq:04d}"
DAY = dt.date(2026, 11, 20)


def test_eight_writers_with_failed_filings_leave_no_gap_and_no_duplicate(archive):
    used: list[str] = []
    guard = threading.Lock()
    rng = random.Random(7)
    fails = [rng.random() < 0.2 for _ in range(120)]  # one filing in five fails

    def file(n: int) -> None:
        reserved = numbering.reserve(archive.catalogue, PATTERN, DAY)
        if fails[n]:
            numbering.release(archive.catalogue, reserved)  # the rendering failed
            return
        with archive.catalogue.writing() as session:
            numbering.use(session, reserved)
        with guard:
            used.append(reserved.number)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(file, range(120)))
    assert len(used) == len(set(used)) == fails.count(False)
    # Given-back numbers are taken again: what was used is 1…n, except those still free now.
    with archive.catalogue.reading() as session:
        free = set(session.scalars(select(NumberReservation.number)))
    assert (
        sorted(used + sorted(free))
        == [f"HT-202611-{n:04d}" for n in range(1, 121)][: len(used) + len(free)]
    )


def test_a_reservation_left_by_a_crash_is_taken_again_after_it_goes_stale(archive):
    lost = numbering.reserve(archive.catalogue, PATTERN, DAY)  # the process dies here
    assert numbering.release_stale(archive.catalogue, older_than=dt.timedelta(0)) == 1
    assert numbering.reserve(archive.catalogue, PATTERN, DAY).number == lost.number
    with pytest.raises(Conflict), archive.catalogue.writing() as session:
        numbering.use(session, lost)  # the late holder cannot file under it any more


def test_money_beyond_32_bits_is_stored_exactly(create, payload):
    payload["items"] = [{"name": "整线设备", "spec": "LINE-1", "unit": "套",
                         "quantity": "3", "unit_price": "100000000.00"}]  # fmt: skip
    body = create(payload)
    assert body["total"] == "300000000.00"
    assert body["total_upper"] == "叁亿元整"
