"""The official `openai` Python SDK's Responses API against Hearth, which fronts a real
llama-server (a chat-completions server: Hearth translates, and keeps the conversation for
`previous_response_id` itself).

Run by tests/tests/python_sdks.rs, which starts both servers and sets HEARTH_URL and
HEARTH_TOKEN (a client token routed to an agent without shell or web tools). The two
`after_restart` tests run in a second pytest run, against a new Hearth over the same
directories, with HEARTH_STATE naming the file the first run left the response id in.
"""

import json
import os

import openai
import pytest

URL = os.environ["HEARTH_URL"]
TOKEN = os.environ["HEARTH_TOKEN"]
STATE = os.environ.get("HEARTH_STATE", "")
client = openai.OpenAI(base_url=f"{URL}/v1", api_key=TOKEN, max_retries=0)

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
SHELL = {
    "type": "function",
    "name": "bash",
    "description": "Run a shell command",
    "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
}
# The 135M model emits one well-formed call when the answer is started for it (TESTING.md)
# and sampling is greedy; the Responses API has no `stop`, so the call is cut by the budget
# and llama-server's parser.
ASK_WEATHER = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "<tool_call>\n"},
]


def ask_weather(**extra):
    return client.responses.create(
        model="small",
        input=ASK_WEATHER,
        tools=[WEATHER, SHELL],
        tool_choice="required",
        max_output_tokens=40,
        temperature=0,
        **extra,
    )


def test_create_plain():
    response = client.responses.create(
        model="small", input="Say hello in five words.", max_output_tokens=24
    )
    assert response.id.startswith("resp_")
    assert response.status in ("completed", "incomplete")
    assert response.output_text.strip()
    assert response.model == "llama/smollm2"
    assert response.usage.output_tokens > 0
    assert response.usage.input_tokens > 0


def test_instructions_and_stored_response_can_be_retrieved_and_deleted():
    response = client.responses.create(
        model="small",
        instructions="You answer in one short sentence.",
        input="Name a colour.",
        max_output_tokens=16,
    )
    again = client.responses.retrieve(response.id)
    assert again.id == response.id
    assert again.output_text == response.output_text
    assert again.instructions == "You answer in one short sentence."
    deleted = client.responses.delete(response.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


def test_input_items_list_the_responses_own_input():
    first = client.responses.create(
        model="small",
        input=[
            {"role": "user", "content": "Remember the word apple."},
            {"role": "user", "content": "Now say ok."},
        ],
        max_output_tokens=8,
    )
    newest_first = client.responses.input_items.list(first.id)
    texts = [item.content[0].text for item in newest_first.data]
    assert texts == ["Now say ok.", "Remember the word apple."]
    assert all(item.id and item.type == "message" for item in newest_first.data)
    oldest_first = client.responses.input_items.list(first.id, order="asc", limit=1)
    assert [item.content[0].text for item in oldest_first.data] == ["Remember the word apple."]
    assert oldest_first.has_more
    second = client.responses.create(
        model="small", previous_response_id=first.id, input="Which word?", max_output_tokens=8
    )
    own = client.responses.input_items.list(second.id)
    assert [item.content[0].text for item in own.data] == ["Which word?"]
    assert not own.has_more


def test_streamed_events_arrive_in_order_with_sequence_numbers():
    events = list(
        client.responses.create(
            model="small",
            input="Count from one to ten.",
            max_output_tokens=48,
            temperature=0,
            stream=True,
        )
    )
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"], kinds
    assert kinds[-1] in ("response.completed", "response.incomplete"), kinds
    assert [event.sequence_number for event in events] == list(range(len(events)))
    for kind in (
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ):
        assert kind in kinds, (kind, kinds)
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text.strip()
    final = events[-1].response
    assert final.output_text == text
    assert final.usage.output_tokens > 0
    # A streamed response is stored before its last event: it can be retrieved at once.
    assert client.responses.retrieve(final.id).output_text == text


def test_the_sdk_stream_helper_gives_the_final_response():
    # The helper insists on `response.completed`: the budget leaves room for the whole answer.
    with client.responses.stream(
        model="small", input="Say hi.", max_output_tokens=120, temperature=0
    ) as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert final.status == "completed"
    assert final.output_text == "".join(deltas)
    assert final.output_text.strip()


def test_function_call_then_its_output_in_a_second_turn():
    first = ask_weather()
    calls = [item for item in first.output if item.type == "function_call"]
    assert calls, first.output
    assert {call.name for call in calls} == {"get_weather"}
    assert json.loads(calls[0].arguments)["city"]
    second = client.responses.create(
        model="small",
        previous_response_id=first.id,
        input=[
            {
                "type": "function_call_output",
                "call_id": calls[0].call_id,
                "output": json.dumps({"city": "Paris", "weather": "sunny, 21 C"}),
            }
        ],
        max_output_tokens=32,
    )
    assert second.previous_response_id == first.id
    assert second.status in ("completed", "incomplete")
    assert second.output_text.strip()


def test_streamed_function_call_arguments():
    events = list(ask_weather(stream=True))
    kinds = [event.type for event in events]
    assert "response.function_call_arguments.delta" in kinds, kinds
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert done and json.loads(done[0].arguments)["city"]
    added = [e.item for e in events if e.type == "response.output_item.added"]
    assert any(item.type == "function_call" and item.name == "get_weather" for item in added)
    assert [event.sequence_number for event in events] == list(range(len(events)))


def test_a_denied_tool_choice_is_a_permission_error():
    with pytest.raises(openai.PermissionDeniedError) as raised:
        client.responses.create(
            model="small",
            input="List files",
            tools=[SHELL],
            tool_choice={"type": "function", "name": "bash"},
        )
    assert "bash" in str(raised.value)


def test_an_unknown_previous_response_is_a_clear_400():
    missing = "resp_" + "0" * 48
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="small", previous_response_id=missing, input="Go on.")
    assert missing in str(raised.value)
    assert "not found" in str(raised.value)


def test_output_for_a_call_that_does_not_exist_is_a_clear_400():
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(
            model="small",
            input=[
                {"role": "user", "content": "What is the weather?"},
                {"type": "function_call_output", "call_id": "call_nowhere", "output": "sunny"},
            ],
        )
    assert "call_nowhere" in str(raised.value)


def test_an_image_for_a_text_only_model_is_a_clear_400():
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(
            model="small",
            input=[
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "What is in this picture?"},
                        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
                    ],
                }
            ],
        )
    assert "text only" in str(raised.value)


def test_before_restart_first_turn():
    first = ask_weather()
    calls = [item for item in first.output if item.type == "function_call"]
    assert calls, first.output
    with open(STATE, "w", encoding="utf-8") as state:
        json.dump({"id": first.id, "call_id": calls[0].call_id}, state)


def test_after_restart_the_conversation_goes_on():
    with open(STATE, encoding="utf-8") as state:
        saved = json.load(state)
    assert client.responses.retrieve(saved["id"]).id == saved["id"]
    second = client.responses.create(
        model="small",
        previous_response_id=saved["id"],
        input=[{"type": "function_call_output", "call_id": saved["call_id"], "output": "sunny"}],
        max_output_tokens=24,
    )
    assert second.output_text.strip()
    third = client.responses.create(
        model="small", previous_response_id=second.id, input="Thanks!", max_output_tokens=16
    )
    assert third.previous_response_id == second.id
    assert third.usage.input_tokens > second.usage.input_tokens


def test_after_restart_a_streamed_turn_goes_on():
    with open(STATE, encoding="utf-8") as state:
        saved = json.load(state)
    events = list(
        client.responses.create(
            model="small",
            previous_response_id=saved["id"],
            input=[{"type": "function_call_output", "call_id": saved["call_id"], "output": "rain"}],
            max_output_tokens=24,
            stream=True,
        )
    )
    assert events[-1].type in ("response.completed", "response.incomplete")
    assert events[-1].response.previous_response_id == saved["id"]
