"""The audit log is a hash chain: whoever edits, removes or inserts an entry afterwards breaks
it at that entry, on either catalogue; writers at the same moment never fork it."""

from __future__ import annotations

import threading

from sqlalchemy import text

from archive import audit, chain
from archive.actor import Actor
from tests.conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES

CLERK = Actor("li", "clerk", client="10.0.0.7")


def write(archive, n: int, who: Actor = CLERK) -> None:
    for i in range(n):
        with archive.catalogue.writing() as session:
            audit.record(session, who, "contract.create", f"HT-202611-{i:04d}",
                         total="100.00", lines=[1, 2], note=None)  # fmt: skip


def test_a_chain_written_in_turn_holds(archive):
    write(archive, 5)
    found = chain.verify(archive.catalogue)
    assert found.intact and found.count == 5
    assert found.head == chain.head_of(archive.catalogue)


def test_a_transaction_rolled_back_leaves_no_mark_on_the_chain(archive):
    write(archive, 2)
    try:
        with archive.catalogue.writing() as session:
            audit.record(session, CLERK, "payment.create", "HT-202611-0001")
            raise RuntimeError("the payment fails")
    except RuntimeError:
        pass
    write(archive, 1)
    found = chain.verify(archive.catalogue)
    assert found.intact and found.count == 3


def test_writers_at_the_same_moment_keep_one_chain(archive):
    threads = [threading.Thread(target=write, args=(archive, 15, Actor(f"u{n}", "clerk")))
               for n in range(6)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = chain.verify(archive.catalogue)
    assert found.problem is None and found.count == 90


def test_an_edited_entry_is_named(archive):
    write(archive, 4)
    with archive.catalogue.engine.begin() as connection:
        second = connection.execute(text("SELECT seq FROM audit_log ORDER BY seq")).all()[1][0]
        connection.execute(text("UPDATE audit_log SET actor = 'wang' WHERE seq = :seq"),
                           {"seq": second})  # fmt: skip
    found = chain.verify(archive.catalogue)
    assert found.broken == second and "写入后被改动" in found.problem


def test_an_entry_slipped_in_without_the_program_is_named(archive):
    write(archive, 2)
    with archive.catalogue.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES"
            " ('2026-11-20 00:00:00', 'li', 'document.download', 'HT-1', '{}')"))  # fmt: skip
    found = chain.verify(archive.catalogue)
    assert found.count == 2 and "不在哈希链中" in found.problem


def test_a_savepoint_within_the_transaction_neither_seals_early_nor_loses_entries(archive):
    """Numbering opens a savepoint (archive.numbering.advance); entries recorded before and
    after it, and one inside a savepoint rolled back, end as the chain expects."""
    with archive.catalogue.writing() as session:
        audit.record(session, CLERK, "contract.create", "HT-1")
        try:
            with session.begin_nested():
                audit.record(session, CLERK, "contract.create", "HT-2")
                raise RuntimeError("this part fails")
        except RuntimeError:
            pass
        audit.record(session, CLERK, "contract.create", "HT-3")
        with session.begin_nested():
            audit.record(session, CLERK, "contract.create", "HT-4")
        audit.record(session, CLERK, "contract.create", "HT-5")
    found = chain.verify(archive.catalogue)
    assert found.intact, found.problem
    with archive.catalogue.engine.connect() as connection:
        targets = connection.execute(text("SELECT target FROM audit_log ORDER BY seq")).scalars()
        assert list(targets) == ["HT-1", "HT-3", "HT-4", "HT-5"]
