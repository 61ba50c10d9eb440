//! The agent's tool policy at the LLM boundary. Before a request leaves: denied tools are taken
//! out of its tool list, and a `tool_choice` naming one is refused. When the answer comes back:
//! a call to a denied tool is removed before the client sees it — in a stream too, call by call
//! as the deltas arrive, without holding back the text around it. Every tool call, allowed or
//! blocked, is appended to the agent's audit log (JSON lines, `<workspace>/audit.jsonl`).

use std::{collections::BTreeMap, path::PathBuf};

use hearth_core::policy::{Decision, ToolPolicy};
use hearth_protocol::openai::chat::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, FinishReason, ToolChoice,
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
            arguments: arguments.to_owned(),
        }
    }

    /// Appends records to the audit log. A failure to write is logged, never hidden: the
    /// request itself has already been decided.
    pub async fn write(&self, records: &[AuditRecord]) {
        if records.is_empty() {
            return;
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
            tokio::fs::create_dir_all(&self.workspace).await?;
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .await?;
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
            let allowed = policy.decide(name).is_allowed();
            if !allowed {
                removed.push(name.to_owned());
            }
            allowed
        });
    }
    request.tools.retain(|tool| match &tool.function {
        Some(function) if !policy.decide(&function.name).is_allowed() => {
            removed.push(function.name.clone());
            false
        }
        _ => true,
    });
    if request.tools.is_empty() && !removed.is_empty() {
        // `required` with nothing left to call would make the backend fail.
        request.tool_choice = None;
    }
    Ok(removed)
}

/// Removes calls to denied tools from a whole response; returns the audit records of every call.
pub fn response(
    policy: &ToolPolicy,
    audit: &AuditContext,
    response: &mut ChatCompletionResponse,
) -> Vec<AuditRecord> {
    let mut records = Vec::new();
    for choice in &mut response.choices {
        let before = choice.message.tool_calls.len();
        choice.message.tool_calls.retain(|call| {
            let decision = policy.decide(&call.function.name);
            records.push(audit.record(&decision, &call.function.arguments));
            decision.is_allowed()
        });
        if before > 0 && choice.message.tool_calls.is_empty() {
            choice.finish_reason = Some(FinishReason::Stop);
        }
    }
    records
}

/// What the stream filter knows about one tool call of a streamed answer.
#[derive(Debug)]
struct StreamedCall {
    /// The index the client sees, when the call is allowed.
    client_index: Option<u32>,
    name: String,
    arguments: String,
}

/// Filters a streamed answer chunk by chunk. A call is decided as soon as its name arrives (the
/// first delta of a call carries it); a denied call's deltas are dropped, allowed calls are
/// renumbered so the client sees contiguous indexes.
#[derive(Debug, Default)]
pub struct StreamFilter {
    calls: BTreeMap<(u32, u32), StreamedCall>,
    next_index: BTreeMap<u32, u32>,
    allowed_any: BTreeMap<u32, bool>,
}

impl StreamFilter {
    /// Filters one chunk in place.
    pub fn filter(&mut self, policy: &ToolPolicy, chunk: &mut ChatCompletionChunk) {
        for choice in &mut chunk.choices {
            let choice_index = choice.index;
            let mut kept = Vec::new();
            for mut delta in std::mem::take(&mut choice.delta.tool_calls) {
                let key = (choice_index, delta.index);
                let name = delta.function.as_ref().and_then(|f| f.name.clone());
                let call = self.calls.entry(key).or_insert_with(|| {
                    let name = name.clone().unwrap_or_default();
                    let allowed = policy.decide(&name).is_allowed();
                    let client_index = allowed.then(|| {
                        let next = self.next_index.entry(choice_index).or_insert(0);
                        *next += 1;
                        *next - 1
                    });
                    if allowed {
                        self.allowed_any.insert(choice_index, true);
                    }
                    StreamedCall {
                        client_index,
                        name,
                        arguments: String::new(),
                    }
                });
                if let Some(arguments) = delta.function.as_ref().and_then(|f| f.arguments.as_ref())
                {
                    call.arguments.push_str(arguments);
                }
                if let Some(index) = call.client_index {
                    delta.index = index;
                    kept.push(delta);
                }
            }
            choice.delta.tool_calls = kept;
            if choice.finish_reason == Some(FinishReason::ToolCalls)
                && !self
                    .allowed_any
                    .get(&choice_index)
                    .copied()
                    .unwrap_or(false)
            {
                choice.finish_reason = Some(FinishReason::Stop);
            }
        }
    }

    /// The audit records of every call seen, once the stream is over.
    pub fn records(&self, policy: &ToolPolicy, audit: &AuditContext) -> Vec<AuditRecord> {
        self.calls
            .values()
            .map(|call| audit.record(&policy.decide(&call.name), &call.arguments))
            .collect()
    }

    /// How many calls were blocked.
    pub fn blocked(&self) -> usize {
        self.calls
            .values()
            .filter(|call| call.client_index.is_none())
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
}
