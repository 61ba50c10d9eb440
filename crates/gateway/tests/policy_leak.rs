//! The policy leak test (issue 14, reliability): randomised requests over the four client APIs
//! (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages, Ollama `/api/chat`), streamed
//! and not, through the real gateway on a socket, in front of a ROGUE BACKEND — a FIXTURE, not a
//! real server: an axum router that answers like an OpenAI-compatible server
//! (`/v1/chat/completions`, the shapes of OpenAI's published chat completion and chunk examples:
//! role chunk, `tool_calls` fragments by `index`, the `finish_reason` chunk, usage, `[DONE]`) and
//! like Ollama (`/api/chat`, the shapes of Ollama's published examples, as in
//! `fixtures/ollama/`: whole calls with object arguments, the `done: true` line with its counts),
//! but whose tool calls are hostile. It calls the agent's denied tools in every dress a model
//! can put on them (case, `-` for `_`, fullwidth, `ſ`, mathematical letters, U+FEFF / U+200B and
//! other invisible characters, `functions.` / `default_api:` / `tools/` prefixes, white space),
//! next to allowed calls in the same answer; streamed, it splits names and arguments over deltas,
//! names a call late, interleaves calls, reuses an index for a new call (with a new id, or with
//! none and a new name — two allowed names that join into a denied one, `ex` + `ec`), and sends
//! the legacy `function_call`, renamed mid-stream.
//!
//! The test knows every call the rogue sent. For each request it reads the answer as the real
//! client would (streams reassembled by index as the OpenAI SDK does — name and argument pieces
//! joined — and the legacy call by joining its names; Responses by output item, Messages by
//! content block, Ollama by collecting every line's calls) and checks: no call whose name folds
//! to a denied tool reaches the client (folded by the test's own NFKC, not the product's), no
//! string the client receives outside an echoed `tools` list is a denied name as sent, every
//! allowed call arrives whole, the backend never saw a denied tool, and the agent's audit log
//! has one line per call with the verdict the test expects — one denied line per denied call.
//!
//! `cargo test` runs a short version (500 requests). The full run is `scripts/leak.sh`
//! (`HEARTH_LEAK_REQUESTS=10000`). `HEARTH_LEAK_SEED` replays a run; the seed is printed.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::post,
};
use futures_util::StreamExt;
use hearth_core::{
    Secret,
    config::store::{self, Paths},
    policy::ToolPolicy,
};
use hearth_gateway::{Gateway, Runtime};
use hearth_secrets::{MemoryStore, SecretStore};
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization as _;

const CLIENT: &str = "hth_client_leak_token";
/// Requests in flight at once.
const CONCURRENCY: usize = 4;

// ---------------------------------------------------------------------------------------------
// The tools, and what the test itself believes about them

/// The agent's policy: a group, another group, one name (its whole family) and a pattern.
const DENY: [&str; 4] = ["group:runtime", "group:web", "write_file", "vault_*"];

/// Tools the policy denies (members of the denied groups and family, a pattern match).
const DENIED: [&str; 10] = [
    "bash",
    "exec",
    "shell",
    "sh",
    "run_terminal_cmd",
    "kill_process",
    "web_fetch",
    "web_search",
    "write_file",
    "vault_read",
];

/// Tools it allows. `ex` + `ec`, `power` + `shell` and `vault` + `_read` are the pieces the
/// rogue joins into a denied name.
const ALLOWED: [&str; 9] = [
    "get_weather",
    "get_time",
    "read_file",
    "search_docs",
    "ex",
    "ec",
    "power",
    "vault",
    "_read",
];

/// The name a framework would run, by the test's own reckoning: NFKC, without invisible
/// characters and white space, without a namespace prefix, lowercase, `-` and `_` dropped.
fn folded(name: &str) -> String {
    let visible: String = name
        .nfkc()
        .filter(|c| {
            !(c.is_control()
                || c.is_whitespace()
                || matches!(
                    c,
                    '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}'
                ))
        })
        .collect();
    let bare = match visible.rfind(['.', '/', ':']) {
        Some(at) => &visible[at + 1..],
        None => &visible,
    };
    bare.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// What the test believes the policy says about a name a client may receive: `Some(true)`
/// allowed, `Some(false)` denied, `None` a name that should never reach a client at all.
fn believed(name: &str) -> Option<bool> {
    let key = folded(name);
    if ALLOWED.iter().any(|tool| folded(tool) == key) {
        Some(true)
    } else if DENIED.iter().any(|tool| folded(tool) == key)
        || key == "exec"
        || key == "powershell"
        || key.starts_with("vault") && key.len() > "vault".len()
    {
        Some(false)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// A seeded random source (SplitMix64): reproducible with `HEARTH_LEAK_SEED`

#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }

    fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// The rng of request `n` of a run: independent of the order requests finish in.
    fn for_request(seed: u64, n: usize) -> Rng {
        let mut rng = Rng(seed
            ^ u64::try_from(n)
                .unwrap()
                .wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next();
        rng
    }
}

// ---------------------------------------------------------------------------------------------
// Names as a hostile model writes them

const INVISIBLE: [char; 7] = [
    '\u{FEFF}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{00AD}', '\u{180E}',
];
const PREFIXES: [&str; 5] = [
    "functions.",
    "default_api:",
    "tools/",
    "functions.default_api:",
    "multi_tool_use.",
];

/// The dresses, by name, for the figures.
const VARIANTS: [&str; 10] = [
    "plain",
    "case",
    "separators",
    "fullwidth",
    "long s",
    "math letters",
    "invisible",
    "namespace",
    "white space",
    "combined",
];

/// `base` dressed up: returns the name and which dress it wears.
fn dress(rng: &mut Rng, base: &str) -> (String, usize) {
    let variant = rng.below(VARIANTS.len());
    let name = match variant {
        0 => base.to_owned(),
        9 => {
            let mut name = base.to_owned();
            for _ in 0..2 + rng.below(2) {
                let variant = 1 + rng.below(8);
                name = one_dress(rng, &name, variant);
            }
            name
        }
        n => one_dress(rng, base, n),
    };
    (name, variant)
}

fn one_dress(rng: &mut Rng, name: &str, variant: usize) -> String {
    match variant {
        // Case: upper, title-like, or random per letter.
        1 => match rng.below(3) {
            0 => name.to_uppercase(),
            1 => {
                let mut upper = true;
                name.chars()
                    .filter_map(|c| {
                        if c == '_' {
                            upper = true;
                            return None;
                        }
                        let out = if upper { c.to_ascii_uppercase() } else { c };
                        upper = false;
                        Some(out)
                    })
                    .collect()
            }
            _ => name
                .chars()
                .map(|c| {
                    if rng.percent(50) {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect(),
        },
        // Separators: `-` for `_`, or none.
        2 => match rng.below(2) {
            0 => name.replace('_', "-"),
            _ => name.replace('_', ""),
        },
        // Fullwidth forms, for every character or some.
        3 => {
            let all = rng.percent(50);
            name.chars()
                .map(|c| {
                    if (all || rng.percent(50)) && c.is_ascii_graphic() {
                        char::from_u32(u32::from(c) - 0x21 + 0xFF01).unwrap()
                    } else {
                        c
                    }
                })
                .collect()
        }
        // ſ for s.
        4 => name.replace('s', "ſ"),
        // Mathematical bold letters.
        5 => name
            .chars()
            .map(|c| match c {
                'a'..='z' => char::from_u32(0x1D41A + u32::from(c) - u32::from('a')).unwrap(),
                'A'..='Z' => char::from_u32(0x1D400 + u32::from(c) - u32::from('A')).unwrap(),
                other => other,
            })
            .collect(),
        // Invisible characters, once or twice, anywhere.
        6 => {
            let mut chars: Vec<char> = name.chars().collect();
            for _ in 0..1 + rng.below(2) {
                let at = rng.below(chars.len() + 1);
                chars.insert(at, rng.pick(&INVISIBLE));
            }
            chars.into_iter().collect()
        }
        7 => format!("{}{name}", rng.pick(&PREFIXES)),
        _ => match rng.below(3) {
            0 => format!(" {name}"),
            1 => format!("{name} "),
            _ => format!("{name}\n"),
        },
    }
}

/// `text` cut into `least..=most` non-empty pieces (fewer when it is short, or when two cuts
/// fall together), at character boundaries.
fn pieces(rng: &mut Rng, text: &str, least: usize, most: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let parts = (least + rng.below(most - least + 1)).clamp(1, chars.len().max(1));
    let mut cuts: Vec<usize> = (0..parts - 1)
        .map(|_| 1 + rng.below(chars.len() - 1))
        .collect();
    cuts.push(0);
    cuts.push(chars.len());
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .map(|w| chars[w[0]..w[1]].iter().collect())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The plan of one request: what the client asks, what the rogue answers, what must happen

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Api {
    Chat,
    Responses,
    Messages,
    Ollama,
}

const APIS: [Api; 4] = [Api::Chat, Api::Responses, Api::Messages, Api::Ollama];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Backend {
    OpenAi,
    Ollama,
}

/// One call the rogue makes.
#[derive(Debug, Clone)]
struct Sent {
    /// The name as sent (a legacy call's first name).
    name: String,
    /// A legacy call named again mid-stream.
    renamed: Option<String>,
    denied: bool,
    /// `{"tag": …}`: the tag finds the call again in what the client receives.
    arguments: Value,
    legacy: bool,
    variant: usize,
}

impl Sent {
    fn tag(&self) -> &str {
        self.arguments["tag"].as_str().unwrap()
    }

    /// Whether the client must receive this call whole. The legacy `function_call` exists only
    /// in Chat Completions: the other APIs have no place for it.
    fn arrives(&self, api: Api) -> bool {
        !self.denied && (!self.legacy || api == Api::Chat)
    }
}

#[derive(Debug)]
struct Plan {
    n: usize,
    api: Api,
    backend: Backend,
    streamed: bool,
    /// The client's tools: the name and whether it is denied.
    tools: Vec<(String, bool)>,
    /// The deprecated `functions` list instead of `tools` (Chat Completions only).
    legacy_functions: bool,
    sent: Vec<Sent>,
    /// The rogue's answer: a JSON body, or SSE events / NDJSON lines.
    answer: Answer,
    /// What the rogue received: the tool names of the request.
    received_tools: Mutex<Option<Vec<String>>>,
}

#[derive(Debug)]
enum Answer {
    Whole(Value),
    Events(Vec<String>),
}

fn plan(seed: u64, n: usize) -> Plan {
    let mut rng = Rng::for_request(seed, n);
    let api = APIS[n % APIS.len()];
    let streamed = (n / APIS.len()).is_multiple_of(2);
    let backend = if rng.percent(70) {
        Backend::OpenAi
    } else {
        Backend::Ollama
    };
    // The client's tools: some allowed, some denied, dressed up, no two alike.
    let mut tools: Vec<(String, bool)> = Vec::new();
    for _ in 0..rng.below(6) {
        let denied = rng.percent(50);
        let base = if denied {
            rng.pick(&DENIED)
        } else {
            rng.pick(&ALLOWED[..4])
        };
        let (name, _) = dress(&mut rng, base);
        if !tools.iter().any(|(other, _)| *other == name) {
            tools.push((name, denied));
        }
    }
    let legacy_functions = api == Api::Chat && rng.percent(15);

    // The calls.
    let mut sent = Vec::new();
    let tag = |sent: &Vec<Sent>| format!("r{n}c{}", sent.len());
    let call = |rng: &mut Rng, sent: &mut Vec<Sent>, base: &str, denied: bool| {
        let (name, variant) = dress(rng, base);
        let note = rng.pick(&[
            "Paris",
            "東京",
            "a \"quoted\" word",
            "{not json}",
            "ünïcödé",
            "",
        ]);
        sent.push(Sent {
            name,
            renamed: None,
            denied,
            arguments: json!({ "tag": tag(sent), "q": note, "n": rng.below(1000) }),
            legacy: false,
            variant,
        });
    };
    for _ in 0..rng.below(5) {
        let denied = rng.percent(55);
        let base = if denied {
            rng.pick(&DENIED)
        } else {
            rng.pick(&ALLOWED[..4])
        };
        call(&mut rng, &mut sent, base, denied);
    }
    // Two calls whose names join into a denied one where a client joins by index.
    let joins: usize = if rng.percent(20) { 1 } else { 0 };
    let mut joined_pairs = Vec::new();
    for _ in 0..joins {
        let (first, second, second_denied) = rng.pick(&[
            ("ex", "ec", false),
            ("power", "shell", true),
            ("vault", "_read", false),
        ]);
        joined_pairs.push(sent.len());
        call(&mut rng, &mut sent, first, false);
        call(&mut rng, &mut sent, second, second_denied);
    }
    // The legacy `function_call`, only from an OpenAI-compatible backend.
    if backend == Backend::OpenAi && rng.percent(20) {
        let denied = rng.percent(50);
        let base = if denied {
            rng.pick(&DENIED)
        } else {
            rng.pick(&ALLOWED[..4])
        };
        call(&mut rng, &mut sent, base, denied);
        let legacy = sent.last_mut().unwrap();
        legacy.legacy = true;
        if streamed && rng.percent(60) {
            // Renamed mid-stream: to a denied name, or by a piece that joins into one.
            let denied_base = rng.pick(&DENIED);
            let allowed_base = rng.pick(&ALLOWED[..4]);
            let (first, renamed) = match rng.below(3) {
                0 => (None, dress(&mut rng, denied_base).0),
                1 => (Some("ex".to_owned()), "ec".to_owned()),
                _ => (
                    Some(dress(&mut rng, denied_base).0),
                    dress(&mut rng, allowed_base).0,
                ),
            };
            if let Some(first) = first {
                legacy.name = first;
            }
            legacy.renamed = Some(renamed);
            legacy.denied = true;
        }
    }

    let answer = match (backend, streamed) {
        (Backend::OpenAi, false) => Answer::Whole(openai_whole(&mut rng, &sent)),
        (Backend::OpenAi, true) => Answer::Events(openai_stream(
            &mut rng,
            &sent,
            &joined_pairs,
            // Messages has one content block at a time: an interleaved stream is refused
            // there (the translator says so), never half-passed.
            api != Api::Messages,
        )),
        (Backend::Ollama, false) => Answer::Whole(ollama_whole(&mut rng, &sent)),
        (Backend::Ollama, true) => Answer::Events(ollama_stream(&mut rng, &sent)),
    };
    Plan {
        n,
        api,
        backend,
        streamed,
        tools,
        legacy_functions,
        sent,
        answer,
        received_tools: Mutex::new(None),
    }
}

fn arguments_text(call: &Sent) -> String {
    call.arguments.to_string()
}

/// A whole chat completion, as in OpenAI's "Function calling" example response.
fn openai_whole(rng: &mut Rng, sent: &[Sent]) -> Value {
    let tool_calls: Vec<Value> = sent
        .iter()
        .filter(|call| !call.legacy)
        .map(|call| {
            json!({ "id": format!("call_{}", call.tag()), "type": "function",
                    "function": { "name": call.name, "arguments": arguments_text(call) } })
        })
        .collect();
    let mut message = json!({ "role": "assistant", "content": null });
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    let mut finish = "tool_calls";
    if let Some(legacy) = sent.iter().find(|call| call.legacy) {
        message["function_call"] =
            json!({ "name": legacy.name, "arguments": arguments_text(legacy) });
        finish = "function_call";
    }
    if sent.is_empty() || rng.percent(30) {
        message["content"] = json!("Let me check.");
        if sent.is_empty() {
            finish = "stop";
        }
    }
    json!({
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion",
        "created": 1741570283, "model": "gpt-4o-2024-08-06",
        "choices": [{ "index": 0, "message": message, "logprobs": null, "finish_reason": finish }],
        "usage": { "prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99 }
    })
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190,
        "model": "gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb",
        "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }]
    });
    format!("data: {chunk}\n\n")
}

/// A streamed chat completion, as in OpenAI's chunk examples, with every hostile twist.
fn openai_stream(
    rng: &mut Rng,
    sent: &[Sent],
    joined_pairs: &[usize],
    interleave: bool,
) -> Vec<String> {
    let mut events = vec![chunk(
        json!({ "role": "assistant", "content": "", "refusal": null }),
        None,
    )];
    if rng.percent(40) {
        events.push(chunk(json!({ "content": "Let me check." }), None));
    }
    // Backend indexes: in order, from an offset with gaps, or reused for the next call.
    let tools: Vec<(usize, &Sent)> = sent
        .iter()
        .enumerate()
        .filter(|(_, call)| !call.legacy)
        .collect();
    let mode = rng.below(3);
    let mut index = if mode == 1 { rng.below(3) } else { 0 };
    let mut per_call: Vec<Vec<Value>> = Vec::new();
    let mut reused = false;
    for (position, (at, call)) in tools.iter().enumerate() {
        // The second call of a joining pair takes its first one's index, with no id: a client
        // joining by index would read one call named `ex` + `ec`.
        let joins = joined_pairs.iter().any(|first| first + 1 == *at);
        let reuse = position > 0 && (joins || (mode == 2 && rng.percent(50)));
        if position > 0 && !reuse {
            index += 1 + if mode == 1 { rng.below(2) } else { 0 };
        }
        reused |= reuse;
        let send_id = !(joins || (reuse && rng.percent(30)));
        let mut deltas = Vec::new();
        let name = pieces(rng, &call.name, 1, 3);
        let arguments = pieces(rng, &arguments_text(call), 1, 4);
        let late = !reuse && rng.percent(15);
        let mut first =
            json!({ "index": index, "type": "function", "function": { "arguments": "" } });
        if send_id {
            first["id"] = json!(format!("call_{}", call.tag()));
        }
        if late {
            deltas.push(first.clone());
            first = json!({ "index": index, "function": {} });
        }
        for (i, piece) in name.iter().enumerate() {
            let mut delta = if i == 0 {
                first.clone()
            } else {
                json!({ "index": index, "function": {} })
            };
            delta["function"]["name"] = json!(piece);
            deltas.push(delta);
        }
        // The first argument piece rides with the last name piece, or comes on its own.
        let mut arguments = arguments.into_iter();
        if rng.percent(30) {
            let last = deltas.last_mut().unwrap();
            last["function"]["arguments"] = json!(arguments.next().unwrap());
        }
        for piece in arguments {
            deltas.push(json!({ "index": index, "function": { "arguments": piece } }));
        }
        per_call.push(deltas);
    }
    // Calls on distinct indexes may interleave; a reused index must wait its turn.
    let mut order: Vec<Value> = Vec::new();
    if interleave && !reused && per_call.len() > 1 && rng.percent(40) {
        let mut queues: Vec<std::collections::VecDeque<Value>> =
            per_call.into_iter().map(Into::into).collect();
        while queues.iter().any(|queue| !queue.is_empty()) {
            let open: Vec<usize> = (0..queues.len())
                .filter(|&q| !queues[q].is_empty())
                .collect();
            let q = rng.pick(&open);
            order.push(queues[q].pop_front().unwrap());
        }
    } else {
        order = per_call.into_iter().flatten().collect();
    }
    let mut deltas: Vec<Value> = Vec::new();
    let mut group = Vec::new();
    for delta in order {
        group.push(delta);
        if rng.percent(60) {
            deltas.push(json!({ "tool_calls": std::mem::take(&mut group) }));
        }
    }
    if !group.is_empty() {
        deltas.push(json!({ "tool_calls": group }));
    }
    // The legacy call: its name in the first delta, its arguments in pieces, maybe a second
    // name half-way; before or after the tool calls.
    let mut finish = if sent.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    if let Some(legacy) = sent.iter().find(|call| call.legacy) {
        let mut legacy_deltas =
            vec![json!({ "function_call": { "name": legacy.name, "arguments": "" } })];
        let arguments = pieces(rng, &arguments_text(legacy), 2, 4);
        let rename_at = rng.below(arguments.len());
        for (i, piece) in arguments.into_iter().enumerate() {
            let mut delta = json!({ "function_call": { "arguments": piece } });
            if i == rename_at
                && let Some(renamed) = &legacy.renamed
            {
                delta["function_call"]["name"] = json!(renamed);
            }
            legacy_deltas.push(delta);
        }
        if rng.percent(50) {
            deltas.splice(0..0, legacy_deltas);
        } else {
            deltas.extend(legacy_deltas);
        }
        if sent.iter().all(|call| call.legacy) || rng.percent(50) {
            finish = "function_call";
        }
    }
    let together = !deltas.is_empty() && rng.percent(25);
    let count = deltas.len();
    for (i, delta) in deltas.into_iter().enumerate() {
        let last = i + 1 == count;
        events.push(chunk(delta, (together && last).then_some(finish)));
    }
    if !together {
        events.push(chunk(json!({}), Some(finish)));
    }
    events.push(format!(
        "data: {}\n\n",
        json!({ "id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190,
                "model": "gpt-4o-mini", "choices": [],
                "usage": { "prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99 } })
    ));
    events.push("data: [DONE]\n\n".to_owned());
    events
}

fn ollama_call(call: &Sent) -> Value {
    json!({ "function": { "name": call.name, "arguments": call.arguments } })
}

/// A whole Ollama chat answer, as in its "Chat request (No streaming, with tools)" example.
fn ollama_whole(rng: &mut Rng, sent: &[Sent]) -> Value {
    let mut message = json!({ "role": "assistant", "content": "" });
    if !sent.is_empty() {
        message["tool_calls"] = Value::Array(sent.iter().map(ollama_call).collect());
    }
    if sent.is_empty() || rng.percent(30) {
        message["content"] = json!("Let me check.");
    }
    json!({
        "model": "llama3.2", "created_at": "2025-07-07T20:32:53.844124Z", "message": message,
        "done_reason": "stop", "done": true, "total_duration": 3244883583u64,
        "load_duration": 2969184542u64, "prompt_eval_count": 169,
        "prompt_eval_duration": 141656333, "eval_count": 18, "eval_duration": 133293625
    })
}

/// A streamed Ollama chat answer, as in its "Chat request (Streaming with tools)" example:
/// calls whole, one or several a line, some in the final `done` line itself.
fn ollama_stream(rng: &mut Rng, sent: &[Sent]) -> Vec<String> {
    let line = |message: Value, done: bool| {
        let mut line = json!({ "model": "llama3.2", "created_at": "2025-07-07T20:22:19.184789Z",
                               "message": message, "done": done });
        if done {
            for (key, value) in [
                ("done_reason", json!("stop")),
                ("total_duration", json!(182242375)),
                ("load_duration", json!(41295167)),
                ("prompt_eval_count", json!(169)),
                ("prompt_eval_duration", json!(24573166)),
                ("eval_count", json!(15)),
                ("eval_duration", json!(115959084)),
            ] {
                line[key] = value;
            }
        }
        format!("{line}\n")
    };
    let mut lines = Vec::new();
    if rng.percent(40) {
        lines.push(line(
            json!({ "role": "assistant", "content": "Let me check." }),
            false,
        ));
    }
    let mut calls: Vec<Value> = sent.iter().map(ollama_call).collect();
    let in_done = if !calls.is_empty() && rng.percent(25) {
        calls.split_off(calls.len() - 1 - rng.below(calls.len()))
    } else {
        Vec::new()
    };
    while !calls.is_empty() {
        let take = (1 + rng.below(3)).min(calls.len());
        let group: Vec<Value> = calls.drain(..take).collect();
        lines.push(line(
            json!({ "role": "assistant", "content": "", "tool_calls": group }),
            false,
        ));
    }
    let mut last = json!({ "role": "assistant", "content": "" });
    if !in_done.is_empty() {
        last["tool_calls"] = Value::Array(in_done);
    }
    lines.push(line(last, true));
    lines
}

// ---------------------------------------------------------------------------------------------
// The rogue backend

type Plans = Arc<Mutex<HashMap<usize, Arc<Plan>>>>;

/// Finds the plan a request belongs to: its user message says `plan #N`.
fn plan_of(plans: &Plans, request: &Value) -> Arc<Plan> {
    let text = request["messages"].to_string();
    let at = text.find("plan #").unwrap() + "plan #".len();
    let n: usize = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap();
    let plan = Arc::clone(plans.lock().unwrap().get(&n).unwrap());
    let names = ["tools", "functions"]
        .iter()
        .flat_map(|key| request[key].as_array().cloned().unwrap_or_default())
        .filter_map(|tool| {
            tool["function"]["name"]
                .as_str()
                .or(tool["name"].as_str())
                .map(str::to_owned)
        })
        .collect();
    *plan.received_tools.lock().unwrap() = Some(names);
    plan
}

async fn rogue_openai(State(plans): State<Plans>, Json(request): Json<Value>) -> Response {
    let plan = plan_of(&plans, &request);
    assert_eq!(request["stream"] == json!(true), plan.streamed);
    match &plan.answer {
        Answer::Whole(body) => Json(body.clone()).into_response(),
        Answer::Events(events) => streamed(events.clone(), "text/event-stream"),
    }
}

async fn rogue_ollama(State(plans): State<Plans>, Json(request): Json<Value>) -> Response {
    let plan = plan_of(&plans, &request);
    assert_eq!(request["stream"] != json!(false), plan.streamed);
    match &plan.answer {
        Answer::Whole(body) => Json(body.clone()).into_response(),
        Answer::Events(lines) => streamed(lines.clone(), "application/x-ndjson"),
    }
}

/// Each event in its own write, so the gateway meets every split.
fn streamed(events: Vec<String>, content_type: &'static str) -> Response {
    let body = futures_util::stream::iter(events)
        .map(|event| Ok::<Bytes, std::convert::Infallible>(Bytes::from(event)));
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from_stream(body))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The gateway

struct Running {
    base: String,
    plans: Plans,
    workspace: std::path::PathBuf,
    policy: ToolPolicy,
    _dir: tempfile::TempDir,
    _gateway: Gateway,
    _backend: tokio::task::JoinHandle<()>,
    _server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> Running {
    let plans: Plans = Arc::default();
    let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_url = format!("http://{}", backend.local_addr().unwrap());
    let router = Router::new()
        .route("/v1/chat/completions", post(rogue_openai))
        .route("/api/chat", post(rogue_ollama))
        .with_state(Arc::clone(&plans));
    let backend = tokio::spawn(async move {
        axum::serve(backend, router).await.unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("main");
    let paths = Paths {
        config_file: dir.path().join("hearth.json"),
        data_dir: dir.path().join("data"),
    };
    let config = json!({
        "providers": {
            "rogue": {
                "api": "openai-completions",
                "baseUrl": format!("{backend_url}/v1"),
                "models": [{ "id": "rogue-openai", "contextWindow": 32768 }]
            },
            "rogue-ollama": {
                "api": "ollama",
                "baseUrl": backend_url,
                "models": [{ "id": "rogue-ollama", "contextWindow": 32768 }]
            }
        },
        "models": { "primary": "rogue/rogue-openai" },
        "agents": [{ "id": "main", "workspace": workspace, "tools": { "deny": DENY } }],
        "clients": [{ "name": "app", "token": "keychain:hearth.client.app" }]
    });
    let validated = store::save(&paths, &config).unwrap();
    let policy = validated.config.agents[0].policy.clone();
    let secrets = MemoryStore::new();
    secrets
        .set(
            "hearth.admin",
            &Secret::new("hth_admin_leak_token".to_owned()),
        )
        .unwrap();
    secrets
        .set("hearth.client.app", &Secret::new(CLIENT.to_owned()))
        .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(secrets);
    let runtime = Runtime::load(validated.config, validated.warnings, secrets.as_ref()).unwrap();
    let gateway = Gateway::new(runtime, Arc::clone(&secrets), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(hearth_gateway::serve(
        gateway.clone(),
        listener,
        std::future::pending(),
    ));
    Running {
        base,
        plans,
        workspace,
        policy,
        _dir: dir,
        _gateway: gateway,
        _backend: backend,
        _server: server,
    }
}

// ---------------------------------------------------------------------------------------------
// The client: each API's request, and its answer read as that API's client reads it

fn client_request(plan: &Plan) -> (String, Value) {
    let model = match plan.backend {
        Backend::OpenAi => "rogue-openai",
        Backend::Ollama => "rogue-ollama",
    };
    let text = format!("What is the weather? (plan #{})", plan.n);
    let parameters = json!({ "type": "object", "properties": { "q": { "type": "string" } } });
    let names = plan.tools.iter().map(|(name, _)| name);
    match plan.api {
        Api::Chat => {
            let mut body = json!({ "model": model, "stream": plan.streamed,
                                   "messages": [{ "role": "user", "content": text }] });
            if plan.legacy_functions {
                body["functions"] = names
                    .map(|name| json!({ "name": name, "parameters": parameters }))
                    .collect();
            } else if !plan.tools.is_empty() {
                body["tools"] = names
                    .map(|name| json!({ "type": "function", "function": { "name": name, "parameters": parameters } }))
                    .collect();
            }
            ("/v1/chat/completions".to_owned(), body)
        }
        Api::Responses => {
            let mut body =
                json!({ "model": model, "stream": plan.streamed, "input": text, "store": false });
            if !plan.tools.is_empty() {
                body["tools"] = names
                    .map(|name| json!({ "type": "function", "name": name, "parameters": parameters }))
                    .collect();
            }
            ("/v1/responses".to_owned(), body)
        }
        Api::Messages => {
            let mut body = json!({ "model": model, "stream": plan.streamed, "max_tokens": 256,
                                   "messages": [{ "role": "user", "content": text }] });
            if !plan.tools.is_empty() {
                body["tools"] = names
                    .map(|name| json!({ "name": name, "input_schema": parameters }))
                    .collect();
            }
            ("/v1/messages".to_owned(), body)
        }
        Api::Ollama => {
            let mut body = json!({ "model": model,
                                   "messages": [{ "role": "user", "content": text }] });
            // Ollama streams unless told not to.
            if !plan.streamed || plan.n.is_multiple_of(3) {
                body["stream"] = json!(plan.streamed);
            }
            if !plan.tools.is_empty() {
                body["tools"] = names
                    .map(|name| json!({ "type": "function", "function": { "name": name, "parameters": parameters } }))
                    .collect();
            }
            ("/api/chat".to_owned(), body)
        }
    }
}

/// A tool call as the client ends up holding it.
#[derive(Debug, Clone)]
struct Received {
    name: String,
    /// The argument text (Messages and Ollama give an object: its JSON text).
    arguments: String,
    legacy: bool,
}

/// The JSON values of an SSE body (`data:` lines; `[DONE]` and comments skipped).
fn sse_values(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .flat_map(|event| event.lines())
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .filter(|data| *data != "[DONE]" && !data.is_empty())
        .map(|data| serde_json::from_str(data).unwrap())
        .collect()
}

/// The tool calls in the client's answer, read the way the API's client reads them, and every
/// JSON value it received.
fn read_answer(
    api: Api,
    streamed: bool,
    body: &str,
) -> Result<(Vec<Received>, Vec<Value>), String> {
    let values: Vec<Value> = match (api, streamed) {
        (Api::Ollama, true) => body
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_str(line).unwrap())
            .collect(),
        (_, true) => sse_values(body),
        (_, false) => vec![serde_json::from_str(body).unwrap()],
    };
    for value in &values {
        let failed = match api {
            Api::Chat | Api::Ollama => value.get("error").is_some(),
            Api::Responses => value["type"] == "response.failed" || value["type"] == "error",
            Api::Messages => value["type"] == "error",
        };
        if failed {
            return Err(format!("the answer failed: {value}"));
        }
    }
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let mut calls = Vec::new();
    match (api, streamed) {
        (Api::Chat, false) => {
            for choice in values[0]["choices"].as_array().unwrap() {
                for call in choice["message"]["tool_calls"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    calls.push(Received {
                        name: text(&call["function"]["name"]),
                        arguments: text(&call["function"]["arguments"]),
                        legacy: false,
                    });
                }
                if let Some(call) = choice["message"].get("function_call") {
                    calls.push(Received {
                        name: text(&call["name"]),
                        arguments: text(&call["arguments"]),
                        legacy: true,
                    });
                }
            }
        }
        (Api::Chat, true) => {
            // As the OpenAI SDK accumulates: by choice and index, string pieces joined.
            let mut by_index: BTreeMap<(u64, u64), Received> = BTreeMap::new();
            let mut legacy: BTreeMap<u64, Received> = BTreeMap::new();
            for chunk in &values {
                for choice in chunk["choices"].as_array().into_iter().flatten() {
                    let c = choice["index"].as_u64().unwrap();
                    for call in choice["delta"]["tool_calls"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        let entry = by_index
                            .entry((c, call["index"].as_u64().unwrap()))
                            .or_insert_with(|| Received {
                                name: String::new(),
                                arguments: String::new(),
                                legacy: false,
                            });
                        entry.name += &text(&call["function"]["name"]);
                        entry.arguments += &text(&call["function"]["arguments"]);
                    }
                    if let Some(call) = choice["delta"].get("function_call") {
                        let entry = legacy.entry(c).or_insert_with(|| Received {
                            name: String::new(),
                            arguments: String::new(),
                            legacy: true,
                        });
                        entry.name += &text(&call["name"]);
                        entry.arguments += &text(&call["arguments"]);
                    }
                }
            }
            calls.extend(by_index.into_values());
            calls.extend(legacy.into_values());
        }
        (Api::Responses, false) => {
            for item in values[0]["output"].as_array().unwrap() {
                if item["type"] == "function_call" {
                    calls.push(Received {
                        name: text(&item["name"]),
                        arguments: text(&item["arguments"]),
                        legacy: false,
                    });
                }
            }
        }
        (Api::Responses, true) => {
            // By output item: announced with its name, then argument deltas.
            let mut items: BTreeMap<u64, Received> = BTreeMap::new();
            for event in &values {
                let at = event["output_index"].as_u64();
                match event["type"].as_str().unwrap_or_default() {
                    "response.output_item.added" if event["item"]["type"] == "function_call" => {
                        items.insert(
                            at.unwrap(),
                            Received {
                                name: text(&event["item"]["name"]),
                                arguments: String::new(),
                                legacy: false,
                            },
                        );
                    }
                    "response.function_call_arguments.delta" => {
                        items.get_mut(&at.unwrap()).unwrap().arguments += &text(&event["delta"]);
                    }
                    _ => {}
                }
            }
            calls.extend(items.into_values());
        }
        (Api::Messages, false) => {
            for block in values[0]["content"].as_array().unwrap() {
                if block["type"] == "tool_use" {
                    calls.push(Received {
                        name: text(&block["name"]),
                        arguments: block["input"].to_string(),
                        legacy: false,
                    });
                }
            }
        }
        (Api::Messages, true) => {
            // By content block: `content_block_start` names it, `input_json_delta`s fill it.
            let mut blocks: BTreeMap<u64, Received> = BTreeMap::new();
            for event in &values {
                let at = event["index"].as_u64();
                match event["type"].as_str().unwrap_or_default() {
                    "content_block_start" if event["content_block"]["type"] == "tool_use" => {
                        blocks.insert(
                            at.unwrap(),
                            Received {
                                name: text(&event["content_block"]["name"]),
                                arguments: String::new(),
                                legacy: false,
                            },
                        );
                    }
                    "content_block_delta" if event["delta"]["type"] == "input_json_delta" => {
                        blocks.get_mut(&at.unwrap()).unwrap().arguments +=
                            &text(&event["delta"]["partial_json"]);
                    }
                    _ => {}
                }
            }
            calls.extend(blocks.into_values());
        }
        (Api::Ollama, _) => {
            for value in &values {
                for call in value["message"]["tool_calls"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    calls.push(Received {
                        name: text(&call["function"]["name"]),
                        arguments: call["function"]["arguments"].to_string(),
                        legacy: false,
                    });
                }
            }
        }
    }
    Ok((calls, values))
}

/// Every string in `value`, outside an echoed `tools` list.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => out.push(text),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(map) => map
            .iter()
            .filter(|(key, _)| *key != "tools")
            .for_each(|(_, item)| strings(item, out)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// One request, checked

/// What one request showed.
#[derive(Debug, Default)]
struct Outcome {
    /// The id the gateway gave the request (`x-hearth-request-id`): the audit log's key.
    request_id: Option<String>,
    problems: Vec<String>,
    leaked: usize,
}

async fn run_one(http: &reqwest::Client, running: &Running, plan: Arc<Plan>) -> Outcome {
    let mut outcome = Outcome::default();
    let (path, body) = client_request(&plan);
    let mut request = http.post(format!("{}{path}", running.base)).json(&body);
    request = if plan.api == Api::Messages {
        request.header("x-api-key", CLIENT)
    } else {
        request.bearer_auth(CLIENT)
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    outcome.request_id = response
        .headers()
        .get("x-hearth-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.unwrap();
    if !status.is_success() {
        outcome.problems.push(format!("status {status}: {text}"));
        return outcome;
    }
    let (calls, values) = match read_answer(plan.api, plan.streamed, &text) {
        Ok(read) => read,
        Err(problem) => {
            outcome.problems.push(problem);
            return outcome;
        }
    };

    // 1. No denied call reaches the client, by the test's folding and by the policy's.
    for call in &calls {
        let product = running.policy.decide(&call.name).is_allowed();
        match believed(&call.name) {
            Some(true) if product => {}
            verdict => {
                outcome.leaked += 1;
                outcome.problems.push(format!(
                    "LEAK: the client received a call to {:?} (folded {:?}, believed {verdict:?}, policy allows: {product})",
                    call.name,
                    folded(&call.name)
                ));
            }
        }
    }
    // 2. No denied name, as the rogue sent it, anywhere in what the client received.
    let mut seen = Vec::new();
    values.iter().for_each(|value| strings(value, &mut seen));
    for sent in plan.sent.iter().filter(|sent| sent.denied) {
        let names = [Some(&sent.name), sent.renamed.as_ref()];
        for name in names.into_iter().flatten() {
            let denied_name = believed(name) == Some(false);
            if denied_name && seen.iter().any(|text| text == name) {
                outcome.leaked += 1;
                outcome
                    .problems
                    .push(format!("LEAK: the denied name {name:?} is in the answer"));
            }
        }
    }
    // 3. Every allowed call arrives whole, once; nothing else arrives but the allowed start of
    //    a legacy call renamed to a denied name half-way.
    let mut matched = vec![0usize; plan.sent.len()];
    for call in &calls {
        let tag = serde_json::from_str::<Value>(&call.arguments)
            .ok()
            .and_then(|arguments| arguments["tag"].as_str().map(str::to_owned));
        let found = tag.and_then(|tag| plan.sent.iter().position(|sent| sent.tag() == tag));
        match found {
            Some(at) if plan.sent[at].arrives(plan.api) => {
                let sent = &plan.sent[at];
                matched[at] += 1;
                let arguments: Value = serde_json::from_str(&call.arguments).unwrap();
                if call.name != sent.name
                    || arguments != sent.arguments
                    || call.legacy != sent.legacy
                {
                    outcome.problems.push(format!(
                        "an allowed call arrived changed: sent {:?} {}, received {:?} {}",
                        sent.name, sent.arguments, call.name, call.arguments
                    ));
                }
            }
            _ => {
                let renamed_start = plan.sent.iter().any(|sent| {
                    sent.legacy
                        && sent.renamed.is_some()
                        && call.legacy
                        && call.name == sent.name
                        && arguments_text(sent).starts_with(&call.arguments)
                });
                if !renamed_start {
                    outcome.problems.push(format!(
                        "the client received a call the rogue did not send as allowed: {call:?}"
                    ));
                }
            }
        }
    }
    for (at, sent) in plan.sent.iter().enumerate() {
        if sent.arrives(plan.api) && matched[at] != 1 {
            outcome.problems.push(format!(
                "the allowed call {:?} {} arrived {} times",
                sent.name, sent.arguments, matched[at]
            ));
        }
    }
    // 4. The backend never saw a denied tool, and saw every allowed one.
    let received = plan
        .received_tools
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_default();
    // The deprecated `functions` are not translated for an Ollama backend: nothing to see there.
    let translated = !(plan.legacy_functions && plan.backend == Backend::Ollama);
    for (name, denied) in &plan.tools {
        let there = received.contains(name);
        if (*denied && there) || (!*denied && !there && translated) {
            outcome.problems.push(format!(
                "the tool {name:?} (denied: {denied}) reached the backend: {there}"
            ));
        }
    }
    outcome
}

/// One audit line, as far as the test reads it.
#[derive(Debug, Clone, serde::Deserialize)]
struct AuditLine {
    request_id: String,
    tool: String,
    allowed: bool,
}

/// The audit log, rotated copies included, by request id.
fn audit_lines(workspace: &std::path::Path) -> BTreeMap<String, Vec<AuditLine>> {
    let mut by_request: BTreeMap<String, Vec<AuditLine>> = BTreeMap::new();
    let mut files = vec![workspace.join("audit.jsonl")];
    files.extend((1..=5).map(|n| workspace.join(format!("audit.jsonl.{n}"))));
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines() {
            let line: AuditLine = serde_json::from_str(line).unwrap();
            by_request
                .entry(line.request_id.clone())
                .or_default()
                .push(line);
        }
    }
    by_request
}

/// The audit lines request `plan` must have left: one per call, under its last name.
fn expected_audit(plan: &Plan) -> Vec<(String, bool)> {
    let mut lines: Vec<(String, bool)> = plan
        .sent
        .iter()
        .map(|sent| {
            (
                sent.renamed.clone().unwrap_or_else(|| sent.name.clone()),
                !sent.denied,
            )
        })
        .collect();
    lines.sort();
    lines
}

// ---------------------------------------------------------------------------------------------
// The run

#[derive(Debug, Default)]
struct Figures {
    requests: usize,
    by_api: BTreeMap<(Api, bool), usize>,
    by_backend: BTreeMap<Backend, usize>,
    denied_sent: usize,
    allowed_sent: usize,
    legacy_sent: usize,
    renamed_sent: usize,
    by_variant: BTreeMap<&'static str, usize>,
    leaked: usize,
    audited_denied: usize,
    audited_allowed: usize,
    failures: Vec<String>,
}

async fn run(requests: usize, seed: u64) -> Figures {
    let running = start().await;
    let http = reqwest::Client::new();
    // The test's belief and the policy agree on the plain names.
    for tool in DENIED {
        assert!(!running.policy.decide(tool).is_allowed(), "{tool}");
        assert_eq!(believed(tool), Some(false), "{tool}");
    }
    for tool in ALLOWED {
        assert!(running.policy.decide(tool).is_allowed(), "{tool}");
        assert_eq!(believed(tool), Some(true), "{tool}");
    }
    let plans: Vec<Arc<Plan>> = (0..requests).map(|n| Arc::new(plan(seed, n))).collect();
    running
        .plans
        .lock()
        .unwrap()
        .extend(plans.iter().map(|plan| (plan.n, Arc::clone(plan))));
    let outcomes: Vec<(usize, Outcome)> = futures_util::stream::iter(plans.iter().cloned())
        .map(|plan| {
            let (http, running) = (&http, &running);
            async move { (plan.n, run_one(http, running, plan).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;

    let mut figures = Figures {
        requests,
        ..Figures::default()
    };
    for plan in &plans {
        *figures.by_api.entry((plan.api, plan.streamed)).or_default() += 1;
        *figures.by_backend.entry(plan.backend).or_default() += 1;
        for sent in &plan.sent {
            if sent.denied {
                figures.denied_sent += 1;
            } else {
                figures.allowed_sent += 1;
            }
            figures.legacy_sent += usize::from(sent.legacy);
            figures.renamed_sent += usize::from(sent.renamed.is_some());
            *figures
                .by_variant
                .entry(VARIANTS[sent.variant])
                .or_default() += 1;
        }
    }
    let describe = |n: usize| {
        let plan = &plans[n];
        format!(
            "request {n} ({:?}, {:?} backend, streamed: {}, seed {seed}): calls {:?}",
            plan.api,
            plan.backend,
            plan.streamed,
            plan.sent
                .iter()
                .map(|sent| (&sent.name, &sent.renamed, sent.denied, sent.legacy))
                .collect::<Vec<_>>()
        )
    };
    let mut ids = BTreeMap::new();
    for (n, outcome) in outcomes {
        if let Some(id) = outcome.request_id {
            ids.insert(n, id);
        }
        figures.leaked += outcome.leaked;
        for problem in outcome.problems {
            figures.failures.push(format!("{}: {problem}", describe(n)));
        }
    }

    // The audit log: the stream's records may be written just after its last byte.
    let expected_total: usize = plans.iter().map(|plan| plan.sent.len()).sum();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut audit = audit_lines(&running.workspace);
    while audit.values().map(Vec::len).sum::<usize>() < expected_total && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        audit = audit_lines(&running.workspace);
    }
    for plan in &plans {
        let lines = ids
            .get(&plan.n)
            .and_then(|id| audit.remove(id))
            .unwrap_or_default();
        figures.audited_denied += lines.iter().filter(|line| !line.allowed).count();
        figures.audited_allowed += lines.iter().filter(|line| line.allowed).count();
        let mut got: Vec<(String, bool)> = lines
            .into_iter()
            .map(|line| (line.tool, line.allowed))
            .collect();
        got.sort();
        let want = expected_audit(plan);
        if got != want {
            figures.failures.push(format!(
                "{}: the audit log has {got:?}, expected {want:?}",
                describe(plan.n)
            ));
        }
    }
    for (request, lines) in audit {
        figures.failures.push(format!(
            "audit lines of an unknown request {request}: {lines:?}"
        ));
    }
    figures
}

fn report(figures: &Figures, seed: u64) -> String {
    let mut text = format!(
        "policy leak test, seed {seed} (HEARTH_LEAK_SEED={seed} replays it)\n\
         requests: {}\n",
        figures.requests
    );
    for ((api, streamed), count) in &figures.by_api {
        let how = if *streamed { "streamed" } else { "whole" };
        text += &format!("  {api:?} {how}: {count}\n");
    }
    for (backend, count) in &figures.by_backend {
        text += &format!("  {backend:?} backend: {count}\n");
    }
    text += &format!(
        "calls sent by the rogue: {} denied, {} allowed ({} legacy function_call, {} renamed mid-stream)\n",
        figures.denied_sent, figures.allowed_sent, figures.legacy_sent, figures.renamed_sent
    );
    text += "  by dress:";
    for (variant, count) in &figures.by_variant {
        text += &format!(" {variant} {count},");
    }
    text.pop();
    text += &format!(
        "\nleaked: {}\naudited: {} denied, {} allowed\nproblems: {}\n",
        figures.leaked,
        figures.audited_denied,
        figures.audited_allowed,
        figures.failures.len()
    );
    for failure in figures
        .failures
        .iter()
        .take(usize::try_from(env_number("HEARTH_LEAK_SHOW").unwrap_or(20)).unwrap())
    {
        text += &format!("  {failure}\n");
    }
    text
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|value| {
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_denied_call_reaches_a_client_and_every_one_is_audited() {
    let requests = env_number("HEARTH_LEAK_REQUESTS").map_or(500, |n| usize::try_from(n).unwrap());
    let seed = env_number("HEARTH_LEAK_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    println!("policy leak test: {requests} requests, seed {seed}");
    let figures = run(requests, seed).await;
    let report = report(&figures, seed);
    println!("{report}");
    assert!(
        figures.failures.is_empty() && figures.leaked == 0,
        "{report}"
    );
    assert_eq!(figures.audited_denied, figures.denied_sent, "{report}");
    assert!(figures.denied_sent > 0 && figures.allowed_sent > 0);
}
