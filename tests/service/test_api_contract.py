"""The API keeps its own contract: what the OpenAPI document says is what the service does.

schemathesis generates requests from the document — valid ones and deliberately broken
ones — against the real service and checks every answer against the document: no 500, only
documented status codes, content types and bodies, broken input refused, unsupported
methods answered 405 with ``Allow``, authentication never ignored.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.service.conftest import call

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "negative_data_rejection", "unsupported_method",
          "ignored_auth", "use_after_free")  # fmt: skip


def _a_whole_dossier(base: str, token: str, payload: dict) -> str:
    """One contract with an amendment, a delivery and a payment, so that reads find data."""
    _, _, body = call(f"{base}/api/v1/contracts", token=token, body=payload)
    number = json.loads(body)["contract_no"]
    url = f"{base}/api/v1/contracts/{number}"
    call(f"{url}/status", token=token, body={"status": "effective"})
    call(f"{url}/amendments", token=token, body={
        "reason": "更换型号", "effective_on": "2026-12-01",
        "changes": [{"field": "spec", "line": 1, "after": "CK6180"}]})  # fmt: skip
    call(f"{url}/deliveries", token=token, body={
        "delivery_date": "2026-12-10", "items": [{"line": 2, "quantity": "2"}],
        "carrier": "中通快运", "tracking_no": "ZT998877", "prepared_by": "张敏"})  # fmt: skip
    call(f"{url}/payments", token=token, body={
        "amount": "1000.00", "paid_on": "2026-11-25", "method": "银行转账"})  # fmt: skip
    return number


def test_every_answer_matches_the_openapi_document(served, payload, tmp_path):
    base, token = served(role="admin")
    _a_whole_dossier(base, token, payload)
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{base}/api/v1/openapi.json", "--checks", ",".join(CHECKS),
         "-H", f"Authorization: Bearer {token}", "--seed", "20261124", "--max-examples", "25",
         "--generation-database", "none", "--no-color", "--request-timeout", "60"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )  # fmt: skip
    summary = result.stdout[result.stdout.rfind("FAILURES") :] or result.stdout[-6000:]
    assert result.returncode == 0, summary[-12000:] + result.stderr[-2000:]
