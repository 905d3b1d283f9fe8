"""Print how long the steps of filing a contract take (figures, not assertions).

make bench            # or: .venv/bin/python bench/render.py [N]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from archive import contracts
from archive.audit import SYSTEM
from archive.core import Archive
from schemas import ContractSchema
from templates import sales_contract
from templates.convert import Converter
from templates.render import Renderer

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "contract.json"


def timed(label: str, runs: int, func) -> None:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    print(f"{label:<42} n={runs:<4} median {statistics.median(times) * 1000:8.1f} ms"
          f"   max {max(times) * 1000:8.1f} ms")  # fmt: skip


def main(runs: int = 20) -> None:
    payload = json.loads(SAMPLE.read_text("utf-8"))
    data = ContractSchema().load(payload)
    renderer = Renderer()
    context = sales_contract.context("HT-202611-0001", data)
    props = sales_contract.properties("HT-202611-0001", data)
    timed("validate (ContractSchema)", runs * 10, lambda: ContractSchema().load(payload))
    timed("render .docx (docxtpl)", runs, lambda: renderer.render("sales_contract", context,
                                                                  properties=props))  # fmt: skip
    docx = renderer.render("sales_contract", context, properties=props).data
    with tempfile.TemporaryDirectory() as tmp:
        converter = Converter(profile_dir=Path(tmp) / "profile")
        start = time.perf_counter()
        converter.start()
        print(f"{'LibreOffice listener cold start':<42} {time.perf_counter() - start:8.2f} s")
        timed("convert to PDF/A (warm unoserver)", runs, lambda: converter.to_pdf(docx))
        archive = Archive(data_dir=Path(tmp) / "var", converter=converter).open()
        data = contracts.validate(archive, payload)
        timed("file a contract end to end", runs, lambda: contracts.create(archive, data, SYSTEM))
        archive.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
