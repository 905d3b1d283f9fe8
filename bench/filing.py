"""Filing a contract through the served API: POST /api/v1/contracts end to end, 1–4 clients.

make bench            # or: .venv/bin/python bench/filing.py [--clients 1 2 4] [--requests 40]

Starts ``hetong serve`` (waitress, the warm LibreOffice pool: one worker per core unless
``--workers``) on a free local port with a fresh data root under tempfile and the default
settings (inherited ``HETONG_*`` variables are dropped), creates a clerk and its token with
``hetong users add``, waits until ``GET /healthz`` shows every converter worker running, files
2 contracts untimed to warm up, then, for each number of clients, files REQUESTS contracts
(tests/data/contract.json grown to 10 lines) from that many threads over HTTP, each request on
its own connection as a client's would be. Every answer must be 201; any other is counted and
shown, and left out of the latencies. contracts/s counts the 201s over the wall time of the
batch. Figures, not assertions: the target (issue: p50 ≤ 400 ms with 4 clients on 2 cores) is
printed beside them; the machine's other load moves them. The server is stopped with SIGTERM
at the end, and any LibreOffice of its data root still running is killed and reported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from schemas import ContractSchema  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "contract.json"
TARGET_MS, TARGET_CLIENTS, TARGET_CORES = 400.0, 4, 2
READY_TIMEOUT = 180.0  # LibreOffice's cold start on a loaded machine
REQUEST_TIMEOUT = 120.0


def ten_lines() -> dict:
    payload = json.loads(SAMPLE.read_text("utf-8"))
    first, second = payload["items"]
    payload["items"] = [dict(first if n % 2 == 0 else second) for n in range(10)]
    ContractSchema().load(payload)  # a payload the service would refuse measures nothing
    return payload


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hetong_command() -> list[str]:
    script = Path(sys.executable).parent / "hetong"
    return [str(script)] if script.exists() else [sys.executable, "-m", "service.cli"]


class Server:
    """``hetong serve`` on a fresh data root, in a process group of its own."""

    def __init__(self, tmp: Path, workers: int) -> None:
        self.data_dir = (tmp / "var").resolve()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "serve.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HETONG_")}
        self.env.update(HETONG_DATA_DIR=str(self.data_dir), HETONG_HOST="127.0.0.1",
                        HETONG_PORT=str(self.port))  # fmt: skip
        if workers:
            self.env["HETONG_CONVERTER_WORKERS"] = str(workers)
        self.process: subprocess.Popen | None = None
        self.worker_pids: set[int] = set()

    def token(self, name: str = "bench", role: str = "clerk") -> str:
        out = subprocess.run([*hetong_command(), "users", "add", name, "--role", role],
                             env=self.env, cwd=ROOT, capture_output=True, text=True)  # fmt: skip
        if out.returncode:
            sys.exit(f"hetong users add failed ({out.returncode}):\n{out.stderr[-2000:]}")
        return out.stdout.strip().splitlines()[-1]

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*hetong_command(), "serve"], env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as answer:
                return json.load(answer)
        except (OSError, ValueError):
            return None

    def wait_ready(self) -> dict:
        """/healthz once every converter worker runs; exits with the log if it never does."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"hetong serve exited ({self.process.returncode}):\n{self.log_tail()}")
            body = self.health()
            workers = (body or {}).get("converter", {}).get("workers", [])
            if body and body.get("status") == "ok" and workers and all(
                w.get("state") in ("idle", "busy") for w in workers
            ):  # fmt: skip
                self.note_workers(body)
                return body
            time.sleep(0.5)
        self.stop()
        sys.exit(f"converter workers not ready after {READY_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def note_workers(self, body: dict | None) -> None:
        for worker in (body or {}).get("converter", {}).get("workers", []):
            if worker.get("pid"):
                self.worker_pids.add(worker["pid"])

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> list[str]:
        """SIGTERM, then the group; then whatever of our LibreOffice outlived it. Returns what
        had to be killed by force."""
        forced: list[str] = []
        if self.process is not None and self.process.poll() is None:
            self.note_workers(self.health())
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                forced.append(f"hetong serve (pid {self.process.pid}) ignored SIGTERM for 30 s")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # The converter workers run in sessions of their own: what is left of them names our
        # data root on its command line (nothing broader is touched); a worker /healthz named
        # is ended with its whole group, the rest one by one.
        for pid in sorted(self.leftovers()):
            forced.append(f"pid {pid} ({self.cmdline(pid)[:80]}) outlived the server")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                group = os.getpgid(pid)
                if group in self.worker_pids:
                    os.killpg(group, signal.SIGTERM)
                else:
                    os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while (left := self.leftovers()) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            forced.append(f"pid {pid} still there after SIGTERM: SIGKILL")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        return forced

    @staticmethod
    def cmdline(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return ""

    def leftovers(self) -> set[int]:
        """Live processes whose command line names our data root (soffice, its worker)."""
        mark = str(self.data_dir)
        found = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                line = self.cmdline(int(entry.name))
                if mark in line or Path(mark).as_uri() in line:
                    found.add(int(entry.name))
        return found


def post(url: str, token: str, body: bytes) -> tuple[int, float, str]:
    """(status, seconds, what went wrong) of one POST on a connection of its own."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})  # fmt: skip
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as answer:
            answer.read()
            return answer.status, time.perf_counter() - start, ""
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")[:300]
        return exc.code, time.perf_counter() - start, text
    except OSError as exc:
        return 0, time.perf_counter() - start, repr(exc)


def batch(url: str, token: str, body: bytes, clients: int, requests: int) -> dict:
    with ThreadPoolExecutor(max_workers=clients) as pool:
        start = time.perf_counter()
        results = list(pool.map(lambda _: post(url, token, body), range(requests)))
        wall = time.perf_counter() - start
    times = sorted(seconds * 1000 for status, seconds, _ in results if status == 201)
    failures = Counter(status for status, _, _ in results if status != 201)
    errors = [f"{status or 'no answer'}: {why}" for status, _, why in results if status != 201]
    return {"clients": clients, "requests": requests, "ok": len(times), "wall": wall,
            "p50": statistics.median(times) if times else None,
            "p95": percentile(times, 95), "failures": failures, "errors": errors}  # fmt: skip


def percentile(values: list[float], pct: int) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def table(rows: list[dict], cores: int, workers: int) -> None:
    print(f"\nPOST /api/v1/contracts, a 10-line contract, served by waitress with {workers} "
          f"LibreOffice worker(s), on {cores} core(s)\n")  # fmt: skip
    head = ("clients", "requests", "p50 ms", "p95 ms", "contracts/s", "not 201", "target")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        ms = "–" if r["p50"] is None else f"{r['p50']:.0f}"
        p95 = "–" if r["p95"] is None else f"{r['p95']:.0f}"
        target = "–"
        if r["clients"] == TARGET_CLIENTS:
            mark = "" if r["p50"] is None else (" ✓" if r["p50"] <= TARGET_MS else " ✗")
            ms += mark
            target = f"p50 ≤ {TARGET_MS:.0f} ms on {TARGET_CORES} cores"
        bad = ", ".join(f"{n}× {code or 'no answer'}" for code, n in r["failures"].items())
        print(f"| {r['clients']} | {r['requests']} | {ms} | {p95} "
              f"| {r['ok'] / r['wall']:.2f} | {bad or 0} | {target} |")  # fmt: skip
    if cores != TARGET_CORES:
        print(f"\n(the target is for {TARGET_CORES} cores; this machine gives {cores})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4], metavar="N",
                        help="concurrent clients, one batch each (default: 1 2 4)")  # fmt: skip
    parser.add_argument("--requests", type=int, default=40, metavar="N",
                        help="contracts filed per batch (default: 40)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=0, metavar="N",
                        help="HETONG_CONVERTER_WORKERS (default 0: one per core)")  # fmt: skip
    args = parser.parse_args()
    body = json.dumps(ten_lines(), ensure_ascii=False).encode("utf-8")
    cores = len(os.sched_getaffinity(0))
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="hetong-bench-filing-") as tmp:
        server = Server(Path(tmp), args.workers)
        token = server.token()
        started = time.perf_counter()
        server.start()
        try:
            health = server.wait_ready()
            workers = len(health["converter"]["workers"])
            print(f"hetong serve on {server.base}: {workers} LibreOffice worker(s) ready "
                  f"in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
            url = f"{server.base}/api/v1/contracts"
            warm = batch(url, token, body, clients=2, requests=2)  # untimed
            if warm["ok"] != 2:
                print(f"warm-up: {warm['errors']}", flush=True)
            for clients in args.clients:
                rows.append(batch(url, token, body, clients, args.requests))
                r = rows[-1]
                print(f"{clients} client(s): {r['ok']}/{r['requests']} answered 201 "
                      f"in {r['wall']:.1f} s", flush=True)  # fmt: skip
                for error in dict.fromkeys(r["errors"]):  # each distinct one once
                    print(f"  not 201 — {error}")
            server.note_workers(server.health())
        finally:
            forced = server.stop()
            log = server.log_tail(100_000)
        print(f"hetong serve stopped (exit {server.process.returncode})")
        for line in forced:
            print(f"left behind: {line}")
        trouble = [line for line in log.splitlines()
                   if "Traceback" in line or " ERROR " in line or " WARNING " in line]  # fmt: skip
        if trouble:
            print(f"server log: {len(trouble)} warning/error line(s), the first ones:")
            for line in trouble[:10]:
                print(f"  {line[:200]}")
    table(rows, cores, workers)


if __name__ == "__main__":
    main()
