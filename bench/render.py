"""How long filing a contract takes, step by step, and PDF throughput next to Carbone's.

make bench            # or: .venv/bin/python bench/render.py [RUNS] [DOCS] [ROUNDS]

The contract is tests/data/contract.json grown to 10 lines. The throughput table runs
hetong's whole PDF chain as ``archive.filing.render`` does it (docxtpl render, conversion by
the worker pool, ``pdf.check``) from 1, 2 or 4 caller threads, and Carbone
3.8.2 (bench/peer, installed by ``make bench``) on the same contract, with the same number of
LibreOffice processes, taking turns; each figure is the best of ROUNDS (2) runs of DOCS (40)
documents. Figures, not assertions; the machine's other load moves them.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from archive import contracts
from archive.actor import SYSTEM
from archive.core import Archive
from schemas import ContractSchema
from templates import BUNDLED, sales_contract
from templates import pdf as pdfs
from templates.convert import Converter
from templates.render import Renderer

sys.path.insert(0, str(Path(__file__).resolve().parent / "peer"))
import carbone  # bench/peer/carbone.py

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "contract.json"
NUMBER = "HT-202611-0001"


def ten_lines() -> dict:
    payload = json.loads(SAMPLE.read_text("utf-8"))
    first, second = payload["items"]
    payload["items"] = [dict(first if n % 2 == 0 else second) for n in range(10)]
    return payload


def timed(label: str, runs: int, func: Callable[[], object]) -> None:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    print(f"{label:<44} n={runs:<4} median {statistics.median(times) * 1000:8.1f} ms"
          f"   max {max(times) * 1000:8.1f} ms")  # fmt: skip


def throughput(work: Callable[[], object], *, callers: int, docs: int) -> float:
    """docs/s of ``docs`` runs of ``work`` shared by ``callers`` threads."""
    left = [docs]
    lock = threading.Lock()
    failures: list[BaseException] = []

    def caller() -> None:
        while True:
            with lock:
                if left[0] == 0 or failures:
                    return
                left[0] -= 1
            try:
                work()
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return docs / (time.perf_counter() - start)


class Chain:
    """The PDF half of ``archive.filing.render``: fill, convert, check."""

    def __init__(self, renderer: Renderer, converter: Converter, payload: dict) -> None:
        data = ContractSchema().load(payload)
        self.renderer, self.converter = renderer, converter
        self.context = sales_contract.context(NUMBER, data)
        self.properties = sales_contract.properties(NUMBER, data)

    def __call__(self) -> bytes:
        word = self.renderer.render("sales_contract", self.context, properties=self.properties)
        raw = self.converter.to_pdf(word.data)
        pdfs.check(raw, title=self.properties["title"])
        return raw


def steps(tmp: Path, payload: dict, runs: int) -> None:
    print("Steps of filing one 10-line contract (one at a time, warm LibreOffice)")
    data = ContractSchema().load(payload)
    renderer = Renderer()
    context = sales_contract.context(NUMBER, data)
    props = sales_contract.properties(NUMBER, data)
    timed("validate (ContractSchema)", runs * 10, lambda: ContractSchema().load(payload))
    timed("render .docx (docxtpl)", runs, lambda: renderer.render("sales_contract", context,
                                                                  properties=props))  # fmt: skip
    docx = renderer.render("sales_contract", context, properties=props).data
    converter = Converter(profile_dir=tmp / "steps" / "profile", workers=1)
    start = time.perf_counter()
    converter.start()
    print(f"{'LibreOffice worker cold start':<44} {time.perf_counter() - start:8.2f} s")
    for _ in range(3):  # the first documents load fonts and the filters
        converter.to_pdf(docx)
    timed("convert to PDF/A (warm worker)", runs, lambda: converter.to_pdf(docx))
    raw = converter.to_pdf(docx)
    timed("check: PDF/A, title, fonts (pypdf)", runs,
          lambda: pdfs.check(raw, title=props["title"]))  # fmt: skip
    archive = Archive(data_dir=tmp / "var", converter=converter).open()
    data = contracts.validate(archive, payload)
    timed("file a contract end to end", runs, lambda: contracts.create(archive, data, SYSTEM))
    archive.close()


CONFIGS = ((1, 1), (2, 2), (2, 4))  # (LibreOffice processes, callers)


def hetong(tmp: Path, payload: dict, docs: int, workers: int, callers: int) -> float:
    converter = Converter(profile_dir=tmp / f"pool-{workers}", workers=workers, recycle=0,
                          queue=callers)  # fmt: skip
    try:
        converter.start()
        chain = Chain(Renderer(), converter, payload)
        throughput(chain, callers=workers, docs=2 * workers)  # warm every worker
        return throughput(chain, callers=callers, docs=docs)
    finally:
        converter.close()


class Peer:
    """Carbone on the same contract, if bench/peer has it installed."""

    def __init__(self, tmp: Path, payload: dict) -> None:
        self.ready = carbone.available()
        if not self.ready:
            return
        self.template = carbone.template(BUNDLED / "sales_contract.docx", tmp / "carbone.docx")
        context = sales_contract.context(NUMBER, ContractSchema().load(payload))
        self.data = tmp / "carbone.json"
        self.data.write_text(json.dumps(carbone.data(context), ensure_ascii=False), "utf-8")

    def rate(self, docs: int, factories: int, callers: int) -> float | None:
        if not self.ready:
            return None
        try:
            return carbone.run(self.template, self.data, factories=factories, callers=callers,
                               docs=docs)  # fmt: skip
        except (RuntimeError, OSError) as exc:
            print(f"Carbone did not run: {exc}")
            self.ready = False
            return None


def compare(tmp: Path, payload: dict, docs: int, rounds: int) -> tuple[dict, dict]:
    """Best docs/s of ``rounds`` rounds, hetong and Carbone taking turns on each setting."""
    ours: dict = {}
    theirs: dict = {}
    peer = Peer(tmp, payload)
    for _ in range(rounds):
        for key in CONFIGS:
            ours[key] = max(ours.get(key, 0.0), hetong(tmp, payload, docs, *key))
            if (rate := peer.rate(docs, *key)) is not None:
                theirs[key] = max(theirs.get(key, 0.0), rate)
    return ours, theirs


def table(ours: dict, theirs: dict, rounds: int) -> None:
    print()
    print(f"PDF throughput, the same 10-line contract, docs/s, best of {rounds} rounds "
          "(higher is better)")  # fmt: skip
    print("hetong: render + convert + check, PDF/A-2b, tagged, fonts embedded")
    print("Carbone 3.8.2: render + convert, plain PDF (not PDF/A), `factories` LibreOffice")
    header = f"{'LibreOffice processes / callers':<34}{'hetong':>10}{'Carbone':>10}{'ratio':>9}"
    print(header)
    print("-" * len(header))

    def row(label: str, mine: float, peer_rate: float | None) -> None:
        other = f"{peer_rate:10.2f}{mine / peer_rate:9.2f}" if peer_rate else f"{'–':>10}{'–':>9}"
        print(f"{label:<34}{mine:10.2f}{other}")

    for key in CONFIGS:
        row(f"{key[0]} / {key[1]}", ours[key], theirs.get(key))
    scale = f"{ours[2, 2] / ours[1, 1]:10.2f}"
    scale += f"{theirs[2, 2] / theirs[1, 1]:10.2f}" if theirs else f"{'–':>10}"
    print(f"{'2 workers / 1 worker (2 callers)':<34}{scale}")
    print("-" * len(header))
    if not theirs:
        print("Carbone is not installed (bench/peer: `npm install`, run by `make bench`): "
              "its figures are missing.")  # fmt: skip
    print("targets (issue 16): hetong ≥ 1.2 × Carbone with as many LibreOffice; "
          "2 workers ≥ 1.7 × 1 worker")  # fmt: skip


def main(runs: int = 20, docs: int = 40, rounds: int = 2) -> None:
    payload = ten_lines()
    with tempfile.TemporaryDirectory() as tmp:
        steps(Path(tmp), payload, runs)
        ours, theirs = compare(Path(tmp), payload, docs, rounds)
    table(ours, theirs, rounds)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:4]))
