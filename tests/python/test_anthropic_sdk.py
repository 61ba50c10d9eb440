"""The official `anthropic` Python SDK against Hearth, which fronts a real llama-server (a
chat-completions server: Hearth translates Messages to it and back).

Run by tests/tests/python_sdks.rs, which starts both servers and sets HEARTH_URL and
HEARTH_TOKEN (a client token routed to an agent without shell or web tools).
"""

import os

import anthropic
import pytest

URL = os.environ["HEARTH_URL"]
TOKEN = os.environ["HEARTH_TOKEN"]
client = anthropic.Anthropic(base_url=URL, api_key=TOKEN, max_retries=0)

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
SHELL = {
    "name": "bash",
    "description": "Run a shell command",
    "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}},
}
# The 135M model emits one well-formed call when the answer is started for it (TESTING.md),
# the call is cut at its closing tag, and sampling is greedy. (This SDK version has no
# `temperature` argument; the API still takes the field, so it travels in `extra_body`.)
ASK_WEATHER = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "<tool_call>\n"},
]
GREEDY = {"extra_body": {"temperature": 0}}
RELIABLE_CALL = {
    **GREEDY,
    "stop_sequences": ["</tool_call>"],
    "tool_choice": {"type": "any"},
    "max_tokens": 40,
}


def test_create():
    message = client.messages.create(
        model="small",
        max_tokens=24,
        system="You are terse.",
        messages=[{"role": "user", "content": "Say hello in five words."}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.model == "llama/smollm2"
    assert message.content[0].type == "text" and message.content[0].text.strip()
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert message.usage.output_tokens > 0 and message.usage.input_tokens > 0


def test_stream():
    with client.messages.stream(
        model="small",
        max_tokens=48,
        **GREEDY,
        messages=[{"role": "user", "content": "Count from one to ten."}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.strip()
    assert final.content[0].text == text
    assert final.stop_reason in ("end_turn", "max_tokens")
    assert final.usage.output_tokens > 0


def test_raw_stream_event_order():
    events = list(
        client.messages.create(
            model="small",
            max_tokens=16,
            **GREEDY,
            messages=[{"role": "user", "content": "Say hi."}],
            stream=True,
        )
    )
    kinds = [event.type for event in events]
    assert kinds[0] == "message_start", kinds
    assert kinds[1] == "content_block_start", kinds
    assert "content_block_delta" in kinds
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"], kinds


def test_tool_use_then_tool_result():
    message = client.messages.create(
        model="small", messages=ASK_WEATHER, tools=[WEATHER, SHELL], **RELIABLE_CALL
    )
    uses = [block for block in message.content if block.type == "tool_use"]
    assert uses, message.content
    assert {use.name for use in uses} == {"get_weather"}
    assert uses[0].input["city"]
    assert message.stop_reason == "tool_use"
    answer = client.messages.create(
        model="small",
        max_tokens=32,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": message.content},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": uses[0].id, "content": "sunny, 21 C"}
                ],
            },
        ],
    )
    assert any(block.type == "text" and block.text.strip() for block in answer.content)


def test_streamed_tool_use():
    with client.messages.stream(
        model="small", messages=ASK_WEATHER, tools=[WEATHER, SHELL], **RELIABLE_CALL
    ) as stream:
        final = stream.get_final_message()
    uses = [block for block in final.content if block.type == "tool_use"]
    assert uses and uses[0].name == "get_weather", final.content
    assert uses[0].input["city"]
    assert final.stop_reason == "tool_use"


def test_a_denied_tool_choice_is_a_permission_error():
    with pytest.raises(anthropic.PermissionDeniedError) as raised:
        client.messages.create(
            model="small",
            max_tokens=16,
            messages=[{"role": "user", "content": "List files"}],
            tools=[SHELL],
            tool_choice={"type": "tool", "name": "bash"},
        )
    assert "bash" in str(raised.value)


def test_errors_are_the_sdks_own_exceptions():
    with pytest.raises(anthropic.NotFoundError) as raised:
        client.messages.create(
            model="llama/nope", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    assert "nope" in str(raised.value)
    wrong = anthropic.Anthropic(base_url=URL, api_key="hth_wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        wrong.messages.create(
            model="small", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )


def test_a_result_for_a_tool_use_that_does_not_exist_is_a_clear_400():
    with pytest.raises(anthropic.BadRequestError) as raised:
        client.messages.create(
            model="small",
            max_tokens=8,
            messages=[
                {"role": "user", "content": "What is the weather?"},
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_nowhere", "content": "x"}
                    ],
                },
            ],
        )
    assert "toolu_nowhere" in str(raised.value)


def test_an_image_for_a_text_only_model_is_a_clear_400():
    with pytest.raises(anthropic.BadRequestError) as raised:
        client.messages.create(
            model="small",
            max_tokens=8,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": "iVBORw0KGgo=",
                            },
                        },
                        {"type": "text", "text": "What is this?"},
                    ],
                }
            ],
        )
    assert "text only" in str(raised.value)


def test_count_tokens():
    short = client.messages.count_tokens(
        model="small", messages=[{"role": "user", "content": "Hi."}]
    )
    long = client.messages.count_tokens(
        model="small",
        system="You are a helpful assistant who answers in detail.",
        messages=[{"role": "user", "content": "Tell me about lighthouses. " * 20}],
    )
    assert 0 < short.input_tokens < long.input_tokens
