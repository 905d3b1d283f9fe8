"""More than one machine: two ``hetong serve`` processes share one PostgreSQL catalogue and
one file store, clerks file through both at once, and nothing is lost or numbered twice."""

from __future__ import annotations

import copy
import json
import time
import urllib.error
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from tests.service.conftest import call


def test_two_nodes_file_concurrently_without_losing_or_repeating_a_number(
    served, postgres, payload
):
    database = {"HETONG_DATABASE_URL": postgres.create()}
    first, token = served(name="shared", role="clerk", **database)
    second, _ = served(name="shared", role="clerk", token=token, **database)

    def file(n: int) -> tuple[int, str]:
        body = copy.deepcopy(payload)
        body["buyer"]["name"] = f"并发客户{n:02d}号有限公司"
        base = (first, second)[n % 2]
        for _attempt in range(10):  # as a client does: a busy converter says when to come back
            try:
                status, _, answer = call(f"{base}/api/v1/contracts?wait=true", token=token,
                                         body=body)  # fmt: skip
                return status, json.loads(answer)["contract_no"]
            except urllib.error.HTTPError as busy:
                if busy.code != 503 or "Retry-After" not in busy.headers:
                    raise
                time.sleep(int(busy.headers["Retry-After"]))
        raise AssertionError("the converter stayed busy for 20 seconds")

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(file, range(12)))
    assert [status for status, _ in results] == [201] * 12
    numbers = sorted(number for _, number in results)
    assert numbers == [f"HT-202611-{n:04d}" for n in range(1, 13)]  # no gap, no repeat
    for base in (first, second):  # each node sees every contract, filed through either
        listed = json.loads(call(f"{base}/api/v1/contracts?per_page=50", token=token)[2])
        assert listed["total"] == 12
        query = urllib.parse.quote("并发客户")
        found = json.loads(call(f"{base}/api/v1/search?q={query}&per_page=50", token=token)[2])
        assert sorted(hit["number"] for hit in found["hits"]) == numbers
        dossier = json.loads(call(base + listed["items"][0]["url"], token=token)[2])
        why = urllib.parse.urlencode({"purpose": "核对条款"})  # 查阅登记
        status, _, data = call(f"{base}{dossier['documents'][0]['pdf']['url']}?{why}",
                               token=token)  # fmt: skip
        assert status == 200 and data.startswith(b"%PDF")
