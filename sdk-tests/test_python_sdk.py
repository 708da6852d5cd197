"""The official `converra` Python SDK from PyPI, unchanged, against our server."""

import contextlib
import os
import socket
import subprocess
import tempfile
import time
import uuid

import httpx
import pytest
from converra import Converra
from converra._hasher import hash_prompt_content

SERVER_BIN = os.environ.get("CONVERRA_SERVER_BIN", "target/debug/converra-server")
SYSTEM_PROMPT = "You are Acme's returns assistant.\n\nBe brief and friendly."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database(tmp: str) -> str:
    """A SQLite file in `tmp`, or, when CONVERRA_TEST_POSTGRES names a PostgreSQL server
    (scripts/test.sh starts a throwaway one), a new database there."""
    server = os.environ.get("CONVERRA_TEST_POSTGRES")
    if not server:
        return os.path.join(tmp, "converra.db")
    name = f"sdk_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", server, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    return server.rsplit("/", 1)[0] + "/" + name


def create_key(db: str, account: str, plan: str) -> str:
    """A new key (and its account, when new), as `keys create` prints it."""
    out = subprocess.run(
        [SERVER_BIN, "keys", "create", "--db", db, "--account", account, "--plan", plan],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def running_server(db: str, *flags: str):
    """`serve` over `db` on a free loopback port, with `flags`; yields the API base URL once
    it answers, and stops the server after."""
    port = free_port()
    proc = subprocess.Popen(
        [SERVER_BIN, "serve", "--db", db, "--addr", f"127.0.0.1:{port}", *flags],
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
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory() as tmp:
        db = database(tmp)
        key = create_key(db, "SDK Test", "pro")
        with running_server(db) as base:
            yield {"base": base, "key": key}


def api(server, method, path, **kwargs):
    headers = {"Authorization": f"Bearer {server['key']}"}
    return httpx.request(method, f"{server['base']}{path}", headers=headers, **kwargs)


def test_init_send_append_and_match(server):
    client = Converra(api_key=server["key"], base_url=server["base"]).init()
    assert client.testing_mode == "simulation"

    result = client.send(
        agent="Returns Bot",
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "Can I return these boots?"},
            {"role": "assistant", "content": "Yes, within 30 days."},
        ],
        status="active",
        session_id="session-1",
    )
    assert result.conversation_id.startswith("conv_")

    client.send(
        agent="Returns Bot",
        conversation_id=result.conversation_id,
        messages=[{"role": "user", "content": "Great, thanks"}],
        status="completed",
    )

    conv = api(server, "GET", f"/runs/{result.conversation_id}").json()["data"]
    assert conv["agentName"] == "Returns Bot"
    assert conv["messageCount"] == 4
    assert conv["status"] == "completed"
    assert conv["sessionId"] == "session-1"
    assert conv["metadata"]["source"] == "sdk"

    # The agent the SDK created carries the system prompt, so the resolver matches it.
    resolved = client.resolver.match_agent(SYSTEM_PROMPT)
    assert resolved is not None
    assert resolved.agent_id == conv["agentId"]
    assert resolved.content_hash == hash_prompt_content(SYSTEM_PROMPT)
    client.shutdown()


def test_init_preloads_the_hashes_of_registered_agents(server):
    created = api(server, "POST", "/agents", json={"name": "Preloaded", "content": "You help with billing."})
    assert created.status_code == 201
    agent_id = created.json()["data"]["id"]
    client = Converra(api_key=server["key"], base_url=server["base"]).init()
    resolved = client.resolver.match_agent("  You help   with billing. ")
    assert resolved is not None and resolved.agent_id == agent_id
    client.shutdown()


def test_a_wrong_key_raises_on_send(server):
    from converra import ConverraError

    client = Converra(api_key="sk_live_wrong", base_url=server["base"])
    with pytest.raises(ConverraError):
        client.send(agent="X", messages=[{"role": "user", "content": "hi"}])
    client.shutdown()
