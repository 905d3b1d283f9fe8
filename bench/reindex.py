"""Reindex benchmark: a full ``hetong reindex`` of N documents through the real catalogue.

.venv/bin/python bench/reindex.py [N] [--engine tantivy|whoosh|postgresql] [--database-url URL]
                                                                   # default N = 100000

Builds a fresh catalogue straight with SQL inserts from the corpus of bench/search.py (the
same N documents, ~1,100 bytes of Chinese text each: contracts, amendments and delivery
notices): per contract a row with its terms, per amendment and delivery notice their rows
(the products the indexer reads), per document a PDF and a .docx row, the .docx carrying the
text (revision 0006) as a filing does. No stored files are written: a rebuild that opened
one (a row without text) would fail. Then, in a fresh process, opens the archive and times
``archive.indexer.rebuild`` — what ``hetong reindex`` runs —, with its peak RSS, and checks
the index against the catalogue (count, and ``hetong index check``). Figures only: the
targets (100,000 documents in ≤ 2 min, peak RSS ≤ 1 GB) are printed, not asserted.

The catalogue is SQLite in a temporary folder, or the (empty) PostgreSQL database of
``--database-url``; ``--engine postgresql`` without one starts a throw-away server as
bench/search.py does. A PostgreSQL server's memory is not in the process's RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive import indexing  # noqa: E402
from archive.core import Archive  # noqa: E402
from archive.models import Amendment, Contract, Delivery, Document  # noqa: E402
from archive.search import ENGINES, warm  # noqa: E402
from bench import search as search_bench  # noqa: E402
from bench.processes import run_phase  # noqa: E402

TARGET_N = 100_000
TARGET_SECONDS = 120.0
TARGET_RSS_MB = 1024
CHUNK = 2000  # contracts per insert transaction while building
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MEDIA = {"pdf": "application/pdf", "docx": DOCX}


# -- building the catalogue ---------------------------------------------------------------


def _rows(contract_id: int, code: str, docs: list) -> tuple[dict, list, list, list]:
    """The catalogue rows of one contract from its documents in the corpus."""
    first = docs[0]
    total = Decimal(first.amount_cents) / 100
    paid = {"unpaid": Decimal(0), "partially_paid": (total / 2).quantize(Decimal("0.01")),
            "paid": total}[first.payment_state]  # fmt: skip
    took_effect = first.status != "draft"
    words = first.products.split()  # "name model name model …", neither with a space
    items = [{"name": name, "spec": spec, "unit": "台", "quantity": "1",
              "unit_price": f"{total / (len(words) // 2):.2f}"}
             for name, spec in zip(words[::2], words[1::2], strict=True)]  # fmt: skip
    terms = {"region": first.region, "signed_on": first.signed_on.isoformat(),
             "seller": {"name": first.seller}, "buyer": {"name": first.buyer},
             "items": items}  # fmt: skip
    contract = {
        "id": contract_id, "contract_no": first.contract_no, "archival_code": code,
        "status": first.status, "region": first.region, "signed_on": first.signed_on,
        "seller_name": first.seller, "buyer_name": first.buyer, "total": total,
        "original_total": total, "paid": paid,
        "due_on": first.signed_on + dt.timedelta(days=90), "data": terms, "terms": terms,
        "input_sha256": "0" * 64, "created_by": "bench", "owner": "bench", "created_at": NOW,
        "updated_at": NOW, "approved_by": "manager" if took_effect else None,
        "approved_at": NOW if took_effect else None, "version": 1,
    }  # fmt: skip
    documents, amendments, deliveries = [], [], []
    for place, doc in enumerate(docs, start=1):
        if doc.kind == "amendment":
            amendments.append({
                "contract_id": contract_id, "seq": len(amendments) + 1, "number": doc.number,
                "reason": "需方生产计划调整", "effective_on": doc.signed_on,
                "changes": [{"field": "quantity", "item": 0, "label": "数量", "before": "1",
                             "after": "2", "reason": "需方生产计划调整"}],
                "total_before": total, "total_after": total, "major": False,
                "manager_signed": False, "created_by": "bench", "created_at": NOW,
            })  # fmt: skip
        elif doc.kind == "delivery_notice":
            deliveries.append({
                "contract_id": contract_id, "number": doc.number,
                "delivery_date": doc.signed_on + dt.timedelta(days=30),
                "ship_to": f"{doc.buyer} 仓库", "carrier": "德邦物流", "tracking_no": doc.number,
                "prepared_by": "bench", "created_by": "bench", "created_at": NOW,
                "lines": [{"item": 0, **items[0], "amount": items[0]["unit_price"]}],
            })  # fmt: skip
        size = len(doc.text.encode())
        for fmt in ("pdf", "docx"):  # as a filing: both renditions, the .docx has the words
            documents.append({
                "contract_id": contract_id, "kind": doc.kind, "number": doc.number,
                "archival_code": f"{code}-{place:02d}", "format": fmt,
                "filename": f"{doc.title}.{fmt}", "media_type": MEDIA[fmt],
                "sha256": hashlib.sha256(f"{doc.number}.{fmt}".encode()).hexdigest(),
                "size": size, "created_by": "bench", "created_at": NOW,
                "text": doc.text if fmt == "docx" else None,
            })  # fmt: skip
    return contract, documents, amendments, deliveries


def build(data_dir: Path, n: int, database_url: str) -> dict[str, int]:
    """The corpus's N documents and their contracts, straight into a fresh catalogue."""
    corpus = search_bench.corpus
    archive = Archive(data_dir=data_dir, database_url=database_url)
    archive.catalogue.migrate()
    with archive.catalogue.reading() as session:
        if session.scalar(select(func.count(Contract.id))):
            sys.exit("the catalogue is not empty: give an empty database")
    volumes: dict[tuple[int, str], int] = {}
    counts = {"contracts": 0, "documents": 0, "rows": 0, "amendments": 0, "deliveries": 0,
              "text_bytes": 0}  # fmt: skip
    pending: tuple[list, list, list, list] = ([], [], [], [])

    def flush() -> None:
        with archive.catalogue.writing() as session:
            for model, rows in zip((Contract, Document, Amendment, Delivery), pending,
                                   strict=True):  # fmt: skip
                if rows:
                    session.execute(insert(model), rows)
                rows.clear()

    grouped = itertools.groupby(corpus(n), key=lambda entry: entry.contract_no)
    for contract_id, (_, group) in enumerate(grouped, start=1):
        docs = list(group)
        key = (docs[0].year, docs[0].region)
        volumes[key] = place = volumes.get(key, 0) + 1
        code = f"HT·{key[0]}·{key[1]}·{place:04d}"
        for rows, made in zip(pending, _rows(contract_id, code, docs), strict=True):
            rows.extend(made if isinstance(made, list) else [made])
        counts["contracts"] += 1
        counts["documents"] += len(docs)
        counts["text_bytes"] += sum(len(d.text.encode()) for d in docs)
        counts["amendments"] += sum(d.kind == "amendment" for d in docs)
        counts["deliveries"] += sum(d.kind == "delivery_notice" for d in docs)
        counts["rows"] += 2 * len(docs)
        if len(pending[0]) >= CHUNK:
            flush()
    flush()
    archive.catalogue.dispose()
    return counts


# -- reindexing ---------------------------------------------------------------------------


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reindex(data_dir: Path, engine: str, database_url: str, check: bool) -> dict:
    """A full rebuild in this (fresh) process: seconds, peak RSS, and the index checked."""
    archive = Archive(data_dir=data_dir, database_url=database_url, search_engine=engine)
    archive.catalogue.migrate()
    archive.index.open()  # an (empty) index exists: the rebuild replaces it
    started = time.perf_counter()
    warm()  # jieba's dictionary: once per process, timed apart
    warm_seconds = time.perf_counter() - started
    rss_opened = rss_mb()
    samples: list[tuple[int, float, float]] = []  # (contracts done, seconds, peak RSS MB)
    spent = _time_the_parts(archive)

    def progress(done: int, total: int) -> None:
        samples.append((done, time.perf_counter() - started, rss_mb()))

    started = time.perf_counter()
    count = archive.indexer.rebuild(progress=progress)
    seconds = time.perf_counter() - started
    result = {
        "engine": engine, "entries": count, "seconds": seconds, "rss_mb": rss_mb(),
        "rss_opened": rss_opened, "warm": warm_seconds, "samples": samples, **spent,
        "indexed": archive.index.count(), "expected": archive.indexer.expected_count(),
    }  # fmt: skip
    with archive.catalogue.reading() as session:
        # Rows the rebuild would have read a stored file for (and saved the text of).
        result["without_text"] = session.scalar(
            select(func.count(func.distinct(Document.number))).where(Document.text.is_(None))
            .where(Document.format == "docx")
        )  # fmt: skip
    if check:
        started = time.perf_counter()
        report = archive.indexer.check()
        result["check"] = {key: len(value) for key, value in report.items()}
        result["check_seconds"] = time.perf_counter() - started
    path = data_dir / "index" / engine
    result["index_bytes"] = search_bench.engine_size(archive.index, path)
    sqlite = data_dir / "catalogue.sqlite3"
    result["catalogue_bytes"] = sum(
        p.stat().st_size for p in sqlite.parent.glob(sqlite.name + "*") if p.is_file()
    )
    archive.close()
    return result


def _time_the_parts(archive: Archive) -> dict[str, float]:
    """Wrap the rebuild's reading of the catalogue and its making of entries to time them
    (the rest is analysis and the engine); the totals fill in as the rebuild runs."""
    spent = {"reading_seconds": 0.0, "entries_seconds": 0.0}
    read = archive.indexer._contracts_in_batches
    make = indexing.entries

    def reading():
        batches = read()
        while True:
            started = time.perf_counter()
            batch = next(batches, None)
            spent["reading_seconds"] += time.perf_counter() - started
            if batch is None:
                return
            yield batch

    def entries(*args, **kwargs):
        started = time.perf_counter()
        try:
            return make(*args, **kwargs)
        finally:
            spent["entries_seconds"] += time.perf_counter() - started

    archive.indexer._contracts_in_batches = reading
    indexing.entries = entries
    return spent


# -- the parent ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=TARGET_N, help="documents")
    parser.add_argument("--engine", default="tantivy", choices=ENGINES)
    parser.add_argument("--database-url", default="",
                        help="an empty PostgreSQL database for the catalogue")  # fmt: skip
    parser.add_argument("--no-check", action="store_true",
                        help="skip the full index check after the rebuild")  # fmt: skip
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "build":
        print(json.dumps(build(args.data_dir, args.n, args.database_url)))
        return
    if args.phase == "reindex":
        result = reindex(args.data_dir, args.engine, args.database_url, not args.no_check)
        print(json.dumps(result))
        return
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="hetong-bench-reindex-"))
        url = args.database_url
        if args.engine == "postgresql" and not url:
            url = search_bench.throwaway_database(stack)
        common = ["--data-dir", str(Path(tmp) / "var"), "--database-url", url]
        started = time.perf_counter()
        built = json.loads(run_phase(__file__, str(args.n), "--phase", "build", *common))
        print(f"built {built['contracts']:,} contracts with {built['documents']:,} documents "
              f"({built['amendments']:,} amendments, {built['deliveries']:,} delivery notices; "
              f"{built['rows']:,} document rows, {built['text_bytes'] / built['documents']:,.0f}"
              f" bytes of text each) in {time.perf_counter() - started:.1f} s",
              flush=True)  # fmt: skip
        extra = ["--no-check"] if args.no_check else []
        phase = ["--phase", "reindex", "--engine", args.engine, *common, *extra]
        result = json.loads(run_phase(__file__, *phase))
    _report(args.n, built, result, "postgresql" if url else "sqlite")


def _report(n: int, built: dict, r: dict, catalogue: str) -> None:
    rate = r["entries"] / r["seconds"]
    # The targets are for 100,000 documents: scaled time at other sizes, RSS as is.
    seconds_target = TARGET_SECONDS * n / TARGET_N
    time_mark = " ✓" if r["seconds"] <= seconds_target else " ✗"
    rss_mark = " ✓" if r["rss_mb"] <= TARGET_RSS_MB else " ✗"
    print(f"\nfull reindex (archive.indexer.rebuild, as `hetong reindex`), {catalogue} "
          f"catalogue\n")  # fmt: skip
    head = ("engine", "documents", "seconds", "docs/s", "peak RSS MB", "target")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    scale = "" if n == TARGET_N else f" (scaled: ≤ {seconds_target:.1f} s at {n:,})"
    print(f"| {r['engine']} | {r['entries']:,} | {r['seconds']:.1f}{time_mark} | {rate:,.0f} "
          f"| {r['rss_mb']:.0f}{rss_mark} | 100,000 docs ≤ 120 s ({TARGET_N / TARGET_SECONDS:,.0f}"
          f" docs/s){scale}, peak RSS ≤ {TARGET_RSS_MB:,} MB |")  # fmt: skip
    size = r["index_bytes"]
    where = f"{r['catalogue_bytes'] / 2**20:.1f} MB" if r["catalogue_bytes"] else "in PostgreSQL"
    print(
        f"\nindex on disk: {size / 2**20:.1f} MB = {size / built['text_bytes']:.2f}× the text "
        f"({built['text_bytes'] / 2**20:.1f} MB); catalogue {where}"
    )
    print(
        f"RSS: {r['rss_opened']:.0f} MB with the archive open and jieba loaded "
        f"({r['warm']:.1f} s, not in the time), {r['rss_mb']:.0f} MB peak after the rebuild"
    )
    reading, making = r["reading_seconds"], r["entries_seconds"]
    print(
        f"of the {r['seconds']:.1f} s: reading the catalogue {reading:.1f} s, making entries "
        f"{making:.1f} s, analysis, engine and commit {r['seconds'] - reading - making:.1f} s"
    )
    samples = r["samples"]
    if samples:
        total = samples[-1][0]
        marks = sorted({min(len(samples), max(1, round(len(samples) * q))) - 1
                        for q in (0.25, 0.5, 0.75, 1.0)})  # fmt: skip
        print("contracts read (seconds in, peak RSS so far): " + "; ".join(
            f"{done:,}/{total:,}: {at:.1f} s, {mb:.0f} MB"
            for done, at, mb in (samples[i] for i in marks)))  # fmt: skip
    same = r["indexed"] == r["expected"] == built["documents"]
    print(
        f"index holds {r['indexed']:,} entries; the catalogue expects {r['expected']:,}; "
        f"built {built['documents']:,} documents: {'match' if same else 'MISMATCH'}"
    )
    print(f"documents without kept text (the rebuild would read their files): {r['without_text']}")
    if "check" in r:
        c = r["check"]
        print(
            f"index check ({r['check_seconds']:.1f} s): missing {c['missing']}, stale "
            f"{c['stale']}, orphaned {c['orphaned']}, pending {c['pending']}"
        )


if __name__ == "__main__":
    main()
