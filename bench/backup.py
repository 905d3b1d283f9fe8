"""Backup benchmark: hetong's backups of N filed contracts beside a full ``tar`` of the data root.

.venv/bin/python bench/backup.py [N]            # default N = 1000

Builds a data root of N contracts straight into a fresh catalogue (signed 2019–2025 over
five regions): per contract its row, a PDF and a .docx stored through ``archive.storage.put``
(random bytes, so every file has its own SHA-256 and compresses like a real PDF: 40–80 KB
and 15–25 KB, the sizes this system files), their ``Document`` rows (the .docx carrying the
words, as a filing does) and one ``contract.create`` entry of the audit chain. Then times,
each in a fresh process with its peak RSS:

* a first backup (``archive.backup.create``: every file is new to the target),
* a second one with nothing changed (it should copy no file),
* a third one after 5 % more contracts were filed (it should copy only theirs),
* ``archive.backup.check`` of the newest snapshot (reads every file against its SHA-256),
* ``archive.backup.restore`` of it into an empty data root (verify, copy, migrate, rebuild
  the search index, walk the audit chain).

Beside them, on the same data root, what an operator does without the feature: GNU
``tar -cf`` of the whole data root after each of the three states (tar copies everything
every time), ``tar --compare`` of the last archive against the data root, ``tar -xf`` of it
into an empty folder, and ``sqlite3 .backup`` of the catalogue alone for reference. hetong
fsyncs every file it writes (backup and restore), tar does not; the stored files are in the
page cache for both (the machine has the memory). "MB written" of a backup counts the files
it copied, the catalogue copy and the manifest. Figures only: nothing is asserted; a line
says whether the second backup copied no file and the third exactly the new contracts'.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive import audit, backup, startup  # noqa: E402
from archive.actor import Actor  # noqa: E402
from archive.backup.manifest import FILE as MANIFEST_FILE  # noqa: E402
from archive.core import CATALOGUE_FILE, Archive  # noqa: E402
from archive.models import Contract, Document  # noqa: E402
from bench.processes import run_phase  # noqa: E402
from templates.convert import Converter  # noqa: E402

ACTOR = Actor("bench", "admin", "bench")
GROWTH = 0.05  # share of contracts filed between the second and the third backup
PDF_SIZE = (40_000, 80_000)
DOCX_SIZE = (15_000, 25_000)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MEDIA = {"pdf": "application/pdf", "docx": DOCX}
MAGIC = {"pdf": b"%PDF-1.7\n", "docx": b"PK\x03\x04"}
REGIONS = ("华东", "华北", "华南", "西南", "东北")
SELLERS = ("上海申远机电设备有限公司", "苏州恒通精密机械有限公司", "宁波海曙电气有限公司")
BUYERS = ("杭州临平精工机械有限公司", "天津重工机械有限公司", "广州白云自动化设备有限公司",
          "成都高新数控技术有限公司", "沈阳铁西重型装备有限公司",
          "武汉光谷智能制造有限公司")  # fmt: skip
PRODUCTS = (("数控车床", "CK6150"), ("立式加工中心", "VMC850"), ("平面磨床", "M7130"),
            ("摇臂钻床", "Z3050"), ("液压折弯机", "WC67Y"))  # fmt: skip
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _mb(n: float) -> float:
    return n / 1024 / 1024


def _converter() -> Converter:
    """A converter that is never used: nothing here starts LibreOffice."""
    return Converter(url="http://127.0.0.1:9")


def _text(number: str, signed: dt.date, seller: str, buyer: str, product: tuple, total) -> str:
    name, spec = product
    return "\n".join([
        f"销售合同 合同编号：{number} 签订日期：{signed.isoformat()}",
        f"供方：{seller}，需方：{buyer}。经双方协商一致，订立本合同。",
        f"产品：{name} {spec}，数量 1 台，合同总价 {total:,.2f} 元。",
        "交货：合同生效后六十日内送达需方指定地点，运费由供方承担。验收：到货后七日内验收。",
        "付款方式：合同生效后七日内支付 30% 预付款，验收合格后付清余款。",
        "违约责任：任何一方违约，应按合同总价的千分之五每日向守约方支付违约金。",
        "争议解决：协商不成的，提交供方所在地仲裁委员会仲裁。本合同一式两份，双方各执一份。",
    ])  # fmt: skip


# -- building the data root ----------------------------------------------------------------


def build(data_dir: Path, count: int, seed: int) -> dict:
    """``count`` more contracts, each with a stored PDF and .docx of realistic size, their
    rows and an audit entry, into the data root (created on the first call)."""
    rng = random.Random(seed)
    archive = Archive(data_dir=data_dir, converter=_converter())
    archive.catalogue.migrate()
    monthly: dict[str, int] = {}
    volumes: dict[tuple[int, str], int] = {}
    with archive.catalogue.reading() as session:
        first = (session.scalar(select(func.max(Contract.id))) or 0) + 1
        for signed, region in session.execute(select(Contract.signed_on, Contract.region)):
            monthly[f"{signed:%Y%m}"] = monthly.get(f"{signed:%Y%m}", 0) + 1
            volumes[(signed.year, region)] = volumes.get((signed.year, region), 0) + 1
    start = dt.date(2019, 1, 1)
    span = (dt.date(2025, 12, 31) - start).days
    contracts, documents, digests = [], [], []
    stored = 0
    for contract_id in range(first, first + count):
        signed = start + dt.timedelta(days=rng.randint(0, span))
        region = rng.choice(REGIONS)
        month = f"{signed:%Y%m}"
        monthly[month] = seq = monthly.get(month, 0) + 1
        number = f"HT-{month}-{seq:04d}"
        volumes[(signed.year, region)] = place = volumes.get((signed.year, region), 0) + 1
        code = f"HT·{signed.year}·{region}·{place:04d}"
        total = Decimal(rng.randint(5_000_00, 2_000_000_00)) / 100
        seller, buyer, product = rng.choice(SELLERS), rng.choice(BUYERS), rng.choice(PRODUCTS)
        terms = {"region": region, "signed_on": signed.isoformat(), "seller": {"name": seller},
                 "buyer": {"name": buyer}, "payment": {"due_on": f"{signed.year}-12-31"},
                 "items": [{"name": product[0], "spec": product[1], "unit": "台",
                            "quantity": "1", "unit_price": f"{total:.2f}"}]}  # fmt: skip
        contracts.append({
            "id": contract_id, "contract_no": number, "archival_code": code,
            "status": "completed", "region": region, "signed_on": signed, "seller_name": seller,
            "buyer_name": buyer, "total": total, "original_total": total, "paid": total,
            "due_on": dt.date(signed.year, 12, 31), "data": terms, "terms": terms,
            "input_sha256": "0" * 64, "created_by": "bench", "owner": "bench", "created_at": NOW,
            "updated_at": NOW, "approved_by": "manager", "approved_at": NOW, "version": 1,
        })  # fmt: skip
        text = _text(number, signed, seller, buyer, product, total)
        for fmt, (low, high) in (("pdf", PDF_SIZE), ("docx", DOCX_SIZE)):
            data = MAGIC[fmt] + rng.randbytes(rng.randint(low, high) - len(MAGIC[fmt]))
            digest = archive.storage.put(data)
            digests.append(digest)
            stored += len(data)
            documents.append({
                "contract_id": contract_id, "kind": "sales_contract", "number": number,
                "archival_code": f"{code}-01", "format": fmt,
                "filename": f"销售合同-{number}.{fmt}", "media_type": MEDIA[fmt],
                "sha256": digest, "size": len(data), "created_by": "bench", "created_at": NOW,
                "text": text if fmt == "docx" else None,
            })  # fmt: skip
    with archive.catalogue.writing() as session:
        for at in range(0, len(contracts), 5000):
            session.execute(insert(Contract), contracts[at : at + 5000])
        for at in range(0, len(documents), 10000):
            session.execute(insert(Document), documents[at : at + 10000])
        for row in contracts:
            audit.record(session, ACTOR, "contract.create", row["contract_no"],
                         archival_code=row["archival_code"], documents=2)  # fmt: skip
    archive.close()
    return {"contracts": len(contracts), "documents": len(documents), "bytes": stored,
            "digests": digests}  # fmt: skip


# -- hetong's phases, each in a fresh process ----------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_backup(data_dir: Path, target: Path) -> dict:
    archive = Archive(data_dir=data_dir, converter=_converter())
    backup.Target.init(target)  # once, as `hetong backup init` does
    started = time.perf_counter()
    manifest = backup.create(archive, ACTOR, [target])
    seconds = time.perf_counter() - started
    archive.close()
    folder = target / "snapshots" / manifest.name
    snapshot_bytes = sum(p.stat().st_size for p in folder.iterdir())  # catalogue + manifest
    return {"seconds": seconds, "rss_mb": _peak_rss_mb(), "name": manifest.name,
            "files": len(manifest.files), "bytes": manifest.bytes,
            "copied_files": manifest.copied["files"], "copied_bytes": manifest.copied["bytes"],
            "written": manifest.copied["bytes"] + snapshot_bytes,
            "problems": len(manifest.problems)}  # fmt: skip


def phase_check(target: Path) -> dict:
    started = time.perf_counter()
    snapshot = backup.find(target)
    manifest, failures = backup.check(snapshot)
    seconds = time.perf_counter() - started
    read = manifest.bytes + manifest.catalogue["size"]
    return {"seconds": seconds, "rss_mb": _peak_rss_mb(), "name": manifest.name,
            "files": len(manifest.files), "read": read, "failures": len(failures)}  # fmt: skip


def phase_restore(target: Path, data_dir: Path) -> dict:
    marks: list[float] = []  # when the archive is opened, and open: the split of the time

    def open_archive(root: Path) -> Archive:  # the restore builds beside data_dir, closes it
        marks.append(time.perf_counter())
        archive = startup.start(Archive(data_dir=root, converter=_converter()), fill_index=False)
        marks.append(time.perf_counter())
        return archive

    started = time.perf_counter()
    done = backup.restore(backup.find(target), data_dir=data_dir, database_url="",
                          open_archive=open_archive, actor=ACTOR)  # fmt: skip
    seconds = time.perf_counter() - started
    catalogue = (data_dir / CATALOGUE_FILE).stat().st_size
    return {"seconds": seconds, "rss_mb": _peak_rss_mb(), "files": done.files,
            "written": done.bytes + catalogue, "indexed": done.indexed,
            "split": [marks[0] - started, marks[1] - marks[0], started + seconds - marks[1]],
            "chain": done.chain.count if done.chain else 0,
            "intact": bool(done.chain and done.chain.intact)}  # fmt: skip


# -- the peer: tar and sqlite3, run from here ----------------------------------------------


def timed(command: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in ok:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, done.returncode


def tar_create(data_dir: Path, out: Path) -> dict:
    seconds, _ = timed(["tar", "-cf", str(out), "-C", str(data_dir.parent), data_dir.name])
    return {"seconds": seconds, "mb": _mb(out.stat().st_size)}


# -- the run -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=20260101, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = {
            "build": lambda: build(args.data_dir, args.n, args.seed),
            "backup": lambda: phase_backup(args.data_dir, args.target),
            "check": lambda: phase_check(args.target),
            "restore": lambda: phase_restore(args.target, args.data_dir),
        }[args.phase]()
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="hetong-bench-backup-") as tmp:
        run(Path(tmp), args.n)


def _phase(*args: str) -> dict:
    return json.loads(run_phase(__file__, *args))


def run(tmp: Path, n: int) -> None:
    data_dir, target, tars = tmp / "var", tmp / "backups", tmp / "tars"
    tars.mkdir()
    grown = max(1, math.ceil(n * GROWTH))
    started = time.perf_counter()
    built = _phase(str(n), "--phase", "build", "--data-dir", str(data_dir))
    print(f"built {built['contracts']:,} contracts, {built['documents']:,} stored files "
          f"({_mb(built['bytes']):.1f} MB) in {time.perf_counter() - started:.1f} s",
          flush=True)  # fmt: skip
    on = ["--data-dir", str(data_dir), "--target", str(target)]
    rows: dict[str, dict] = {}

    first = _phase("--phase", "backup", *on)
    rows["first backup"] = {"hetong": first, "peer": tar_create(data_dir, tars / "1.tar")}
    (tars / "1.tar").unlink()

    second = _phase("--phase", "backup", *on)
    rows["second, nothing changed"] = {"hetong": second,
                                       "peer": tar_create(data_dir, tars / "2.tar")}  # fmt: skip
    (tars / "2.tar").unlink()

    added = _phase(str(grown), "--phase", "build", "--data-dir", str(data_dir),
                   "--seed", "5")  # fmt: skip
    third = _phase("--phase", "backup", *on)
    last = tars / "3.tar"
    rows[f"third, after +{grown:,} contracts"] = {"hetong": third,
                                                  "peer": tar_create(data_dir, last)}  # fmt: skip

    checked = _phase("--phase", "check", "--target", str(target))
    seconds, code = timed(["tar", "--compare", "-f", str(last), "-C", str(tmp)], ok=(0, 1))
    rows["check newest snapshot"] = {"hetong": checked,
                                     "peer": {"seconds": seconds, "mb": _mb(last.stat().st_size),
                                              "note": "tar --compare"}}  # fmt: skip

    restored_dir, extracted = tmp / "restored" / "var", tmp / "extracted"
    restored = _phase("--phase", "restore", "--target", str(target),
                      "--data-dir", str(restored_dir))  # fmt: skip
    extracted.mkdir()
    seconds, _ = timed(["tar", "-xf", str(last), "-C", str(extracted)])
    rows["restore into an empty data root"] = {
        "hetong": restored,
        "peer": {"seconds": seconds, "mb": _mb(last.stat().st_size)},
    }
    tar_mb = _mb(last.stat().st_size)
    last.unlink()
    shutil.rmtree(extracted)

    copy = tars / "catalogue.sqlite3"
    if shutil.which("sqlite3"):
        seconds, _ = timed(["sqlite3", str(data_dir / CATALOGUE_FILE), f".backup '{copy}'"])
        rows["catalogue alone"] = {"hetong": None,
                                   "peer": {"seconds": seconds, "mb": _mb(copy.stat().st_size),
                                            "note": "sqlite3 .backup"}}  # fmt: skip

    pool = sum(p.stat().st_size for p in (target / "files").rglob("*") if p.is_file())
    snapshots = sum(p.stat().st_size for p in (target / "snapshots").rglob("*") if p.is_file())
    _table(n, rows)
    _incremental(target, second, third, added)
    tarred = sum(row["peer"]["mb"] for row in list(rows.values())[:3])
    print(f"\nthe backup target after three backups: {_mb(pool + snapshots):.1f} MB "
          f"({_mb(pool):.1f} MB of files, each once, and {_mb(snapshots):.1f} MB for three "
          f"snapshots' catalogues and manifests); three tar archives: "
          f"{tarred:,.1f} MB")  # fmt: skip
    print(f"check: {checked['files']:,} files, {checked['failures']} failure(s); "
          f"tar --compare exit {code}.\nrestore: {restored['files']:,} files, "
          f"{restored['indexed']:,} index entries, audit chain of {restored['chain']:,} "
          f"entries {'intact' if restored['intact'] else 'BROKEN'}. "
          f"Last tar archive: {tar_mb:.1f} MB.")  # fmt: skip
    copying, opening, rest = restored["split"]
    print(f"restore's time: {copying:.2f} s to verify every hash and copy the catalogue and "
          f"files, {opening:.2f} s to open (migrate), {rest:.2f} s to rebuild the search "
          "index, walk the audit chain and record the restore.")  # fmt: skip


def _table(n: int, rows: dict[str, dict]) -> None:
    print(f"\nbackup of {n:,} filed contracts: hetong beside GNU tar of the data root "
          "(wall seconds; MB = 2^20 bytes)\n")  # fmt: skip
    head = ("phase", "hetong seconds", "MB written", "files copied", "hetong peak RSS MB",
            "peer seconds", "peer MB", "peer")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, row in rows.items():
        h, p = row["hetong"], row["peer"]
        if h is None:
            cells = ["–"] * 4
        elif "copied_files" in h:  # a backup
            cells = [f"{h['seconds']:.2f}", f"{_mb(h['written']):.1f}",
                     f"{h['copied_files']:,} of {h['files']:,}", f"{h['rss_mb']:.0f}"]  # fmt: skip
        elif "read" in h:  # the check: reads, writes nothing
            cells = [f"{h['seconds']:.2f}", f"0 (reads {_mb(h['read']):.1f})",
                     f"0 (reads {h['files']:,})", f"{h['rss_mb']:.0f}"]  # fmt: skip
        else:  # the restore
            cells = [f"{h['seconds']:.2f}", f"{_mb(h['written']):.1f}", f"{h['files']:,}",
                     f"{h['rss_mb']:.0f}"]  # fmt: skip
        peer = p.get("note") or ("tar -xf" if "restore" in name else "tar -cf")
        print(f"| {name} | " + " | ".join(cells)
              + f" | {p['seconds']:.2f} | {p['mb']:.1f} | {peer} |")  # fmt: skip


def _files(snapshot: Path) -> dict[str, int]:
    """The files a snapshot's manifest names (read as JSON: its other fields do not matter)."""
    return json.loads((snapshot / MANIFEST_FILE).read_text("utf-8"))["files"]


def _incremental(target: Path, second: dict, third: dict, added: dict) -> None:
    """Whether the second backup copied nothing and the third exactly the new files."""
    before, after = (_files(target / "snapshots" / r["name"]) for r in (second, third))
    new = set(after) - set(before)
    expected = set(added["digests"])
    exact = (
        new == expected
        and third["copied_files"] == len(expected)
        and third["copied_bytes"] == added["bytes"]
    )
    print(f"\nincremental: second backup copied {second['copied_files']} files "
          f"({'✓ none' if second['copied_files'] == 0 else '✗ expected none'}); third copied "
          f"{third['copied_files']:,} files ({_mb(third['copied_bytes']):.1f} MB) for "
          f"{added['contracts']:,} new contracts with {len(expected):,} files "
          f"({'✓ exactly theirs' if exact else '✗ not exactly theirs'}).")  # fmt: skip


if __name__ == "__main__":
    main()
