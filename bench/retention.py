"""Retention sweep benchmark: a dry run, a real run and a second real run over N contracts.

.venv/bin/python bench/retention.py [N]            # default N = 100000

Builds a synthetic catalogue of N contracts directly with SQL (signed 2019–2021 over five
regions; drafts, effective, completed and terminated contracts — some terminated before they
took effect —, paid, partly paid and unpaid, a few on legal hold; a contract, half of them a
delivery notice and some a signed scan, each with small fake stored files), then times
``archive.sweep.run`` as of 2026-01-01 — a dry run, a real run (the destruction lists
rendered through the real LibreOffice, one worker per core) and a second real run, which
changes nothing — each in a fresh process, with its peak RSS. LibreOffice's start is not
timed (a served archive keeps its workers warm). Figures only: the targets (dry run ≤ 10 s,
real run ≤ 60 s, peak RSS ≤ 500 MB at 100,000 contracts) are printed, not asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive import sweep  # noqa: E402
from archive.actor import Actor  # noqa: E402
from archive.core import Archive  # noqa: E402
from archive.models import Contract, Document, Record  # noqa: E402
from bench.processes import run_phase  # noqa: E402

AS_OF = dt.date(2026, 1, 1)
REGIONS = ("华东", "华北", "华南", "西南", "东北")
SELLERS = ("上海申远机电设备有限公司", "苏州恒通精密机械有限公司", "宁波海曙电气有限公司")
BUYERS = ("杭州临平精工机械有限公司", "天津重工机械有限公司", "广州白云自动化设备有限公司",
          "成都高新数控技术有限公司", "沈阳铁西重型装备有限公司",
          "武汉光谷智能制造有限公司")  # fmt: skip
ACTOR = Actor("bench", "admin", "bench")
TARGETS = {"dry run": 10.0, "real run": 60.0, "second real run": 60.0}
RSS_TARGET_MB = 500


def _status(rng: random.Random) -> tuple[str, bool]:
    """(status, took effect): 5 % drafts, 15 % effective, 60 % completed, 20 % terminated —
    a quarter of those before a manager approved them."""
    r = rng.random()
    if r < 0.05:
        return "draft", False
    if r < 0.20:
        return "effective", True
    if r < 0.80:
        return "completed", True
    return "terminated", rng.random() >= 0.25


def _paid(rng: random.Random, status: str, took_effect: bool, total: Decimal) -> Decimal:
    if not took_effect:
        return Decimal(0)
    r = rng.random()
    share = 0.55 if status == "completed" else 0.3  # paid in full
    if r < share:
        return total
    if r < share + 0.3:
        return (total * Decimal(rng.randint(10, 90)) / 100).quantize(Decimal("0.01"))
    return Decimal(0)


def build(data_dir: Path, n: int, seed: int = 20260101) -> dict[str, int]:
    """N contracts with their documents, straight into a fresh catalogue and file store."""
    rng = random.Random(seed)
    archive = Archive(data_dir=data_dir)
    archive.catalogue.migrate()
    files = archive.storage.root
    made_dirs: set[Path] = set()
    contracts, documents = [], []
    monthly: dict[str, int] = {}
    volumes: dict[tuple[int, str], int] = {}
    start = dt.date(2019, 1, 1)
    span = (dt.date(2021, 12, 31) - start).days
    now = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)

    def store(data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        folder = files / digest[:2] / digest[2:4]
        if folder not in made_dirs:
            folder.mkdir(parents=True, exist_ok=True)
            made_dirs.add(folder)
        (folder / digest).write_bytes(data)  # no fsync: a benchmark's throw-away store
        return digest, len(data)

    for contract_id in range(1, n + 1):
        signed = start + dt.timedelta(days=rng.randint(0, span))
        region = rng.choice(REGIONS)
        month = f"{signed:%Y%m}"
        monthly[month] = seq = monthly.get(month, 0) + 1
        number = f"HT-{month}-{seq:04d}"
        volumes[(signed.year, region)] = place = volumes.get((signed.year, region), 0) + 1
        code = f"HT·{signed.year}·{region}·{place:04d}"
        status, took_effect = _status(rng)
        total = Decimal(rng.randint(5_000_00, 2_000_000_00)) / 100
        paid = _paid(rng, status, took_effect, total)
        seller, buyer = rng.choice(SELLERS), rng.choice(BUYERS)
        terms = {"region": region, "signed_on": signed.isoformat(), "seller": {"name": seller},
                 "buyer": {"name": buyer}, "payment": {"due_on": f"{signed.year}-12-31"},
                 "items": [{"name": "数控车床", "spec": "CK6150", "unit": "台",
                            "quantity": "1", "unit_price": f"{total:.2f}"}]}  # fmt: skip
        contracts.append({
            "id": contract_id, "contract_no": number, "archival_code": code, "status": status,
            "region": region, "signed_on": signed, "seller_name": seller, "buyer_name": buyer,
            "total": total, "original_total": total, "paid": paid,
            "due_on": dt.date(signed.year, 12, 31), "data": terms, "terms": terms,
            "input_sha256": "0" * 64, "created_by": "bench", "owner": "bench", "created_at": now,
            "updated_at": now, "approved_by": "manager" if took_effect else None,
            "approved_at": now if took_effect else None, "version": 1,
            "hold_reason": "诉讼保全" if rng.random() < 0.01 else None,
        })  # fmt: skip
        kinds = [("sales_contract", number)]
        if rng.random() < 0.5:
            kinds.append(("delivery_notice", f"FH-{month}-{seq:04d}"))
        if rng.random() < 0.2:
            kinds.append(("signed_scan", f"{number}-SM01"))
        for kind, doc_no in kinds:
            for fmt in ("pdf", "docx") if kind != "signed_scan" else ("pdf",):
                digest, size = store(f"%fake {fmt} {kind} {doc_no}\n".encode())
                documents.append({
                    "contract_id": contract_id, "kind": kind, "number": doc_no, "format": fmt,
                    "archival_code": code, "filename": f"{doc_no}.{fmt}",
                    "media_type": "application/pdf", "sha256": digest, "size": size,
                    "created_by": "bench", "created_at": now,
                })  # fmt: skip
    with archive.catalogue.writing() as session:
        for start_at in range(0, len(contracts), 5000):
            session.execute(insert(Contract), contracts[start_at : start_at + 5000])
        for start_at in range(0, len(documents), 10000):
            session.execute(insert(Document), documents[start_at : start_at + 10000])
    archive.catalogue.dispose()
    return {"contracts": len(contracts), "documents": len(documents)}


def phase(data_dir: Path, name: str) -> dict:
    """One sweep in this (fresh) process: seconds, peak RSS, what it found and filed."""
    archive = Archive(data_dir=data_dir).open()  # as `hetong` opens it (templates registered)
    started = time.perf_counter()
    archive.converter.start()  # warm, as in a served archive
    warm = time.perf_counter() - started
    listing_from: list[float] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "lists" and not listing_from:
            listing_from.append(time.perf_counter())

    started = time.perf_counter()
    report = sweep.run(archive, as_of=AS_OF, dry_run=name == "dry run", actor=ACTOR,
                       progress=progress)  # fmt: skip
    ended = time.perf_counter()
    seconds = ended - started
    listing = ended - listing_from[0] if listing_from else 0.0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_mb, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    with archive.catalogue.reading() as session:
        records = session.scalar(select(func.count(Record.id)))
    archive.close()
    return {"seconds": seconds, "listing": listing, "rss_mb": rss_mb, "warm": warm, "cpu": cpu,
            "counts": report["counts"], "lists": len(report["destruction_lists"]),
            "records": records}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "build":
        print(json.dumps(build(args.data_dir, args.n)))
        return
    if args.phase:
        print(json.dumps(phase(args.data_dir, args.phase)))
        return
    with tempfile.TemporaryDirectory(prefix="hetong-bench-retention-") as tmp:
        data_dir = str(Path(tmp) / "var")
        started = time.perf_counter()
        building = [str(args.n), "--phase", "build", "--data-dir", data_dir]
        built = json.loads(run_phase(__file__, *building))
        print(f"built {built['contracts']:,} contracts and {built['documents']:,} documents "
              f"in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        results = {name: json.loads(run_phase(__file__, "--phase", name, "--data-dir", data_dir))
                   for name in ("dry run", "real run", "second real run")}  # fmt: skip
    _table(args.n, results)


def _table(n: int, results: dict[str, dict]) -> None:
    print(f"\nretention sweep over {n:,} contracts, as of {AS_OF} "
          f"(LibreOffice warm: not timed)\n")  # fmt: skip
    head = ("", "seconds", "of which lists", "target", "CPU s of hetong", "peak RSS MB", "moved",
            "newly pending", "lists filed")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, r in results.items():
        target = TARGETS[name] if n >= 100_000 else None
        mark = "" if target is None else (" ✓" if r["seconds"] <= target else " ✗")
        rss_mark = " ✓" if r["rss_mb"] <= RSS_TARGET_MB else " ✗"
        print(f"| {name} | {r['seconds']:.1f}{mark} | {r['listing']:.1f} "
              f"| {f'≤ {target:.0f} s' if target else '–'} | {r['cpu']:.1f} "
              f"| {r['rss_mb']:.0f}{rss_mark} | {r['counts']['moved_to_unpaid']:,} "
              f"| {r['counts']['pending_destruction']:,} | {r['lists']} |")  # fmt: skip
    counts = results["real run"]["counts"]
    print("\nreal run outcomes: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"records in the catalogue after the runs: {results['second real run']['records']}")


if __name__ == "__main__":
    main()
