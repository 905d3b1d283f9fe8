"""What a backup target keeps: the newest few, one a day for a week, one a month for a year —
and no file that no kept snapshot needs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from archive import journal
from archive.backup import Manifest, Target

SHANGHAI = ZoneInfo("Asia/Shanghai")


def snapshot(target: Target, at: dt.datetime, files: dict[str, int]) -> str:
    name = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = target.snapshots_dir / name
    folder.mkdir(parents=True)
    Manifest(name=name, created_at=at.isoformat(), hetong_version="0", schema_revision="0012",
             dialect="sqlite", catalogue={}, counts={}, audit_head="0:", files=files,
             ).write(folder)  # fmt: skip
    for digest in files:
        target.path_for(digest).parent.mkdir(parents=True, exist_ok=True)
        target.path_for(digest).write_bytes(b"x")
    return name


def test_old_snapshots_thin_out_by_day_then_by_month(tmp_path):
    target = Target(tmp_path)
    names = {}
    # Two a day at 02:30 and 14:30 Beijing time from 1 March to 30 April.
    day = dt.datetime(2026, 3, 1, 2, 30, tzinfo=SHANGHAI)
    while day.month < 5:
        for hour in (0, 12):
            at = day + dt.timedelta(hours=hour)
            names[at] = snapshot(target, at, {f"{at:%m%d%H}".ljust(64, "0"): 1})
        day += dt.timedelta(days=1)

    removed = target.prune(last=3, daily=7, monthly=12, zone=SHANGHAI)

    kept = [s.name for s in target.snapshots()]
    newest = sorted(names)[-3:]
    # The 3 newest; the evening one of each of the last 7 days; the newest of March.
    expected = {names[at] for at in newest}
    expected |= {names[dt.datetime(2026, 4, d, 14, 30, tzinfo=SHANGHAI)] for d in range(24, 31)}
    expected |= {names[dt.datetime(2026, 3, 31, 14, 30, tzinfo=SHANGHAI)]}
    assert set(kept) == expected
    assert len(removed) == len(names) - len(expected)
    # Only the files of kept snapshots stay in the pool.
    pool = {p.name for p in target.files.glob("??/??/*")}
    assert pool == {d for name in kept for d in Manifest.read(target.snapshots_dir / name).files}


def test_a_snapshot_cut_short_is_never_listed_and_is_cleared_by_the_next(tmp_path):
    target = Target(tmp_path)
    staging = target.stage("20261125T010000Z")
    (staging / "catalogue.sqlite3").write_bytes(b"half")
    assert target.snapshots() == []
    target.stage("20261126T010000Z")
    assert not staging.exists()


def test_the_journal_survives_a_line_cut_short_and_is_written_only_to_a_target(tmp_path):
    entry = {"destruction": 1, "approved_at": "2026-01-05T01:30:00+00:00",
             "approved_by": "wang", "note": "到期销毁", "contracts": ["HT-202003-0001"],
             "certificates": ["XH-2026-0001"]}  # fmt: skip
    unmounted = tmp_path / "mnt"
    unmounted.mkdir()
    with pytest.raises(journal.NotATarget):
        journal.append(unmounted, [entry])
    assert list(unmounted.iterdir()) == []

    target = Target.init(tmp_path / "backups").root
    journal.append(target, [entry])
    with journal.path(target).open("ab") as fh:  # a crash in the middle of a Chinese note
        fh.write('{"destruction": 2, "note": "到期'.encode()[:-1])
    second = {**entry, "destruction": 3, "approved_at": "2026-02-01T01:30:00+00:00"}
    assert journal.append(target, [second]) == 1
    assert [e["destruction"] for e in journal.read(target)] == [1, 3]
