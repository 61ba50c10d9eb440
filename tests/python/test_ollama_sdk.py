"""The official `ollama` Python client against Hearth's Ollama-compatible API, which fronts a real
llama-server (an OpenAI-compatible backend, so every answer crosses Hearth's translation).

Run by tests/tests/python_sdks.rs, which starts both servers and sets HEARTH_URL and
HEARTH_TOKEN (a client token routed to an agent without shell or web tools). Assertions hold for
whatever the 135M model says: shapes and counts, never the text.
"""

import os

import ollama
import pytest

URL = os.environ["HEARTH_URL"]
TOKEN = os.environ["HEARTH_TOKEN"]
client = ollama.Client(host=URL, headers={"Authorization": f"Bearer {TOKEN}"})

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


def asked(city):
    return {"role": "user", "content": f"What is the weather in {city}?"}


def called(city):
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": city}}}],
    }


# Ollama has no `tool_choice`, so llama-server does not force a call, and the `<tool_call>\n`
# prefill of test_openai_sdk.py (which relies on `tool_choice: required`) makes llama-server
# fail to parse the answer. Two earlier turns that called the tool make the 135M model call it
# again; once it opens a call, llama-server's grammar keeps it well-formed.
ASK_WEATHER = [asked("Rome"), called("Rome"), asked("Oslo"), called("Oslo"), asked("Paris")]


def test_chat():
    answer = client.chat(
        model="small",
        messages=[{"role": "user", "content": "Say hello in five words."}],
        options={"num_predict": 24},
    )
    assert answer.message.role == "assistant"
    assert answer.message.content.strip()
    assert answer.model == "llama/smollm2"
    assert answer.done and answer.done_reason in ("stop", "length")
    assert 0 < answer.eval_count <= 24
    assert answer.created_at


def test_chat_streamed():
    parts = list(
        client.chat(
            model="small",
            messages=[{"role": "user", "content": "Count from one to ten."}],
            options={"num_predict": 48, "temperature": 0},
            stream=True,
        )
    )
    text = "".join(part.message.content or "" for part in parts)
    assert text.strip()
    assert len(parts) > 5
    assert not any(part.done for part in parts[:-1])
    last = parts[-1]
    assert last.done and last.done_reason in ("stop", "length")
    assert last.eval_count > 0


def test_generate():
    answer = client.generate(
        model="llama/smollm2",
        prompt="Why is the sky blue?",
        system="You answer briefly.",
        options={"num_predict": 32},
    )
    assert answer.response.strip()
    assert answer.done and answer.eval_count > 0


def test_generate_streamed():
    parts = list(
        client.generate(
            model="small",
            prompt="List five colours.",
            options={"num_predict": 48, "temperature": 0},
            stream=True,
        )
    )
    assert "".join(part.response for part in parts).strip()
    assert len(parts) > 5
    assert parts[-1].done and parts[-1].eval_count > 0


def test_list_shows_configured_models_and_aliases():
    models = {model.model: model for model in client.list().models}
    assert "llama/smollm2" in models
    assert "small" in models
    assert models["small"].modified_at is not None


def test_ps_shows_the_resident_model():
    running = [model.model for model in client.ps().models]
    assert running == ["llama/smollm2"]


def test_tool_call_with_object_arguments():
    answer = client.chat(
        model="small",
        messages=ASK_WEATHER,
        tools=[WEATHER, SHELL],
        options={"num_predict": 48},
    )
    calls = answer.message.tool_calls
    assert calls, answer
    assert {call.function.name for call in calls} == {"get_weather"}
    # A dict, as Ollama sends it: no JSON string to parse.
    assert isinstance(calls[0].function.arguments, dict)
    assert calls[0].function.arguments["city"]


def test_tool_call_streamed():
    calls = [
        call
        for part in client.chat(
            model="small",
            messages=ASK_WEATHER,
            tools=[WEATHER, SHELL],
            options={"num_predict": 48, "temperature": 0},
            stream=True,
        )
        for call in (part.message.tool_calls or [])
    ]
    assert calls and {call.function.name for call in calls} == {"get_weather"}
    assert calls[0].function.arguments["city"]


def test_an_unknown_model_is_a_404_response_error():
    with pytest.raises(ollama.ResponseError) as raised:
        client.chat(model="llama/nope", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == 404
    assert "nope" in raised.value.error
    with pytest.raises(ollama.ResponseError) as raised:
        list(client.generate(model="nope", prompt="hi", stream=True))
    assert raised.value.status_code == 404
    wrong = ollama.Client(host=URL, headers={"Authorization": "Bearer hth_wrong"})
    with pytest.raises(ollama.ResponseError) as raised:
        wrong.list()
    assert raised.value.status_code == 401
