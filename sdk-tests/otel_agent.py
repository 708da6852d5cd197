"""A small support agent that exports OpenTelemetry to the Converra server, the way a team's
own agent would: `python otel_agent.py MODE MODEL_BASE_URL`, with the exporter configured only
through the standard environment variables (OTEL_EXPORTER_OTLP_ENDPOINT and
OTEL_EXPORTER_OTLP_HEADERS).

MODE is one of:
  genai         spans written by hand with opentelemetry-sdk in the GenAI semantic conventions
  openai-v2     the openai client instrumented by opentelemetry-instrumentation-openai-v2
  openllmetry   the openai client instrumented by OpenLLMetry (opentelemetry-instrumentation-openai)
  openinference the openai client instrumented by openinference-instrumentation-openai
"""

import json
import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

SYSTEM_PROMPT = "You are Acme's order assistant. Look orders up before answering."
QUESTION = "Where is order 42?"
TOOL_RESULT = {"order": 42, "status": "shipped"}
ANSWER = "Order 42 has shipped."
TOOLS = [{
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Finds an order by number.",
        "parameters": {"type": "object", "properties": {"order": {"type": "integer"}}},
    },
}]


def tracer_provider(service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    # Simple, not batched: each span leaves when it ends, so the server sees them in order.
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def genai_spans() -> None:
    """The latest GenAI conventions, attribute by attribute."""
    provider = tracer_provider("genai-agent-service")
    tracer = trace.get_tracer("otel_agent")
    system = json.dumps([{"type": "text", "content": SYSTEM_PROMPT}])
    user = {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}
    call = {"type": "tool_call", "id": "call_1", "name": "lookup_order", "arguments": {"order": 42}}
    common = {"gen_ai.agent.name": "Order Agent", "gen_ai.conversation.id": "genai-conv-1",
              "gen_ai.provider.name": "openai", "gen_ai.request.model": "fake-model"}
    with tracer.start_as_current_span("invoke_agent Order Agent", attributes={
            **common, "gen_ai.operation.name": "invoke_agent"}):
        with tracer.start_as_current_span("chat fake-model", attributes={
                **common, "gen_ai.operation.name": "chat",
                "gen_ai.system_instructions": system,
                "gen_ai.input.messages": json.dumps([user]),
                "gen_ai.output.messages": json.dumps([
                    {"role": "assistant", "parts": [call], "finish_reason": "tool_call"}]),
                "gen_ai.usage.input_tokens": 30, "gen_ai.usage.output_tokens": 7}):
            pass
        with tracer.start_as_current_span("execute_tool lookup_order", attributes={
                **common, "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "lookup_order", "gen_ai.tool.call.id": "call_1",
                "gen_ai.tool.call.arguments": json.dumps({"order": 42}),
                "gen_ai.tool.call.result": json.dumps(TOOL_RESULT)}):
            pass
        with tracer.start_as_current_span("execute_tool notify_customer", attributes={
                **common, "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "notify_customer", "gen_ai.tool.call.id": "call_2"}) as span:
            span.set_status(Status(StatusCode.ERROR, "SMTP server unreachable"))
        with tracer.start_as_current_span("chat fake-model", attributes={
                **common, "gen_ai.operation.name": "chat",
                "gen_ai.system_instructions": system,
                "gen_ai.input.messages": json.dumps([
                    user,
                    {"role": "assistant", "parts": [call]},
                    {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1",
                                                "response": TOOL_RESULT}]},
                ]),
                "gen_ai.output.messages": json.dumps([
                    {"role": "assistant", "parts": [{"type": "text", "content": ANSWER}],
                     "finish_reason": "stop"}]),
                "gen_ai.usage.input_tokens": 52, "gen_ai.usage.output_tokens": 6}):
            pass
    provider.shutdown()


def run_openai_agent(model_base_url: str) -> None:
    """Two calls to the model: it asks for the tool, then answers with its result."""
    import openai

    client = openai.OpenAI(base_url=model_base_url, api_key="test-key")
    # One user turn, one trace: the two model calls are children of the agent's own span,
    # which is how the server knows they are one conversation.
    with trace.get_tracer("otel_agent").start_as_current_span("handle_message"):
        ask_twice(client)


def ask_twice(client) -> None:
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": QUESTION}]
    first = client.chat.completions.create(model="fake-model", messages=messages, tools=TOOLS)
    asked = first.choices[0].message
    call = asked.tool_calls[0]
    messages.append({"role": "assistant", "content": None, "tool_calls": [{
        "id": call.id, "type": "function",
        "function": {"name": call.function.name, "arguments": call.function.arguments}}]})
    messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(TOOL_RESULT)})
    client.chat.completions.create(model="fake-model", messages=messages, tools=TOOLS)


def openai_v2(model_base_url: str) -> None:
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    # The latest conventions, with message content sent as log events and not on spans.
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "EVENT_ONLY"
    provider = tracer_provider("openai-v2-service")
    logs = LoggerProvider(resource=Resource.create({"service.name": "openai-v2-service"}))
    logs.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter()))
    set_logger_provider(logs)
    OpenAIInstrumentor().instrument(tracer_provider=provider, logger_provider=logs)
    run_openai_agent(model_base_url)
    logs.shutdown()
    provider.shutdown()


def openllmetry(model_base_url: str) -> None:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    provider = tracer_provider("openllmetry-service")
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    run_openai_agent(model_base_url)
    provider.shutdown()


def openinference(model_base_url: str) -> None:
    from openinference.instrumentation import using_session
    from openinference.instrumentation.openai import OpenAIInstrumentor

    provider = tracer_provider("openinference-service")
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    with using_session("openinference-session-1"):
        run_openai_agent(model_base_url)
    provider.shutdown()


if __name__ == "__main__":
    mode, model_base_url = sys.argv[1], sys.argv[2]
    {
        "genai": lambda: genai_spans(),
        "openai-v2": lambda: openai_v2(model_base_url),
        "openllmetry": lambda: openllmetry(model_base_url),
        "openinference": lambda: openinference(model_base_url),
    }[mode]()
