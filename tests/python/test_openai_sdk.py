"""The official `openai` Python SDK against Hearth, which fronts a real llama-server.

Run by tests/tests/python_sdks.rs, which starts both servers and sets HEARTH_URL and
HEARTH_TOKEN (a client token routed to an agent without shell or web tools).
"""

import json
import os

import openai
import pytest

URL = os.environ["HEARTH_URL"]
TOKEN = os.environ["HEARTH_TOKEN"]
client = openai.OpenAI(base_url=f"{URL}/v1", api_key=TOKEN, max_retries=0)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
SHELL = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Run a shell command",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
    },
}
# The 135M model emits one well-formed call when the answer is started for it (TESTING.md),
# the call is cut at its closing tag, and sampling is greedy (scripts/lib/llama_check.py).
RELIABLE_CALL = {"temperature": 0, "stop": ["</tool_call>"]}
ASK_WEATHER = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "<tool_call>\n"},
]


def test_models_lists_configured_models_and_aliases():
    ids = [model.id for model in client.models.list()]
    assert "llama/smollm2" in ids
    assert "small" in ids


def test_chat():
    answer = client.chat.completions.create(
        model="small",
        messages=[{"role": "user", "content": "Say hello in five words."}],
        max_tokens=24,
    )
    assert answer.choices[0].message.content.strip()
    assert answer.model == "llama/smollm2"
    assert answer.usage.completion_tokens > 0


def test_chat_streamed_with_usage():
    chunks = list(
        client.chat.completions.create(
            model="small",
            messages=[{"role": "user", "content": "Count from one to ten."}],
            max_tokens=48,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert len(chunks) > 5
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_tool_call_with_string_arguments():
    answer = client.chat.completions.create(
        model="small",
        messages=ASK_WEATHER,
        tools=[WEATHER, SHELL],
        tool_choice="required",
        max_tokens=40,
        **RELIABLE_CALL,
    )
    calls = answer.choices[0].message.tool_calls
    assert calls, answer
    assert {call.function.name for call in calls} == {"get_weather"}
    assert json.loads(calls[0].function.arguments)["city"]


def test_tool_call_streamed():
    stream = client.chat.completions.create(
        model="small",
        messages=ASK_WEATHER,
        tools=[WEATHER, SHELL],
        tool_choice="required",
        max_tokens=40,
        stream=True,
        **RELIABLE_CALL,
    )
    names, arguments = {}, {}
    for chunk in stream:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if call.function and call.function.name:
                names[call.index] = call.function.name
            if call.function and call.function.arguments:
                arguments[call.index] = arguments.get(call.index, "") + call.function.arguments
    assert names and set(names.values()) == {"get_weather"}, names
    assert json.loads(arguments[0])["city"]


def test_a_denied_tool_choice_is_a_permission_error():
    with pytest.raises(openai.PermissionDeniedError) as raised:
        client.chat.completions.create(
            model="small",
            messages=[{"role": "user", "content": "List files"}],
            tools=[SHELL],
            tool_choice={"type": "function", "function": {"name": "bash"}},
        )
    assert "bash" in str(raised.value)


def test_errors_are_the_sdks_own_exceptions():
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(
            model="llama/nope", messages=[{"role": "user", "content": "hi"}]
        )
    assert "nope" in str(raised.value)
    wrong = openai.OpenAI(base_url=f"{URL}/v1", api_key="hth_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="small", messages=[{"role": "user", "content": "hi"}])
