//! The agent's tool policy at the LLM boundary. Before a request leaves: denied tools are taken
//! out of its tool list, and a `tool_choice` naming one is refused. When the answer comes back:
//! a call to a denied tool is removed before the client sees it — in a stream too, call by call
//! as the deltas arrive, without holding back the text around it. Every tool call, allowed or
//! blocked, is appended to the agent's audit log (JSON lines, `<workspace>/audit.jsonl`: 0600,
//! each call's arguments capped, renamed to `audit.jsonl.1` … `.5` past 16 MiB).

use std::{
    collections::BTreeMap,
    os::unix::fs::{DirBuilderExt as _, PermissionsExt as _},
    path::PathBuf,
};

use hearth_core::policy::{Decision, ToolPolicy};
use hearth_protocol::openai::chat::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, FinishReason,
    ToolCallDelta, ToolChoice,
};
use serde_json::json;

use crate::error::GatewayError;

/// Who asked, for the audit log.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub agent: String,
    pub client: Option<String>,
    pub request_id: String,
    pub workspace: PathBuf,
    /// Blocked calls are shown on the dashboard too.
    pub activity: Option<std::sync::Arc<crate::activity::Activity>>,
}

/// One line of the audit log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    pub time: u64,
    pub request_id: String,
    pub agent: String,
    pub client: Option<String>,
    pub tool: String,
    pub allowed: bool,
    pub rule: String,
    /// The arguments as the model wrote them (the audit log is the agent's own record).
    pub arguments: String,
}

impl AuditContext {
    pub fn record(&self, decision: &Decision, arguments: &str) -> AuditRecord {
        AuditRecord {
            time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs()),
            request_id: self.request_id.clone(),
            agent: self.agent.clone(),
            client: self.client.clone(),
            tool: decision.tool.clone(),
            allowed: decision.is_allowed(),
            rule: decision.verdict.to_string(),
            arguments: capped(arguments),
        }
    }

    /// Appends records to the audit log. A failure to write is logged, never hidden: the
    /// request itself has already been decided.
    pub async fn write(&self, records: &[AuditRecord]) {
        if records.is_empty() {
            return;
        }
        if let Some(activity) = &self.activity {
            for record in records.iter().filter(|record| !record.allowed) {
                activity.blocked(crate::activity::Blocked {
                    at: record.time.saturating_mul(1000),
                    agent: record.agent.clone(),
                    tool: record.tool.clone(),
                    rule: record.rule.clone(),
                });
            }
        }
        let mut text = String::new();
        for record in records {
            if let Ok(line) = serde_json::to_string(record) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        let path = self.workspace.join("audit.jsonl");
        let result = async {
            // Only the user may read what the agents did: a 0700 workspace when Hearth makes
            // it, a 0600 log whoever made it.
            let workspace = self.workspace.clone();
            let rotated = path.clone();
            tokio::task::spawn_blocking(move || {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&workspace)?;
                hearth_services::logs::rotate_renaming(&rotated, AUDIT_LIMIT, AUDIT_KEEP)
            })
            .await
            .map_err(std::io::Error::other)??;
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&path)
                .await?;
            if file.metadata().await?.permissions().mode() & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .await?;
            }
            // tokio finishes file writes in the background: flush, so the record is on disk
            // when the answer reaches the client.
            tokio::io::AsyncWriteExt::write_all(&mut file, text.as_bytes()).await?;
            tokio::io::AsyncWriteExt::flush(&mut file).await
        }
        .await;
        if let Err(error) = result {
            tracing::error!(path = %path.display(), %error, "cannot write the audit log");
        }
    }
}

/// Takes denied tools out of the request; refuses a `tool_choice` that names one. Returns the
/// names it removed.
pub fn request(
    policy: &ToolPolicy,
    agent: &str,
    request: &mut ChatCompletionRequest,
) -> Result<Vec<String>, GatewayError> {
    // A `tool_choice` whose shape Hearth cannot read could name anything: refused, not passed.
    if let Some(ToolChoice::Other(other)) = &request.tool_choice {
        return Err(GatewayError::BadRequest {
            message: format!(
                "`tool_choice` {} is not a form Hearth understands: use \"none\", \"auto\", \"required\" or {{\"type\":\"function\",\"function\":{{\"name\":…}}}}",
                crate::providers::shorten(&other.to_string(), 80)
            ),
            code: "invalid_tool_choice",
        });
    }
    if let Some(ToolChoice::Function(choice)) = &request.tool_choice {
        let decision = policy.decide(&choice.function.name);
        if !decision.is_allowed() {
            return Err(GatewayError::ToolDenied {
                message: format!(
                    "`tool_choice` names `{}`, which agent `{agent}` may not use: {}",
                    choice.function.name, decision.verdict
                ),
            });
        }
    }
    // The deprecated `functions` / `function_call` fields pass through as extra fields; the
    // policy applies to them too, or they would be a way around it.
    if let Some(name) = request
        .extra
        .get("function_call")
        .and_then(|choice| choice.get("name"))
        .and_then(|name| name.as_str())
    {
        let decision = policy.decide(name);
        if !decision.is_allowed() {
            return Err(GatewayError::ToolDenied {
                message: format!(
                    "`function_call` names `{name}`, which agent `{agent}` may not use: {}",
                    decision.verdict
                ),
            });
        }
    }
    let mut removed = Vec::new();
    if let Some(serde_json::Value::Array(functions)) = request.extra.get_mut("functions") {
        functions.retain(|function| {
            let name = function
                .get("name")
                .and_then(|name| name.as_str())
                .unwrap_or_default();
            let allowed = is_allowed(policy, name);
            if !allowed {
                removed.push(name.to_owned());
            }
            allowed
        });
    }
    // Only function tools with a name the policy allows go on; any other shape (a custom tool,
    // a function without its `function` object) could carry a name the policy never saw.
    request.tools.retain(|tool| match &tool.function {
        Some(function) if tool.kind == "function" && is_allowed(policy, &function.name) => true,
        Some(function) => {
            removed.push(function.name.clone());
            false
        }
        None => {
            removed.push(format!("(a `{}` tool without a function)", tool.kind));
            false
        }
    });
    if request.tools.is_empty() && !removed.is_empty() {
        // `required` with nothing left to call would make the backend fail.
        request.tool_choice = None;
    }
    Ok(removed)
}

/// Removes calls to denied tools from a whole response (the legacy `function_call` too); returns
/// the audit records of every call. A call without a name is refused.
pub fn response(
    policy: &ToolPolicy,
    audit: &AuditContext,
    response: &mut ChatCompletionResponse,
) -> Vec<AuditRecord> {
    let mut records = Vec::new();
    let mut record = |name: &str, arguments: &str| {
        let allowed = is_allowed(policy, name);
        let mut record = audit.record(&policy.decide(name), arguments);
        record.allowed = allowed;
        if name.trim().is_empty() {
            record.rule = "refused: the call has no tool name".to_owned();
        }
        records.push(record);
        allowed
    };
    for choice in &mut response.choices {
        let before = choice.message.tool_calls.len();
        choice
            .message
            .tool_calls
            .retain(|call| record(&call.function.name, &call.function.arguments));
        let mut legacy_denied = false;
        if let Some(call) = choice.message.extra.get("function_call") {
            let text = |key: &str| call.get(key).and_then(|v| v.as_str()).unwrap_or_default();
            legacy_denied = !record(text("name"), text("arguments"));
        }
        if legacy_denied {
            choice.message.extra.remove("function_call");
        }
        if (before > 0 && choice.message.tool_calls.is_empty()) || legacy_denied {
            choice.finish_reason = Some(FinishReason::Stop);
        }
    }
    records
}

/// How much of one call's arguments the filter keeps for the audit log, and how many calls one
/// answer may make: a hostile backend must not grow memory without bound.
const MAX_AUDITED_ARGUMENTS: usize = 64 * 1024;
/// The audit log's size before it is renamed to `audit.jsonl.1`, and how many such copies stay.
const AUDIT_LIMIT: u64 = 16 * 1024 * 1024;
const AUDIT_KEEP: u32 = 5;

/// One call's arguments as the audit log keeps them: at most [`MAX_AUDITED_ARGUMENTS`] bytes
/// (cut at a character boundary), then how many bytes were left out.
fn capped(arguments: &str) -> String {
    if arguments.len() <= MAX_AUDITED_ARGUMENTS {
        return arguments.to_owned();
    }
    let mut end = MAX_AUDITED_ARGUMENTS;
    while !arguments.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… [{} more bytes not kept]",
        &arguments[..end],
        arguments.len() - end
    )
}
const MAX_CALLS: usize = 256;
/// What the deltas of one call may hold while its name is still arriving (a name is a few
/// dozen bytes): a call whose name has not ended by then is refused, so a backend cannot make
/// the filter keep its stream in memory.
const MAX_HELD_BYTES: usize = 16 * 1024;
/// The key of a choice's legacy `function_call` (the pre-`tools` API), which has no index.
const LEGACY: u32 = u32::MAX;

#[derive(Debug)]
enum CallState {
    /// The name may still be arriving; the deltas wait here, unsent.
    Pending(Vec<ToolCallDelta>),
    /// Forwarded under this index.
    Allowed(u32),
    Denied,
}

/// What the stream filter knows about one tool call of a streamed answer.
#[derive(Debug)]
struct StreamedCall {
    choice: u32,
    id: Option<String>,
    name: String,
    arguments: String,
    state: CallState,
    /// The size of the deltas held while [`CallState::Pending`].
    held_bytes: usize,
}

impl StreamedCall {
    fn append_arguments(&mut self, text: &str) {
        let room = MAX_AUDITED_ARGUMENTS.saturating_sub(self.arguments.len());
        let mut end = text.len().min(room);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.arguments.push_str(&text[..end]);
    }
}

/// Filters a streamed answer chunk by chunk. A call is decided on its whole name: its deltas are
/// held until the name is complete (its first argument fragment, or the end of the answer), so
/// a name sent late or in pieces cannot slip through. A new id or a new name on an index already
/// used is a new call, decided on its own. Denied calls are dropped, allowed ones renumbered so
/// the client sees contiguous indexes, and a call without a name is refused. The same holds for
/// the legacy `function_call`.
#[derive(Debug, Default)]
pub struct StreamFilter {
    calls: Vec<StreamedCall>,
    /// (choice, backend index) → the call at that index now.
    current: BTreeMap<(u32, u32), usize>,
    next_index: BTreeMap<u32, u32>,
    allowed_any: BTreeMap<u32, bool>,
}

/// A call is decided on the name a framework would run (folded, without a namespace prefix:
/// `functions.ｂａｓｈ` is `bash`); one with no name left is refused.
fn is_allowed(policy: &ToolPolicy, name: &str) -> bool {
    !hearth_core::policy::called(name).is_empty() && policy.decide(name).is_allowed()
}

impl StreamFilter {
    /// Decides call `at`, sending its held deltas into `out` when it is allowed.
    fn decide(&mut self, policy: &ToolPolicy, at: usize, out: &mut Vec<ToolCallDelta>) {
        let call = &mut self.calls[at];
        let CallState::Pending(held) = std::mem::replace(&mut call.state, CallState::Denied) else {
            return;
        };
        if !is_allowed(policy, &call.name) {
            return;
        }
        let next = self.next_index.entry(call.choice).or_insert(0);
        let index = *next;
        *next += 1;
        self.allowed_any.insert(call.choice, true);
        call.state = CallState::Allowed(index);
        // The client gets the name that was decided, whole, in the first delta: converters
        // downstream (and some clients) keep only a name's first piece.
        let mut named = false;
        out.extend(held.into_iter().map(|mut delta| {
            delta.index = index;
            if let Some(function) = delta.function.as_mut() {
                function.name = (!named).then(|| call.name.clone());
                named = true;
            }
            delta
        }));
    }

    /// The call a delta belongs to, starting a new one where the delta says so.
    fn call_for(
        &mut self,
        choice: u32,
        index: u32,
        id: Option<&str>,
        named: bool,
    ) -> Option<usize> {
        let starts_new = match self.current.get(&(choice, index)) {
            None => true,
            Some(&at) => {
                let call = &self.calls[at];
                let other_id = matches!((id, &call.id), (Some(new), Some(old)) if new != old);
                let renamed = named && !matches!(call.state, CallState::Pending(_));
                other_id || renamed
            }
        };
        if starts_new {
            if self.calls.len() >= MAX_CALLS {
                return None;
            }
            self.calls.push(StreamedCall {
                choice,
                id: id.map(str::to_owned),
                name: String::new(),
                arguments: String::new(),
                state: CallState::Pending(Vec::new()),
                held_bytes: 0,
            });
            self.current.insert((choice, index), self.calls.len() - 1);
        }
        self.current.get(&(choice, index)).copied()
    }

    /// Filters one chunk in place.
    pub fn filter(&mut self, policy: &ToolPolicy, chunk: &mut ChatCompletionChunk) {
        for choice in &mut chunk.choices {
            let choice_index = choice.index;
            let mut out = Vec::new();
            for delta in std::mem::take(&mut choice.delta.tool_calls) {
                let function = delta.function.clone().unwrap_or_default();
                let name = function.name.filter(|name| !name.is_empty());
                let id = delta.id.as_deref().filter(|id| !id.is_empty());
                let Some(at) = self.call_for(choice_index, delta.index, id, name.is_some()) else {
                    continue; // too many calls: the rest are refused
                };
                let call = &mut self.calls[at];
                if call.id.is_none() {
                    call.id = id.map(str::to_owned);
                }
                let arguments = function.arguments.unwrap_or_default();
                if let CallState::Pending(_) = call.state {
                    call.held_bytes += name.as_ref().map_or(0, String::len)
                        + arguments.len()
                        + delta.id.as_ref().map_or(0, String::len)
                        + 16;
                    if call.held_bytes > MAX_HELD_BYTES {
                        // Refused unseen; the audit log keeps the name's start.
                        call.state = CallState::Denied;
                        continue;
                    }
                    if let Some(part) = &name {
                        call.name.push_str(part);
                    }
                }
                call.append_arguments(&arguments);
                match &mut call.state {
                    CallState::Pending(held) => {
                        held.push(delta);
                        if !arguments.is_empty() {
                            self.decide(policy, at, &mut out);
                        }
                    }
                    CallState::Allowed(index) => {
                        let mut delta = delta;
                        delta.index = *index;
                        out.push(delta);
                    }
                    CallState::Denied => {}
                }
            }
            if choice.finish_reason.is_some() {
                let pending: Vec<usize> = (0..self.calls.len())
                    .filter(|&at| {
                        let call = &self.calls[at];
                        call.choice == choice_index && matches!(call.state, CallState::Pending(_))
                    })
                    .collect();
                for at in pending {
                    self.decide(policy, at, &mut out);
                }
            }
            choice.delta.tool_calls = out;
            self.filter_legacy(policy, choice_index, &mut choice.delta.extra);
            let allowed_any = self
                .allowed_any
                .get(&choice_index)
                .copied()
                .unwrap_or(false);
            if matches!(
                choice.finish_reason,
                Some(FinishReason::ToolCalls | FinishReason::FunctionCall)
            ) && !allowed_any
            {
                choice.finish_reason = Some(FinishReason::Stop);
            }
        }
    }

    /// The legacy `function_call` delta: decided on the name its first delta carries (the
    /// legacy API always sends it there); without one, refused. A later delta that carries a
    /// name again would rename the call in a client that takes the last name (or extend it in
    /// one that joins them): the name is never passed on, and the call is decided again on
    /// both readings — denied by either, the rest of it is dropped and the audit log has the
    /// name it was renamed to.
    fn filter_legacy(
        &mut self,
        policy: &ToolPolicy,
        choice: u32,
        extra: &mut serde_json::Map<String, serde_json::Value>,
    ) {
        let Some(call) = extra.get("function_call") else {
            return;
        };
        let name = call
            .get("name")
            .and_then(|name| name.as_str())
            .unwrap_or_default()
            .to_owned();
        let arguments = call
            .get("arguments")
            .and_then(|arguments| arguments.as_str())
            .unwrap_or_default()
            .to_owned();
        let at = match self.current.get(&(choice, LEGACY)) {
            Some(&at) => {
                // A later delta that names the call again.
                if !name.is_empty() {
                    self.rename_legacy(policy, at, name);
                    if let Some(serde_json::Value::Object(delta)) = extra.get_mut("function_call") {
                        delta.remove("name");
                    }
                }
                at
            }
            None => {
                if self.calls.len() >= MAX_CALLS {
                    extra.remove("function_call");
                    return;
                }
                let allowed = is_allowed(policy, &name);
                if allowed {
                    self.allowed_any.insert(choice, true);
                }
                self.calls.push(StreamedCall {
                    choice,
                    id: None,
                    name,
                    arguments: String::new(),
                    state: if allowed {
                        CallState::Allowed(0)
                    } else {
                        CallState::Denied
                    },
                    held_bytes: 0,
                });
                self.current.insert((choice, LEGACY), self.calls.len() - 1);
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[at];
        call.append_arguments(&arguments);
        if matches!(call.state, CallState::Denied) {
            extra.remove("function_call");
        }
    }

    /// Legacy call `at` is named again (`get_weather`, then `bash`): decided on the new name and
    /// on the two joined, as clients read it either way; denied by either, it is dropped from
    /// here on. The audit log gets the new name.
    fn rename_legacy(&mut self, policy: &ToolPolicy, at: usize, name: String) {
        let joined = format!("{}{name}", self.calls[at].name);
        let choice = self.calls[at].choice;
        if !is_allowed(policy, &name) || !is_allowed(policy, &joined) {
            self.calls[at].state = CallState::Denied;
            let still_allowed = self
                .calls
                .iter()
                .any(|call| call.choice == choice && matches!(call.state, CallState::Allowed(_)));
            self.allowed_any.insert(choice, still_allowed);
        }
        self.calls[at].name = name;
    }

    /// The audit records of every call seen, once the stream is over. A call still undecided
    /// (the stream ended before its name was complete) was never sent: it is recorded refused.
    pub fn records(&self, policy: &ToolPolicy, audit: &AuditContext) -> Vec<AuditRecord> {
        self.calls
            .iter()
            .map(|call| {
                let mut record = audit.record(&policy.decide(&call.name), &call.arguments);
                record.allowed = matches!(call.state, CallState::Allowed(_));
                if call.held_bytes > MAX_HELD_BYTES {
                    record.rule = format!(
                        "refused: its name did not end within {} KiB",
                        MAX_HELD_BYTES / 1024
                    );
                } else if call.name.trim().is_empty() {
                    record.rule = "refused: the call has no tool name".to_owned();
                } else if !record.allowed && matches!(call.state, CallState::Pending(_)) {
                    record.rule =
                        "refused: the answer ended before the call was complete".to_owned();
                }
                record
            })
            .collect()
    }

    /// How many calls were blocked.
    pub fn blocked(&self) -> usize {
        self.calls
            .iter()
            .filter(|call| matches!(call.state, CallState::Denied))
            .count()
    }
}

/// A stream's policy filter together with what it needs to audit: the records are written when
/// the stream finishes, and also when it is dropped half-way because the client went away —
/// a blocked call must be in the audit log whether or not anyone read the rest.
#[derive(Debug)]
pub struct StreamAudit {
    filter: StreamFilter,
    policy: ToolPolicy,
    audit: AuditContext,
    written: bool,
}

impl StreamAudit {
    pub fn new(policy: ToolPolicy, audit: AuditContext) -> StreamAudit {
        StreamAudit {
            filter: StreamFilter::default(),
            policy,
            audit,
            written: false,
        }
    }

    pub fn filter(&mut self, chunk: &mut ChatCompletionChunk) {
        self.filter.filter(&self.policy, chunk);
    }

    pub fn blocked(&self) -> usize {
        self.filter.blocked()
    }

    /// Writes the audit records now.
    pub async fn finish(mut self) {
        self.written = true;
        let records = self.filter.records(&self.policy, &self.audit);
        self.audit.write(&records).await;
    }
}

impl Drop for StreamAudit {
    fn drop(&mut self) {
        if self.written {
            return;
        }
        let records = self.filter.records(&self.policy, &self.audit);
        if records.is_empty() {
            return;
        }
        let audit = self.audit.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { audit.write(&records).await });
            }
            Err(_) => tracing::error!(
                agent = %self.audit.agent,
                "a stream ended outside the runtime; its tool calls could not be audited"
            ),
        }
    }
}

/// The `{"error": ...}` event that ends a stream the backend broke.
pub fn stream_error_event(message: &str) -> String {
    let body = json!({
        "error": { "message": message, "type": "server_error", "code": "backend_failed" }
    });
    format!("data: {body}\n\n")
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use hearth_core::config::{diagnostic::JsonPath, file::ToolsFile};
    use hearth_protocol::openai::chat::ChatCompletionChunk;

    use super::*;

    fn public_policy() -> ToolPolicy {
        let tools = ToolsFile {
            deny: vec!["group:runtime".to_owned(), "group:web".to_owned()],
            ..ToolsFile::default()
        };
        ToolPolicy::compile(&tools, &JsonPath::root()).0.unwrap()
    }

    fn chunk(json: serde_json::Value) -> ChatCompletionChunk {
        serde_json::from_value(json).unwrap()
    }

    /// A streamed answer calling a denied tool (index 0) and an allowed one (index 1), split
    /// over deltas the way servers send them: the denied call never shows, the allowed one is
    /// renumbered to index 0, the text around them passes untouched, and both are audited.
    #[test]
    fn denied_streamed_calls_are_dropped_delta_by_delta() {
        let policy = public_policy();
        let mut filter = StreamFilter::default();
        let stream = [
            json!({"choices":[{"index":0,"delta":{"role":"assistant","content":"Let me check."}}]}),
            json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"bash","arguments":""}}]}}]}),
            json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":\"rm -rf ~\"}"}}]}}]}),
            json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}}]}),
            json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"Paris\"}"}}]}}]}),
            json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}),
        ];
        let out: Vec<String> = stream
            .into_iter()
            .map(|json| {
                let mut chunk = chunk(json);
                filter.filter(&policy, &mut chunk);
                serde_json::to_string(&chunk.choices[0].delta).unwrap()
                    + &chunk.choices[0]
                        .finish_reason
                        .as_ref()
                        .map(|reason| format!(" finish={}", serde_json::to_string(reason).unwrap()))
                        .unwrap_or_default()
            })
            .collect();
        expect![[r#"
            [
                "{\"role\":\"assistant\",\"content\":\"Let me check.\"}",
                "{}",
                "{}",
                "{\"tool_calls\":[{\"index\":0,\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\"}}]}",
                "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}",
                "{} finish=\"tool_calls\"",
            ]
        "#]]
        .assert_debug_eq(&out);
        assert_eq!(filter.blocked(), 1);
        let audit = AuditContext {
            activity: None,
            agent: "public".to_owned(),
            client: Some("app".to_owned()),
            request_id: "req_1".to_owned(),
            workspace: PathBuf::from("/nowhere"),
        };
        let records: Vec<(String, bool, String)> = filter
            .records(&policy, &audit)
            .into_iter()
            .map(|record| (record.tool, record.allowed, record.arguments))
            .collect();
        expect![[r#"
            [
                (
                    "bash",
                    false,
                    "{\"command\":\"rm -rf ~\"}",
                ),
                (
                    "get_weather",
                    true,
                    "{\"city\":\"Paris\"}",
                ),
            ]
        "#]]
        .assert_debug_eq(&records);
    }

    #[test]
    fn legacy_functions_obey_the_policy_too() {
        let policy = public_policy();
        let mut request: ChatCompletionRequest = serde_json::from_value(json!({
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "functions": [{"name": "bash"}, {"name": "get_weather"}]
        }))
        .unwrap();
        let removed = super::request(&policy, "public", &mut request).unwrap();
        assert_eq!(removed, ["bash"]);
        assert_eq!(request.extra["functions"], json!([{"name": "get_weather"}]));
        request
            .extra
            .insert("function_call".to_owned(), json!({"name": "bash"}));
        let error = super::request(&policy, "public", &mut request).unwrap_err();
        assert!(
            error.to_string().contains("`function_call` names `bash`"),
            "{error}"
        );
    }

    /// A backend that sends a call's name forever (never an argument) cannot make the filter
    /// hold the stream: past the limit the call is refused unseen (what follows on its index
    /// is another call, refused the same way, and there are at most `MAX_CALLS`), and the
    /// audit log says why.
    #[test]
    fn a_call_whose_name_never_ends_is_refused_not_held() {
        let policy = public_policy();
        let mut filter = StreamFilter::default();
        let part = "x".repeat(1024);
        let mut sent = Vec::new();
        for _ in 0..1000 {
            let mut piece = chunk(
                json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name": part}}]}}]}),
            );
            filter.filter(&policy, &mut piece);
            sent.append(&mut piece.choices[0].delta.tool_calls);
        }
        let mut end =
            chunk(json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}));
        filter.filter(&policy, &mut end);
        sent.append(&mut end.choices[0].delta.tool_calls);
        // Only the last call, whose name ended (with the answer) within the limit, is passed on.
        let names: Vec<usize> = sent
            .iter()
            .filter_map(|delta| delta.function.as_ref()?.name.as_ref().map(String::len))
            .collect();
        assert_eq!(names.len(), 1);
        assert!(names[0] < MAX_HELD_BYTES);
        let held: usize = filter
            .calls
            .iter()
            .map(|call| match &call.state {
                CallState::Pending(held) => held.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(held, 0);
        assert!(filter.calls[0].name.len() <= MAX_HELD_BYTES);
        let audit = AuditContext {
            activity: None,
            agent: "public".to_owned(),
            client: None,
            request_id: "req_1".to_owned(),
            workspace: PathBuf::from("/nowhere"),
        };
        let records = filter.records(&policy, &audit);
        assert!(records.len() > 1 && records.len() <= MAX_CALLS);
        for record in &records[..records.len() - 1] {
            assert!(!record.allowed);
            assert_eq!(record.rule, "refused: its name did not end within 16 KiB");
        }
    }

    #[test]
    fn a_stream_whose_only_calls_are_denied_finishes_with_stop() {
        let policy = public_policy();
        let mut filter = StreamFilter::default();
        let mut call = chunk(
            json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"Shell_Exec","arguments":"{}"}}]}}]}),
        );
        filter.filter(&policy, &mut call);
        assert!(call.choices[0].delta.tool_calls.is_empty());
        let mut finish =
            chunk(json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}));
        filter.filter(&policy, &mut finish);
        assert_eq!(finish.choices[0].finish_reason, Some(FinishReason::Stop));
    }

    /// Streams `deltas` (one chunk each, then a finish) through the filter; returns the tool
    /// names the client can assemble, by client index, and the number blocked.
    fn client_sees(deltas: &[serde_json::Value]) -> (Vec<String>, usize, String) {
        let policy = public_policy();
        let mut filter = StreamFilter::default();
        let mut names: BTreeMap<u32, String> = BTreeMap::new();
        let mut finish = String::new();
        let mut chunks: Vec<serde_json::Value> = deltas
            .iter()
            .map(|delta| json!({"choices":[{"index":0,"delta":{"tool_calls":[delta]}}]}))
            .collect();
        chunks.push(json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}));
        let mut blocked = 0;
        for json in chunks {
            let mut chunk = chunk(json);
            filter.filter(&policy, &mut chunk);
            // The count only grows: the pipeline adds the difference to a metric after each
            // chunk (a call waiting for its name once made it shrink, and the subtraction
            // overflow took the stream down).
            assert!(filter.blocked() >= blocked, "the blocked count went down");
            blocked = filter.blocked();
            for call in &chunk.choices[0].delta.tool_calls {
                if let Some(name) = call.function.as_ref().and_then(|f| f.name.as_ref()) {
                    // The whole name, once: converters downstream keep only the first piece.
                    assert!(
                        !names.contains_key(&call.index),
                        "a second name piece: {name}"
                    );
                    names.entry(call.index).or_default().push_str(name);
                }
            }
            if let Some(reason) = &chunk.choices[0].finish_reason {
                finish = serde_json::to_string(reason).unwrap();
            }
        }
        (names.into_values().collect(), filter.blocked(), finish)
    }

    #[test]
    fn names_sent_late_or_in_pieces_are_decided_whole() {
        // The name arrives after the first delta.
        let (names, blocked, finish) = client_sees(&[
            json!({"index":0,"id":"a","type":"function","function":{"arguments":""}}),
            json!({"index":0,"function":{"name":"bash","arguments":"{\"command\":\"id\"}"}}),
        ]);
        assert_eq!((names, blocked, finish.as_str()), (vec![], 1, "\"stop\""));
        // The name arrives in two pieces.
        let (names, blocked, _) = client_sees(&[
            json!({"index":0,"id":"a","function":{"name":"ba"}}),
            json!({"index":0,"function":{"name":"sh","arguments":"{}"}}),
        ]);
        assert_eq!((names, blocked), (vec![], 1));
        // An allowed name sent late still reaches the client whole.
        let (names, blocked, finish) = client_sees(&[
            json!({"index":0,"id":"a","function":{"arguments":""}}),
            json!({"index":0,"function":{"name":"get_","arguments":""}}),
            json!({"index":0,"function":{"name":"weather","arguments":"{}"}}),
        ]);
        assert_eq!(
            (names, blocked, finish.as_str()),
            (vec!["get_weather".to_owned()], 0, "\"tool_calls\"")
        );
    }

    #[test]
    fn a_denied_tool_dressed_up_by_the_model_is_still_denied_streamed_or_not() {
        let policy = public_policy();
        for dressed in [
            "bash\u{FEFF}",
            "exec\u{FEFF}",
            "baſh",
            "ｂａｓｈ",
            "functions.bash",
            "default_api:exec",
            "functions.",
        ] {
            // Streamed, the name split in two deltas.
            let (first, rest) = dressed.split_at(dressed.char_indices().nth(2).unwrap().0);
            let (names, blocked, _) = client_sees(&[
                json!({"index":0,"id":"a","function":{"name":first}}),
                json!({"index":0,"function":{"name":rest,"arguments":"{}"}}),
            ]);
            assert_eq!((names, blocked), (vec![], 1), "{dressed:?}");
            // Whole.
            let audit = AuditContext {
                activity: None,
                agent: "public".to_owned(),
                client: None,
                request_id: "req_4".to_owned(),
                workspace: PathBuf::from("/nowhere"),
            };
            let mut whole: ChatCompletionResponse = serde_json::from_value(json!({
                "id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "a", "type": "function",
                         "function": {"name": dressed, "arguments": "{}"}}]}}]
            }))
            .unwrap();
            let records = response(&policy, &audit, &mut whole);
            assert!(
                whole.choices[0].message.tool_calls.is_empty(),
                "{dressed:?}"
            );
            // The audit log keeps the name exactly as the model sent it.
            assert_eq!(
                (records[0].tool.as_str(), records[0].allowed),
                (dressed, false)
            );
        }
        // A namespaced allowed tool still works.
        let (names, blocked, _) = client_sees(&[
            json!({"index":0,"id":"a","function":{"name":"functions.get_weather","arguments":"{}"}}),
        ]);
        assert_eq!(
            (names, blocked),
            (vec!["functions.get_weather".to_owned()], 0)
        );
    }

    #[test]
    fn a_second_call_on_a_reused_index_is_decided_on_its_own() {
        let (names, blocked, _) = client_sees(&[
            json!({"index":0,"id":"a","function":{"name":"get_weather","arguments":"{}"}}),
            json!({"index":0,"id":"b","function":{"name":"bash","arguments":"{\"command\":\"id\"}"}}),
            json!({"index":0,"id":"c","function":{"name":"get_weather","arguments":"{}"}}),
        ]);
        assert_eq!(names, ["get_weather", "get_weather"]);
        assert_eq!(blocked, 1);
    }

    #[test]
    fn a_call_without_a_name_is_refused() {
        let (names, blocked, _) =
            client_sees(&[json!({"index":0,"id":"a","function":{"arguments":"{}"}})]);
        assert_eq!((names, blocked), (vec![], 1));
    }

    #[test]
    fn a_legacy_function_call_renamed_mid_stream_is_denied_and_audited_under_its_new_name() {
        let policy = public_policy();
        let mut filter = StreamFilter::default();
        let mut chunks = [
            json!({"choices":[{"index":0,"delta":{"function_call":{"name":"get_weather","arguments":""}}}]}),
            json!({"choices":[{"index":0,"delta":{"function_call":{"arguments":"{\"city\":"}}}]}),
            json!({"choices":[{"index":0,"delta":{"function_call":{"name":"bash","arguments":"\"id\"}"}}}]}),
            json!({"choices":[{"index":0,"delta":{},"finish_reason":"function_call"}]}),
        ]
        .map(chunk);
        for chunk in &mut chunks {
            filter.filter(&policy, chunk);
        }
        let sent = |at: usize| {
            chunks[at].choices[0]
                .delta
                .extra
                .get("function_call")
                .cloned()
        };
        // The allowed start went out; nothing after the rename did, and no second name ever.
        assert_eq!(sent(0), Some(json!({"name":"get_weather","arguments":""})));
        assert_eq!(sent(1), Some(json!({"arguments":"{\"city\":"})));
        assert_eq!(sent(2), None);
        assert_eq!(chunks[3].choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(filter.blocked(), 1);
        let audit = AuditContext {
            activity: None,
            agent: "public".to_owned(),
            client: None,
            request_id: "req_5".to_owned(),
            workspace: PathBuf::from("/nowhere"),
        };
        let records = filter.records(&policy, &audit);
        assert_eq!(
            (records.len(), records[0].tool.as_str(), records[0].allowed),
            (1, "bash", false)
        );
        // Renamed to something allowed: still one allowed call, the name not passed on.
        let mut filter = StreamFilter::default();
        let mut chunks = [
            json!({"choices":[{"index":0,"delta":{"function_call":{"name":"get_","arguments":""}}}]}),
            json!({"choices":[{"index":0,"delta":{"function_call":{"name":"weather","arguments":"{}"}}}]}),
        ]
        .map(chunk);
        for chunk in &mut chunks {
            filter.filter(&policy, chunk);
        }
        assert_eq!(
            chunks[1].choices[0].delta.extra.get("function_call"),
            Some(&json!({"arguments":"{}"}))
        );
        assert_eq!(filter.blocked(), 0);
    }

    #[test]
    fn legacy_function_calls_are_filtered_too() {
        let policy = public_policy();
        let mut filter = StreamFilter::default();
        let mut first = chunk(
            json!({"choices":[{"index":0,"delta":{"function_call":{"name":"bash","arguments":""}}}]}),
        );
        let mut rest = chunk(
            json!({"choices":[{"index":0,"delta":{"function_call":{"arguments":"{}"}},"finish_reason":"function_call"}]}),
        );
        filter.filter(&policy, &mut first);
        filter.filter(&policy, &mut rest);
        assert!(!first.choices[0].delta.extra.contains_key("function_call"));
        assert!(!rest.choices[0].delta.extra.contains_key("function_call"));
        assert_eq!(rest.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(filter.blocked(), 1);

        let audit = AuditContext {
            activity: None,
            agent: "public".to_owned(),
            client: None,
            request_id: "req_2".to_owned(),
            workspace: PathBuf::from("/nowhere"),
        };
        let mut whole: ChatCompletionResponse = serde_json::from_value(json!({
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "function_call",
                "message": {"role": "assistant", "content": null,
                            "function_call": {"name": "bash", "arguments": "{}"}}}]
        }))
        .unwrap();
        let records = response(&policy, &audit, &mut whole);
        assert!(!whole.choices[0].message.extra.contains_key("function_call"));
        assert_eq!(whole.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(records.len(), 1);
        assert!(!records[0].allowed);
    }

    #[test]
    fn tool_shapes_the_policy_cannot_read_are_not_passed_on() {
        let policy = public_policy();
        let mut request: ChatCompletionRequest = serde_json::from_value(json!({
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [
                {"type": "function", "name": "bash"},
                {"type": "custom", "custom": {"name": "bash"}},
                {"type": "function", "function": {"name": ""}},
                {"type": "function", "function": {"name": "get_weather"}}
            ],
            "functions": [{"description": "no name"}]
        }))
        .unwrap();
        let removed = super::request(&policy, "public", &mut request).unwrap();
        assert_eq!(removed.len(), 4, "{removed:?}");
        let kept: Vec<&str> = request
            .tools
            .iter()
            .filter_map(|tool| tool.function.as_ref().map(|f| f.name.as_str()))
            .collect();
        assert_eq!(kept, ["get_weather"]);
        request.tool_choice =
            Some(serde_json::from_value(json!({"type": "function", "name": "bash"})).unwrap());
        let error = super::request(&policy, "public", &mut request).unwrap_err();
        assert!(
            error.to_string().contains("not a form Hearth understands"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn the_audit_log_is_private_capped_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("agents/public");
        let audit = AuditContext {
            activity: None,
            agent: "public".to_owned(),
            client: None,
            request_id: "req_3".to_owned(),
            workspace: workspace.clone(),
        };
        let policy = public_policy();
        // A non-streamed answer whose call carries 1 MiB of arguments.
        let huge = format!("{{\"command\":\"{}\"}}", "é".repeat(512 * 1024));
        let mut whole: ChatCompletionResponse = serde_json::from_value(json!({
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "a", "type": "function",
                     "function": {"name": "bash", "arguments": huge}}]}}]
        }))
        .unwrap();
        let records = response(&policy, &audit, &mut whole);
        assert!(records[0].arguments.len() < MAX_AUDITED_ARGUMENTS + 64);
        assert!(
            records[0].arguments.ends_with("more bytes not kept]"),
            "{}",
            &records[0].arguments[records[0].arguments.len() - 40..]
        );
        audit.write(&records).await;
        let path = workspace.join("audit.jsonl");
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&workspace), 0o700);
        // One that an older Hearth left readable by others is made private at the next write.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        audit.write(&records).await;
        assert_eq!(mode(&path), 0o600);
        // Past its limit, the next write starts a new file; the old one is kept beside it.
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.set_len(AUDIT_LIMIT + 1).unwrap();
        audit.write(&records).await;
        assert!(std::fs::metadata(&path).unwrap().len() < 100 * 1024);
        assert_eq!(
            std::fs::metadata(workspace.join("audit.jsonl.1"))
                .unwrap()
                .len(),
            AUDIT_LIMIT + 1
        );
        assert_eq!(mode(&workspace.join("audit.jsonl.1")), 0o600);
    }
}
