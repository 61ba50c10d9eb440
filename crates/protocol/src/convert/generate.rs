//! Ollama's `/api/generate` over a chat backend: the request becomes a chat request (system plus
//! user prompt), and each chat response or chunk becomes a generate response or chunk. Chain
//! with [`super::chat_request_to_openai`] for an OpenAI-compatible backend.

use serde_json::Map;

use crate::ProtocolError;
use crate::ollama::{ChatRequest, ChatResponse, GenerateRequest, GenerateResponse, Message, Role};

/// A generate request as a chat request: the `system` text (if any) then the `prompt` with its
/// images as the user turn; neither for an empty request (load / unload). Refused: `raw` (the
/// prompt is already templated), a `suffix` (fill-in-the-middle) and a `template` override, which
/// a chat backend cannot honour. Ignored: `context`, the deprecated token memory.
pub fn generate_request_to_chat(request: GenerateRequest) -> Result<ChatRequest, ProtocolError> {
    if request.raw == Some(true) {
        return Err(ProtocolError::GenerateNotTranslatable {
            field: "raw",
            reason: "the prompt is already templated and a chat backend templates it again",
        });
    }
    if request
        .suffix
        .as_deref()
        .is_some_and(|suffix| !suffix.is_empty())
    {
        return Err(ProtocolError::GenerateNotTranslatable {
            field: "suffix",
            reason: "fill-in-the-middle needs a completion endpoint",
        });
    }
    if request
        .template
        .as_deref()
        .is_some_and(|template| !template.is_empty())
    {
        return Err(ProtocolError::GenerateNotTranslatable {
            field: "template",
            reason: "the backend applies its own chat template",
        });
    }
    let GenerateRequest {
        model,
        prompt,
        images,
        format,
        options,
        system,
        stream,
        keep_alive,
        think,
        ..
    } = request;

    let mut messages = Vec::with_capacity(2);
    if let Some(system) = system.filter(|system| !system.is_empty()) {
        messages.push(Message::new(Role::System, system));
    }
    let prompt = prompt.unwrap_or_default();
    if !prompt.is_empty() || !images.is_empty() {
        let mut user = Message::new(Role::User, prompt);
        user.images = images;
        messages.push(user);
    }
    Ok(ChatRequest {
        model,
        messages,
        tools: Vec::new(),
        format,
        options,
        stream,
        keep_alive,
        think,
        extra: Map::new(),
    })
}

/// A chat response (or stream chunk) as the generate response (or chunk) it answers. Tool calls
/// are dropped: generate has none, and the request sent no tools.
pub fn chat_response_to_generate(response: ChatResponse) -> GenerateResponse {
    GenerateResponse {
        model: response.model,
        created_at: response.created_at,
        response: response.message.content,
        thinking: response.message.thinking,
        done: response.done,
        done_reason: response.done_reason,
        context: None,
        metrics: response.metrics,
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::convert::chat_request_to_openai;
    use crate::from_json;

    /// Generate request JSON → the chat request, then the OpenAI request it becomes.
    fn check(generate_json: &str, expect: Expect) {
        let request = from_json(generate_json.as_bytes()).unwrap();
        let out = match generate_request_to_chat(request) {
            Ok(chat) => {
                let ollama = serde_json::to_string(&chat).unwrap();
                let openai = chat_request_to_openai(chat)
                    .map(|openai| serde_json::to_string(&openai).unwrap());
                format!("ollama: {ollama}\nopenai: {openai:?}")
            }
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&(out + "\n"));
    }

    #[test]
    fn generate_requests_become_chat() {
        // docs/api.md, "Request (No streaming)" with a system prompt added.
        check(
            r#"{"model": "llama3.2", "prompt": "Why is the sky blue?", "system": "Answer in one line.", "stream": false}"#,
            expect![[r#"
                ollama: {"model":"llama3.2","messages":[{"role":"system","content":"Answer in one line."},{"role":"user","content":"Why is the sky blue?"}],"stream":false}
                openai: Ok("{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"system\",\"content\":\"Answer in one line.\"},{\"role\":\"user\",\"content\":\"Why is the sky blue?\"}],\"stream\":false}")
            "#]],
        );
        // docs/api.md, "Request (with images)" (base64 shortened) and "Request (JSON mode)".
        check(
            r#"{"model": "llava", "prompt": "What is in this picture?", "images": ["iVBORw0KGgoAAAANSUhEUg"], "format": "json", "keep_alive": "5m", "context": [1, 2, 3]}"#,
            expect![[r#"
                ollama: {"model":"llava","messages":[{"role":"user","content":"What is in this picture?","images":["iVBORw0KGgoAAAANSUhEUg"]}],"format":"json","keep_alive":"5m"}
                openai: Ok("{\"model\":\"llava\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is in this picture?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg\"}}]}],\"stream\":true,\"stream_options\":{\"include_usage\":true},\"response_format\":{\"type\":\"json_object\"}}")
            "#]],
        );
        // docs/api.md, "Load a model": no prompt, no messages. Go clients send empty strings.
        check(
            r#"{"model": "llama3.2", "system": "", "template": "", "suffix": ""}"#,
            expect![[r#"
                ollama: {"model":"llama3.2","messages":[]}
                openai: Ok("{\"model\":\"llama3.2\",\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":true}}")
            "#]],
        );
    }

    #[test]
    fn untranslatable_generate_requests_are_refused() {
        // docs/api.md, "Request (Raw Mode)" and "Request (with suffix)".
        check(
            r#"{"model": "mistral", "prompt": "[INST] why is the sky blue? [/INST]", "raw": true, "stream": false}"#,
            expect![[r#"
                error: /api/generate with `raw` cannot be served by a chat backend: the prompt is already templated and a chat backend templates it again
            "#]],
        );
        check(
            r#"{"model": "codellama:code", "prompt": "def compute_gcd(a, b):", "suffix": "    return result"}"#,
            expect![[r#"
                error: /api/generate with `suffix` cannot be served by a chat backend: fill-in-the-middle needs a completion endpoint
            "#]],
        );
        check(
            r#"{"model": "m", "prompt": "p", "template": "{{ .Prompt }}"}"#,
            expect![[r#"
                error: /api/generate with `template` cannot be served by a chat backend: the backend applies its own chat template
            "#]],
        );
    }

    #[test]
    fn chat_responses_become_generate_responses() {
        let chunk: ChatResponse = from_json(
            br#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","thinking":"t"},"done":false}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&chat_response_to_generate(chunk)).unwrap(),
            r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","response":"The","thinking":"t","done":false}"#
        );
        // docs/api.md, "Request (No streaming)" response, as a chat answer.
        let last: ChatResponse = from_json(
            br#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":"The sky is blue because it is the color of the sky."},"done":true,"done_reason":"stop","total_duration":5043500667,"load_duration":5025959,"prompt_eval_count":26,"prompt_eval_duration":325953000,"eval_count":290,"eval_duration":4709213000}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&chat_response_to_generate(last)).unwrap(),
            r#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":"The sky is blue because it is the color of the sky.","done":true,"done_reason":"stop","total_duration":5043500667,"load_duration":5025959,"prompt_eval_count":26,"prompt_eval_duration":325953000,"eval_count":290,"eval_duration":4709213000}"#
        );
    }
}
