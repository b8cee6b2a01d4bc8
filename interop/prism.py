"""Prism on our contract: it loads spec/openapi.yaml and serves the page's examples, and our
contract suite, pointed at it, names the rules a static example server must break.

    python interop/prism.py        (make interop installs Prism first)
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from rotor_leads import spec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PRISM = HERE / ".cache" / "node_modules" / ".bin" / "prism"
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"prism exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"prism did not answer on {url} within {STARTUP_SECONDS} s")


def main() -> int:
    if not PRISM.exists():
        raise SystemExit("Prism is not installed: run `make interop`")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (HERE / ".cache" / "prism.log").open("wb")
    process = subprocess.Popen(
        [str(PRISM), "mock", "--host", "127.0.0.1", "--port", str(port), spec.document_path()],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(f"{base}/leads", process)
        page = httpx.get(f"{base}/leads", headers={"x-api-key": "any-key"}, timeout=10)
        example = spec.response_examples(200)["page"]
        print(
            f"1. Prism loaded spec/openapi.yaml and serves the page's example: "
            f"{'yes' if page.json() == example else 'NO'} (status {page.status_code})"
        )
        forced = httpx.get(f"{base}/leads", headers={"x-api-key": "k", "Prefer": "code=429"}, timeout=10)
        print(
            f"   Prefer: code=429 gives the documented 429 body: "
            f"{'yes' if forced.json() == spec.response_examples(429)['rateLimitExceeded'] else 'NO'}"
        )
        print("\n2. The contract suite against Prism (a static example server):\n")
        report = HERE / ".cache" / "prism-report.json"
        suite = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(ROOT / "contract_tests"),
                "-p",
                "no:cacheprovider",
                "-q",
                "--base-url",
                base,
                "--api-key",
                "prism-demo-key",
                "--report",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
        document = json.loads(report.read_text())
        print("   Documented rules it breaks (failures):")
        for broken in document["rules_broken"]:
            print(f"   - [{broken['rule']}] {broken['statement']} ({broken['checks']} check(s))")
        print("   Assumed rules it reads differently (spec gaps, not failures):")
        for gap in document["gaps"]:
            print(f"   - [{gap['rule']}] {gap['statement']}")
        requests = document["requests"]
        print(
            f"\n   verdict: {document['verdict']} (exit code {suite.returncode}); requests used:"
            f" {requests['used']} of a budget of {requests['budget']}"
        )
        if page.json() != example or document["verdict"] != "failed" or not document["rules_broken"]:
            print("\nUNEXPECTED: Prism should serve the example and our suite should fail it.")
            return 1
        return 0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
