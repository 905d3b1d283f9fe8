"""Running a benchmark's phase in a fresh process, so that its peak RSS is its own (a child
forked from a big parent would report the parent's)."""

from __future__ import annotations

import subprocess
import sys


def run_phase(script: str, *args: str) -> str:
    """Run ``script`` with ``args`` in a new interpreter; its last line of output. A failing
    phase ends the benchmark with the phase's error output."""
    out = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{out.stderr[-4000:]}")
    return out.stdout.strip().splitlines()[-1]
