"""Property-based testing of the whole API against its own OpenAPI document: schemathesis
(pinned in scripts/setup.sh) generates requests for every operation, valid and invalid, and
checks every answer: no 5xx, every status and body as the document declares, invalid input
refused, valid input accepted (except where schemathesis.toml says why a schema cannot
state the rule). Bounded: a fixed seed and 20 examples per operation."""

import os
import subprocess
import sys
import tempfile

from test_python_sdk import SERVER_BIN, create_key, database, running_server

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")


def test_every_operation_keeps_to_the_openapi_document():
    with tempfile.TemporaryDirectory() as tmp:
        db = database(tmp)
        key = create_key(db, "Contract", "enterprise")
        # Thousands of requests in a minute: the plan's rate limit would answer most of them
        # with 429 and leave the operations untested.
        subprocess.run(
            [SERVER_BIN, "accounts", "set-limits", "--db", db, "--account", "Contract",
             "--requests-per-minute", "1000000"],
            check=True, capture_output=True, text=True,
        )
        # The checks of requests without a key expect 401, not the 429 that a client address
        # gets after 20 of them a minute.
        flags = ("--durability", "normal", "--bad-keys-per-minute", "1000000")
        with running_server(db, *flags) as base:
            run = subprocess.run(
                [SCHEMATHESIS, "--no-color",
                 "--config-file", os.path.join(HERE, "schemathesis.toml"),
                 "run", f"{base}/openapi.json",
                 "--header", f"Authorization: Bearer {key}",
                 "--max-examples", "20", "--seed", "1", "--workers", "2"],
                capture_output=True, text=True, timeout=600,
            )
        assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
