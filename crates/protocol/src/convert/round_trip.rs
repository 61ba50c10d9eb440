//! The round-trip property: an OpenAI request sent to Ollama and read back as OpenAI keeps its
//! messages (roles, text, images, reasoning), tools, tool calls (ids, names, argument values) and
//! tool results. Checked on the published examples and on generated conversations.

use serde_json::{Map, Value, json};

use super::{chat_request_to_ollama, chat_request_to_openai};
use crate::from_json;
use crate::openai::chat::{ChatCompletionRequest, ChatMessage, MessageContent, Role};

/// What must survive, normalised where the round trip legitimately rewrites: argument text
/// becomes compact JSON, `developer` becomes `system`, a `null` content of a tool-calling
/// assistant stays `null` while other missing content becomes `""`.
fn essence(request: &ChatCompletionRequest) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|message| {
            let role = match &message.role {
                Role::Developer => "system",
                Role::Function => "tool",
                role => role.as_str(),
            };
            let content = match &message.content {
                Some(MessageContent::Text(text)) if !text.is_empty() => json!(text),
                Some(MessageContent::Parts(parts)) => serde_json::to_value(parts).unwrap(),
                _ => Value::Null,
            };
            let calls: Vec<Value> = message
                .tool_calls
                .iter()
                .map(|call| {
                    let arguments: Value = if call.function.arguments.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&call.function.arguments).unwrap()
                    };
                    json!([call.id, call.function.name, arguments])
                })
                .collect();
            json!({
                "role": role,
                "content": content,
                "reasoning": message.reasoning_content,
                "calls": calls,
                "answers": message.tool_call_id,
            })
        })
        .collect();
    let tools = serde_json::to_value(&request.tools).unwrap();
    json!({"model": request.model, "messages": messages, "tools": tools})
}

fn round_trip(request: ChatCompletionRequest) {
    let before = essence(&request);
    let ollama = chat_request_to_ollama(request).unwrap();
    // The Ollama request goes over the wire: write it and read it back, too.
    let ollama = from_json(serde_json::to_string(&ollama).unwrap().as_bytes()).unwrap();
    let after = essence(&chat_request_to_openai(ollama).unwrap());
    assert_eq!(before, after, "\nbefore: {before:#}\nafter: {after:#}");
}

#[test]
fn published_examples_survive_the_round_trip() {
    let fixtures = [
        // OpenAI API reference, "Create chat completion", example "Default".
        r#"{"model": "gpt-4.1", "messages": [{"role": "developer", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hello!"}]}"#,
        // Example "Functions" (no `strict`: Ollama has no place for it).
        r#"{"model": "gpt-4.1", "messages": [{"role": "user", "content": "What is the weather like in Boston today?"}],
            "tools": [{"type": "function", "function": {"name": "get_current_weather", "description": "Get the current weather in a given location",
              "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
              "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}}}], "tool_choice": "auto"}"#,
        // Function-calling guide: a call and its result, arguments with whitespace and unicode.
        r#"{"model": "gpt-4.1", "messages": [
            {"role": "user", "content": "What is the weather like in Paris today?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_12345xyz", "type": "function",
              "function": {"name": "get_weather", "arguments": "{\n  \"location\": \"Paris, France\", \"unit\": \"°C\", \"days\": [1, 2.5, -3e2]\n}"}}]},
            {"role": "tool", "tool_call_id": "call_12345xyz", "content": "14°C"}]}"#,
        // An image (as a data URL) with text, and reasoning handed back.
        r#"{"model": "m", "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
            {"role": "assistant", "content": "A pixel.", "reasoning_content": "It is tiny."}]}"#,
    ];
    for fixture in fixtures {
        round_trip(from_json(fixture.as_bytes()).unwrap());
    }
}

/// A small deterministic generator (no dependency): conversations of every shape the
/// conversions handle, from a seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }

    fn text(&mut self) -> String {
        const WORDS: [&str; 8] = [
            "sky",
            "blue",
            "é",
            "🦀",
            "\"quoted\"",
            "line\nbreak",
            "{}",
            " ",
        ];
        (0..1 + self.next(4))
            .map(|_| WORDS[self.next(WORDS.len() as u64) as usize])
            .collect()
    }

    fn value(&mut self, depth: u32) -> Value {
        match self.next(if depth > 2 { 4 } else { 6 }) {
            0 => json!(self.next(1000)),
            1 => json!(self.text()),
            2 => json!(self.next(2) == 0),
            3 => Value::Null,
            4 => Value::Array((0..self.next(3)).map(|_| self.value(depth + 1)).collect()),
            _ => Value::Object(self.object(depth + 1)),
        }
    }

    fn object(&mut self, depth: u32) -> Map<String, Value> {
        (0..self.next(4))
            .map(|key| (format!("k{key}"), self.value(depth)))
            .collect()
    }
}

fn generated(seed: u64) -> ChatCompletionRequest {
    let mut rng = Lcg(seed);
    let mut messages = vec![ChatMessage::text(Role::System, rng.text())];
    let mut call = 0;
    for _ in 0..1 + rng.next(4) {
        messages.push(ChatMessage::text(Role::User, rng.text()));
        let mut answer = ChatMessage::text(Role::Assistant, rng.text());
        if rng.next(2) == 0 {
            answer.reasoning_content = Some(rng.text());
        }
        let calls = rng.next(3);
        if calls > 0 && rng.next(2) == 0 {
            answer.content = None;
        }
        let mut results = Vec::new();
        for _ in 0..calls {
            call += 1;
            let id = format!("call_{call}");
            let name = format!("tool_{}", rng.next(3));
            let arguments = Value::Object(rng.object(0));
            answer.tool_calls.push(
                serde_json::from_value(json!({"id": id, "type": "function",
                    "function": {"name": name, "arguments": arguments.to_string()}}))
                .unwrap(),
            );
            let mut result = ChatMessage::text(Role::Tool, rng.text());
            result.tool_call_id = Some(id);
            results.push(result);
        }
        // Results may come back in any order; ids pair them.
        if rng.next(2) == 0 {
            results.reverse();
        }
        messages.push(answer);
        messages.extend(results);
    }
    let tools = (0..rng.next(3))
        .map(|tool| {
            serde_json::from_value(json!({"type": "function", "function": {
                "name": format!("tool_{tool}"),
                "description": rng.text(),
                "parameters": {"type": "object", "properties": Value::Object(rng.object(0))}}}))
            .unwrap()
        })
        .collect();
    ChatCompletionRequest {
        model: format!("model-{seed}"),
        messages,
        tools,
        ..ChatCompletionRequest::default()
    }
}

#[test]
fn generated_conversations_survive_the_round_trip() {
    for seed in 0..500 {
        round_trip(generated(seed));
    }
}
