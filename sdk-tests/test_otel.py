"""OpenTelemetry from real clients on PyPI into the server: opentelemetry-sdk with the OTLP
HTTP exporter, and the openai client under three instrumentations, each calling a fake model
server. Every conversation is checked message by message."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from test_python_sdk import api, server  # noqa: F401  (the fixture: a real server and a key)

AGENT = os.path.join(os.path.dirname(__file__), "otel_agent.py")
SYSTEM_PROMPT = "You are Acme's order assistant. Look orders up before answering."
QUESTION = "Where is order 42?"
TOOL_RESULT = json.dumps({"order": 42, "status": "shipped"})
ANSWER = "Order 42 has shipped."


class FakeModel(BaseHTTPRequestHandler):
    """OpenAI's chat completions: asks for `lookup_order` first, answers once the tool did."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length))
        answered = request["messages"][-1]["role"] == "tool"
        if answered:
            message = {"role": "assistant", "content": ANSWER}
            finish, usage = "stop", (52, 6)
        else:
            message = {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "lookup_order", "arguments": "{\"order\": 42}"}}]}
            finish, usage = "tool_calls", (30, 7)
        body = json.dumps({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_800_000_000,
            "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                      "total_tokens": usage[0] + usage[1]},
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def model():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeModel)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def run_agent(server, model, mode):
    """Runs the agent in its own process (instrumentations patch the openai module for good),
    configured only through the exporter's standard environment variables."""
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"{server['base']}/otel",
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {server['key']}",
    }
    done = subprocess.run([sys.executable, AGENT, mode, model], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # The exporters log refused spans (partial success) and failed exports as warnings.
    assert "Failed to export" not in done.stderr, done.stderr
    return done.stderr


def conversation_of(server, agent_name):
    listed = api(server, "GET", "/conversations", params={"source": "otel"}).json()["data"]
    mine = [c for c in listed if c["agentName"] == agent_name]
    assert len(mine) == 1, listed
    return api(server, "GET", f"/conversations/{mine[0]['id']}").json()["data"]


def roles_and_texts(conversation):
    return [(m["role"], m["content"]) for m in conversation["messages"]]


def assert_order_transcript(conversation, *, system=True):
    """system, user, the assistant's tool call, the tool's answer (in the call or as its own
    message), the answer: what every client's two model calls come to."""
    messages = conversation["messages"]
    expected_start = [("system", SYSTEM_PROMPT)] if system else []
    assert roles_and_texts(conversation)[: len(expected_start) + 1] == expected_start + [
        ("user", QUESTION)], roles_and_texts(conversation)
    rest = messages[len(expected_start) + 1:]
    asked = rest[0]
    assert asked["role"] == "assistant"
    call = asked["toolCalls"][0]
    assert call["name"] == "lookup_order"
    assert call["arguments"] == {"order": 42}
    answered = call.get("result") is not None or any(
        m["role"] == "tool" and json.loads(m["content"]) == json.loads(TOOL_RESULT)
        for m in rest[1:])
    assert answered, rest
    assert (rest[-1]["role"], rest[-1]["content"]) == ("assistant", ANSWER)
    return rest


def test_genai_conventions_from_opentelemetry_sdk(server, model):
    run_agent(server, model, "genai")
    conversation = conversation_of(server, "Order Agent")
    assert conversation["source"] == "otel"
    assert conversation["sessionId"] == "genai-conv-1"
    rest = assert_order_transcript(conversation)
    assert rest[0]["toolCalls"][0]["result"] == {"order": 42, "status": "shipped"}
    assert rest[0]["usage"] == {"promptTokens": 30, "completionTokens": 7}
    failed = [m for m in rest if m["role"] == "tool"]
    assert len(failed) == 1 and failed[0]["toolCalls"][0]["name"] == "notify_customer"
    assert failed[0]["toolCalls"][0]["error"] == "SMTP server unreachable"
    assert conversation["hasFailedSteps"] is True
    assert rest[-1]["usage"] == {"promptTokens": 52, "completionTokens": 6}
    assert conversation["totalTokens"] == 95
    agent = api(server, "GET", f"/agents/{conversation['agentId']}").json()["data"]
    assert agent["content"] == SYSTEM_PROMPT
    versions = api(server, "GET", f"/agents/{conversation['agentId']}/versions").json()["data"]
    assert [v["source"] for v in versions] == ["otel"]


def check_instrumented(server, agent_name):
    conversation = conversation_of(server, agent_name)
    assert conversation["source"] == "otel"
    rest = assert_order_transcript(conversation)
    # The second call's prompt repeats the history: only the tool's answer is new in it.
    assert [m["role"] for m in rest] == ["assistant", "tool", "assistant"], rest
    assert json.loads(rest[1]["content"]) == json.loads(TOOL_RESULT)
    assert rest[1]["metadata"]["toolCallId"] == "call_1"
    assert rest[0]["usage"] == {"promptTokens": 30, "completionTokens": 7}
    assert rest[-1]["usage"] == {"promptTokens": 52, "completionTokens": 6}
    assert rest[-1]["model"] == "fake-model"
    assert rest[-1]["latencyMs"] > 0
    assert conversation["totalTokens"] == 95
    return conversation


def test_openai_instrumented_by_openai_v2(server, model):
    run_agent(server, model, "openai-v2")
    check_instrumented(server, "openai-v2-service")


def test_openai_instrumented_by_openllmetry(server, model):
    run_agent(server, model, "openllmetry")
    check_instrumented(server, "openllmetry-service")


def test_openai_instrumented_by_openinference(server, model):
    run_agent(server, model, "openinference")
    conversation = check_instrumented(server, "openinference-service")
    assert conversation["sessionId"] == "openinference-session-1"


def test_exports_without_a_key_are_refused(server):
    response = httpx.post(f"{server['base']}/otel/v1/traces", content=b"",
                          headers={"content-type": "application/x-protobuf"})
    assert response.status_code == 401
    assert response.json()["error"]["code"]
