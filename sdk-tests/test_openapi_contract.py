"""Property-based testing of the whole API against its own OpenAPI document: schemathesis
(pinned in scripts/setup.sh) generates requests for every operation, valid and invalid, and
checks every answer: no 5xx, every status and body as the document declares, invalid input
refused, valid input accepted (except where schemathesis.toml says why a schema cannot
state the rule). Bounded: a fixed seed and 20 examples per operation."""

import os
import subprocess
import sys
import tempfile
import time

import httpx

from test_python_sdk import SERVER_BIN, database, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")


def test_every_operation_keeps_to_the_openapi_document():
    with tempfile.TemporaryDirectory() as tmp:
        db = database(tmp)
        out = subprocess.run(
            [SERVER_BIN, "keys", "create", "--db", db, "--account", "Contract", "--plan", "enterprise"],
            check=True, capture_output=True, text=True,
        )
        key = out.stdout.strip().splitlines()[-1]
        # Thousands of requests in a minute: the plan's rate limit would answer most of them
        # with 429 and leave the operations untested.
        subprocess.run(
            [SERVER_BIN, "accounts", "set-limits", "--db", db, "--account", "Contract",
             "--requests-per-minute", "1000000"],
            check=True, capture_output=True, text=True,
        )
        port = free_port()
        proc = subprocess.Popen(
            # The checks of requests without a key expect 401, not the 429 that a client
            # address gets after 20 of them a minute.
            [SERVER_BIN, "serve", "--db", db, "--addr", f"127.0.0.1:{port}",
             "--durability", "normal", "--bad-keys-per-minute", "1000000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            deadline = time.time() + 20
            while True:
                try:
                    httpx.get(f"{base}/openapi.json")
                    break
                except httpx.TransportError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)
            run = subprocess.run(
                [SCHEMATHESIS, "--no-color",
                 "--config-file", os.path.join(HERE, "schemathesis.toml"),
                 "run", f"{base}/openapi.json",
                 "--header", f"Authorization: Bearer {key}",
                 "--max-examples", "20", "--seed", "1", "--workers", "2"],
                capture_output=True, text=True, timeout=600,
            )
            assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
