//! Prometheus metrics of model requests, served on `GET /metrics` in the OpenMetrics text format.
//! One `Metrics` lives as long as the process (the `Gateway` owns it), so counters survive
//! configuration reloads.
//!
//! | metric | labels | observed |
//! | --- | --- | --- |
//! | `hearth_requests_total` | agent, model, provider, api, outcome | once per model request the pipeline saw: refused in `prepare`, or when its answer ended |
//! | `hearth_errors_total` | provider, kind | every refusal or failure, `kind` = the error's code (`model_not_found`, `tool_denied`…) or the backend failure (`connect`, `status`, `timeout`, `mid_stream`…) |
//! | `hearth_time_to_first_token_seconds` | provider, model | streamed: backend call start → first chunk carrying content, reasoning or a tool call; non-streamed: wall time minus the backend's reported decode time (`timings.predicted_ms`), skipped when the backend reports none — the whole answer time is not a first token |
//! | `hearth_decode_tokens_per_second` | provider, model | the backend's own figure (`timings.predicted_per_second`, or `predicted_n / predicted_ms`; llama-server, and Ollama through its converted metrics) when present; else, streamed only, `completion_tokens − 1` of the usage chunk over first → last token |
//! | `hearth_in_flight_requests` | provider | from the backend call's start until its answer or stream ends (a guard: a client that goes away mid-stream still decrements) |
//! | `hearth_fallbacks_total` | reason | registered now, counted by the fallback feature with its reason codes |
//! | `hearth_tool_calls_blocked_total` | agent | calls to denied tools removed from answers (streamed: as they arrive) |
//! | `hearth_tools_removed_total` | agent | denied tools stripped from requests' tool lists |
//!
//! Cardinality stays bounded: every label value is a config id or a fixed word. `agent`,
//! `provider` and `model` come from the configuration, never from what a client wrote; a model
//! the configuration does not name (a provider listing no models serves whatever its backend
//! has) and anything not known yet when a request is refused read `unknown`. `outcome` is `ok`,
//! `client_error`, `backend_error`, `timeout` or `cancelled` (the client went away first).
//! Requests refused before the pipeline (a wrong token, an unparsable body) are not counted.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use hearth_core::config::{Config, ModelRef};
use hearth_protocol::openai::chat::{ChatCompletionChunk, ChatCompletionResponse, Timings};
use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, text::encode},
    metrics::{MetricType, counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry, Unit},
};

use crate::{error::GatewayError, providers::BackendError};

/// What `GET /metrics` answers with: what `prometheus_client::encoding::text` writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A label value not known (yet), or not one the configuration names.
pub const UNKNOWN: &str = "unknown";

/// Time to first token, seconds: cold loads of large local models take minutes.
const TTFT_BUCKETS: [f64; 13] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
];
/// Decode speed, tokens per second: from a CPU-bound large model to a small one on a GPU.
const DECODE_BUCKETS: [f64; 14] = [
    1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0, 200.0, 400.0, 1000.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    agent: String,
    model: String,
    provider: String,
    api: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    provider: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    provider: String,
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AgentLabels {
    agent: String,
}

type HistogramFamily = Family<ModelLabels, Histogram, fn() -> Histogram>;

/// A family that shows its `# HELP` and `# TYPE` before its first sample, so every metric is
/// there from the start (a scraper and a dashboard see it exists; OpenMetrics allows a family
/// without samples). prometheus-client leaves empty families out.
#[derive(Debug)]
struct Declared<M>(M);

impl<M: EncodeMetric> EncodeMetric for Declared<M> {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }

    fn is_empty(&self) -> bool {
        false
    }
}

/// The process's metrics and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    time_to_first_token: HistogramFamily,
    decode_rate: HistogramFamily,
    in_flight: Family<ProviderLabels, Gauge>,
    fallbacks: Family<ReasonLabels, Counter>,
    tool_calls_blocked: Family<AgentLabels, Counter>,
    tools_removed: Family<AgentLabels, Counter>,
    /// The last requests and blocked calls, for the dashboard.
    pub activity: std::sync::Arc<crate::activity::Activity>,
    /// Model requests the backends are working on now, all providers together.
    in_flight_now: std::sync::atomic::AtomicI64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("hearth");
        let requests = Family::default();
        registry.register(
            "requests",
            "Model requests by agent, model, provider, client API and outcome",
            Declared(Family::clone(&requests)),
        );
        let errors = Family::default();
        registry.register(
            "errors",
            "Refused and failed model requests by provider and kind",
            Declared(Family::clone(&errors)),
        );
        let time_to_first_token: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(TTFT_BUCKETS));
        registry.register_with_unit(
            "time_to_first_token",
            "Time from the backend call to the first generated token",
            Unit::Seconds,
            Declared(Family::clone(&time_to_first_token)),
        );
        let decode_rate: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(DECODE_BUCKETS));
        registry.register(
            "decode_tokens_per_second",
            "Generated tokens per second, prompt processing excluded",
            Declared(Family::clone(&decode_rate)),
        );
        let in_flight = Family::default();
        registry.register(
            "in_flight_requests",
            "Model requests waiting on their backend now",
            Declared(Family::clone(&in_flight)),
        );
        let fallbacks = Family::default();
        registry.register(
            "fallbacks",
            "Requests sent to a fallback model, by reason code",
            Declared(Family::clone(&fallbacks)),
        );
        let tool_calls_blocked = Family::default();
        registry.register(
            "tool_calls_blocked",
            "Calls to denied tools removed from answers",
            Declared(Family::clone(&tool_calls_blocked)),
        );
        let tools_removed = Family::default();
        registry.register(
            "tools_removed",
            "Denied tools removed from requests",
            Declared(Family::clone(&tools_removed)),
        );
        Metrics {
            registry,
            requests,
            errors,
            time_to_first_token,
            decode_rate,
            in_flight,
            fallbacks,
            tool_calls_blocked,
            tools_removed,
            activity: std::sync::Arc::default(),
            in_flight_now: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// Model requests in flight now.
    pub fn in_flight_total(&self) -> i64 {
        self.in_flight_now
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Everything, in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Counts a fallback; `reason` is one of the fallback feature's fixed reason codes.
    #[expect(
        dead_code,
        reason = "registered now; the fallback feature counts with it"
    )]
    pub fn fallback(&self, reason: &'static str) {
        self.fallbacks.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn tools_removed(&self, agent: &str, count: usize) {
        if count > 0 {
            self.tools_removed
                .get_or_create(&AgentLabels {
                    agent: agent.to_owned(),
                })
                .inc_by(count as u64);
        }
    }

    /// Counts a request the pipeline refused before it reached a backend.
    pub fn refused(&self, labels: &Labels, error: &GatewayError) {
        self.count(labels, outcome(error), Some(error_kind(error)));
    }

    fn count(&self, labels: &Labels, outcome: Outcome, kind: Option<&'static str>) {
        self.requests
            .get_or_create(&RequestLabels {
                agent: labels.agent.clone(),
                model: labels.model.clone(),
                provider: labels.provider.clone(),
                api: labels.api,
                outcome: outcome.as_str(),
            })
            .inc();
        if let Some(kind) = kind {
            self.errors
                .get_or_create(&ErrorLabels {
                    provider: labels.provider.clone(),
                    kind,
                })
                .inc();
        }
    }

    fn model_labels(labels: &Labels) -> ModelLabels {
        ModelLabels {
            provider: labels.provider.clone(),
            model: labels.model.clone(),
        }
    }
}

/// How a model request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    ClientError,
    BackendError,
    Timeout,
    /// The client went away before the answer ended.
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ClientError => "client_error",
            Outcome::BackendError => "backend_error",
            Outcome::Timeout => "timeout",
            Outcome::Cancelled => "cancelled",
        }
    }
}

fn outcome(error: &GatewayError) -> Outcome {
    match error {
        GatewayError::Backend(BackendError::Timeout { .. }) => Outcome::Timeout,
        // What the caller can fix, the backend's own 4xx included (the status says so).
        error if error.status().is_client_error() => Outcome::ClientError,
        _ => Outcome::BackendError,
    }
}

/// The error's code (`model_not_found`, `tool_denied`…), or what the backend did.
fn error_kind(error: &GatewayError) -> &'static str {
    match error {
        GatewayError::Backend(backend) => backend_kind(backend),
        other => other.code(),
    }
}

fn backend_kind(error: &BackendError) -> &'static str {
    match error {
        BackendError::Connect { .. } => "connect",
        BackendError::Status { .. } => "status",
        BackendError::Garbage { .. } => "garbage",
        BackendError::Truncated { .. } => "truncated",
        BackendError::MidStream { .. } => "mid_stream",
        BackendError::Timeout { .. } => "timeout",
        BackendError::Translate { .. } => "translate",
        BackendError::Unsupported { .. } => "unsupported",
        BackendError::TooLarge { .. } => "too_large",
    }
}

/// What a request's metrics are labelled with, filled in as the pipeline learns it from the
/// configuration; [`UNKNOWN`] until then.
#[derive(Debug, Clone)]
pub struct Labels {
    pub agent: String,
    /// `provider/model-id`.
    pub model: String,
    pub provider: String,
    /// The client API: `openai-completions`, `ollama-chat`, `ollama-generate`…
    pub api: &'static str,
}

impl Labels {
    pub fn unknown(api: &'static str) -> Labels {
        Labels {
            agent: UNKNOWN.to_owned(),
            model: UNKNOWN.to_owned(),
            provider: UNKNOWN.to_owned(),
            api,
        }
    }

    /// The model label for `target`: itself when the configuration names it (a provider's
    /// model list, an alias, the primary, a fallback, an agent's model, per-model parameters),
    /// [`UNKNOWN`] when only the client did.
    pub fn set_model(&mut self, config: &Config, target: &ModelRef) {
        let named = config
            .providers
            .get(&target.provider)
            .is_some_and(|provider| provider.model(&target.model).is_some())
            || config.primary.as_ref() == Some(target)
            || config.fallbacks.contains(target)
            || config.aliases.values().any(|alias| alias == target)
            || config
                .agents
                .iter()
                .any(|agent| agent.model.as_ref() == Some(target))
            || config.params.contains_key(target);
        self.model = if named {
            target.to_string()
        } else {
            UNKNOWN.to_owned()
        };
    }
}

/// One model request from `prepare` to the end of its answer. Counted exactly once: by
/// `finish`, or as `cancelled` when dropped unfinished (the client went away). While the
/// backend works on it, it counts in flight; dropping it ends that too.
#[derive(Debug)]
pub struct Observation {
    metrics: Arc<Metrics>,
    labels: Labels,
    /// When the backend call started; `None` before.
    started: Option<Instant>,
    first_token: Option<Instant>,
    last_token: Option<Instant>,
    completion_tokens: Option<u64>,
    timings: Option<Timings>,
    finished: bool,
}

impl Observation {
    pub fn new(metrics: Arc<Metrics>, labels: Labels) -> Observation {
        Observation {
            metrics,
            labels,
            started: None,
            first_token: None,
            last_token: None,
            completion_tokens: None,
            timings: None,
            finished: false,
        }
    }

    /// The backend call starts: in flight from now on.
    pub fn start(&mut self) {
        if self.started.is_none() {
            self.started = Some(Instant::now());
            self.in_flight().inc();
            self.metrics
                .in_flight_now
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn in_flight(&self) -> impl std::ops::Deref<Target = Gauge> + '_ {
        self.metrics.in_flight.get_or_create(&ProviderLabels {
            provider: self.labels.provider.clone(),
        })
    }

    /// Notes a streamed chunk as it came from the backend (before the policy filter: a blocked
    /// call is still a generated token).
    pub fn chunk(&mut self, chunk: &ChatCompletionChunk) {
        let generated = chunk.choices.iter().any(|choice| {
            let delta = &choice.delta;
            delta
                .content
                .as_deref()
                .is_some_and(|text| !text.is_empty())
                || delta
                    .reasoning_content
                    .as_deref()
                    .is_some_and(|text| !text.is_empty())
                || !delta.tool_calls.is_empty()
        });
        if generated {
            let now = Instant::now();
            self.first_token.get_or_insert(now);
            self.last_token = Some(now);
        }
        if let Some(usage) = &chunk.usage {
            self.completion_tokens = Some(usage.completion_tokens);
        }
        if let Some(timings) = chunk.timings() {
            self.timings = Some(timings);
        }
    }

    /// Calls to denied tools were removed from the answer.
    pub fn tool_calls_blocked(&self, count: usize) {
        if count > 0 {
            self.metrics
                .tool_calls_blocked
                .get_or_create(&AgentLabels {
                    agent: self.labels.agent.clone(),
                })
                .inc_by(count as u64);
        }
    }

    /// A whole answer came back.
    pub fn answered(&mut self, answer: &ChatCompletionResponse) {
        self.timings = answer.timings();
        let elapsed = self.started.map(|started| started.elapsed());
        if let Some(ttft) =
            elapsed.and_then(|elapsed| whole_answer_ttft(elapsed, self.timings.as_ref()))
        {
            self.observe_ttft(ttft);
        }
        let rate = self.timings.as_ref().and_then(reported_rate);
        if let Some(rate) = rate {
            self.observe_rate(rate);
        }
        let ttft = elapsed.and_then(|elapsed| whole_answer_ttft(elapsed, self.timings.as_ref()));
        self.sample(ttft, rate);
        self.finish(Outcome::Ok, None);
    }

    fn sample(&self, ttft: Option<Duration>, rate: Option<f64>) {
        self.metrics.activity.request(crate::activity::Sample {
            at: crate::activity::now_ms(),
            model: self.labels.model.clone(),
            ttft_ms: ttft.map(|ttft| ttft.as_secs_f64() * 1000.0),
            tokens_per_second: rate,
        });
    }

    /// The stream ended as it should.
    pub fn streamed(&mut self) {
        let ttft = match (self.started, self.first_token) {
            (Some(started), Some(first)) => Some(first.duration_since(started)),
            _ => None,
        };
        if let Some(ttft) = ttft {
            self.observe_ttft(ttft);
        }
        let rate = self.timings.as_ref().and_then(reported_rate).or_else(|| {
            measured_rate(
                self.completion_tokens?,
                self.last_token?.duration_since(self.first_token?),
            )
        });
        if let Some(rate) = rate {
            self.observe_rate(rate);
        }
        self.sample(ttft, rate);
        self.finish(Outcome::Ok, None);
    }

    /// The backend failed, before the answer or during it; gives the error back.
    pub fn failed_with(&mut self, error: impl Into<GatewayError>) -> GatewayError {
        let error = error.into();
        self.finish(outcome(&error), Some(error_kind(&error)));
        error
    }

    fn observe_ttft(&self, ttft: Duration) {
        self.metrics
            .time_to_first_token
            .get_or_create(&Metrics::model_labels(&self.labels))
            .observe(ttft.as_secs_f64());
    }

    fn observe_rate(&self, rate: f64) {
        self.metrics
            .decode_rate
            .get_or_create(&Metrics::model_labels(&self.labels))
            .observe(rate);
    }

    fn finish(&mut self, outcome: Outcome, kind: Option<&'static str>) {
        if self.finished {
            return;
        }
        self.finished = true;
        if self.started.is_some() {
            self.in_flight().dec();
            self.metrics
                .in_flight_now
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.metrics.count(&self.labels, outcome, kind);
    }
}

impl Drop for Observation {
    fn drop(&mut self) {
        self.finish(Outcome::Cancelled, None);
    }
}

/// A non-streamed answer's time to first token: the wall time less the backend's reported
/// decode time, i.e. queueing, model load, prompt processing and the network. None when the
/// backend reports no decode time.
fn whole_answer_ttft(elapsed: Duration, timings: Option<&Timings>) -> Option<Duration> {
    let decode_ms = timings?.predicted_ms?;
    let decode = Duration::try_from_secs_f64(decode_ms / 1000.0).ok()?;
    Some(elapsed.saturating_sub(decode))
}

/// The backend's own tokens per second: `predicted_per_second`, else `predicted_n` over
/// `predicted_ms`.
fn reported_rate(timings: &Timings) -> Option<f64> {
    let rate = timings.predicted_per_second.or_else(|| {
        let tokens = timings.predicted_n? as f64;
        let millis = timings.predicted_ms?;
        (millis > 0.0).then(|| tokens * 1000.0 / millis)
    })?;
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

/// Tokens per second seen by the gateway: `tokens` generated between the first token and the
/// last, `tokens − 1` of them after the first.
fn measured_rate(tokens: u64, first_to_last: Duration) -> Option<f64> {
    let seconds = first_to_last.as_secs_f64();
    (tokens > 1 && seconds > 0.0).then(|| (tokens - 1) as f64 / seconds)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use hearth_protocol::from_json;

    use super::*;

    fn labels() -> Labels {
        Labels {
            agent: "main".to_owned(),
            model: "llama/smollm2".to_owned(),
            provider: "llama".to_owned(),
            api: "openai-completions",
        }
    }

    /// The sample lines of `metrics` whose name starts with `prefix`.
    /// The sample lines of the families starting with `prefix`, sorted: prometheus-client
    /// writes a family's label sets in hash order.
    fn samples(metrics: &Metrics, prefix: &str) -> String {
        let text = metrics.encode().unwrap_or_default();
        let mut lines: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with(prefix))
            .collect();
        lines.sort_unstable();
        lines.join("\n")
    }

    #[test]
    fn rates_prefer_the_backends_own_figures() {
        let timings = |json: &str| from_json::<Timings>(json.as_bytes()).ok();
        let cases = [
            reported_rate(
                &timings(r#"{"predicted_n":20,"predicted_per_second":61.5}"#).unwrap_or_default(),
            ),
            reported_rate(
                &timings(r#"{"predicted_n":20,"predicted_ms":400.0}"#).unwrap_or_default(),
            ),
            reported_rate(&timings(r#"{"predicted_n":5,"predicted_ms":0.0}"#).unwrap_or_default()),
            measured_rate(11, Duration::from_millis(500)),
            measured_rate(1, Duration::from_millis(500)),
            measured_rate(11, Duration::ZERO),
        ];
        expect![[r#"
            [
                Some(
                    61.5,
                ),
                Some(
                    50.0,
                ),
                None,
                Some(
                    20.0,
                ),
                None,
                None,
            ]
        "#]]
        .assert_debug_eq(&cases);
        let decode = Timings {
            predicted_ms: Some(1500.0),
            ..Timings::default()
        };
        assert_eq!(
            whole_answer_ttft(Duration::from_millis(2000), Some(&decode)),
            Some(Duration::from_millis(500))
        );
        assert_eq!(whole_answer_ttft(Duration::from_millis(2000), None), None);
    }

    #[test]
    fn an_observation_counts_once_and_leaves_flight_when_dropped() {
        let metrics = Arc::new(Metrics::new());
        let mut finished = Observation::new(Arc::clone(&metrics), labels());
        finished.start();
        assert_eq!(
            samples(&metrics, "hearth_in_flight"),
            r#"hearth_in_flight_requests{provider="llama"} 1"#
        );
        finished.failed_with(BackendError::Timeout {
            provider: "llama".to_owned(),
            phase: "first token",
            after: Duration::from_secs(1),
        });
        drop(finished);
        // A client that goes away mid-stream drops the stream, and with it the observation.
        let mut abandoned = Observation::new(Arc::clone(&metrics), labels());
        abandoned.start();
        drop(abandoned);
        expect![[r#"
            hearth_requests_total{agent="main",model="llama/smollm2",provider="llama",api="openai-completions",outcome="cancelled"} 1
            hearth_requests_total{agent="main",model="llama/smollm2",provider="llama",api="openai-completions",outcome="timeout"} 1
            hearth_errors_total{provider="llama",kind="timeout"} 1
            hearth_in_flight_requests{provider="llama"} 0"#]]
        .assert_eq(&[
            samples(&metrics, "hearth_requests"),
            samples(&metrics, "hearth_errors"),
            samples(&metrics, "hearth_in_flight"),
        ]
        .join("\n"));
    }

    #[test]
    fn a_stream_without_timings_is_measured_by_the_gateway() {
        let metrics = Arc::new(Metrics::new());
        let mut observation = Observation::new(Arc::clone(&metrics), labels());
        observation.start();
        let chunk =
            |json: &str| from_json::<ChatCompletionChunk>(json.as_bytes()).unwrap_or_default();
        observation.chunk(&chunk(
            r#"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
        ));
        assert!(
            observation.first_token.is_none(),
            "a role alone is no token"
        );
        observation.chunk(&chunk(
            r#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#,
        ));
        std::thread::sleep(Duration::from_millis(20));
        observation.chunk(&chunk(
            r#"{"choices":[{"index":0,"delta":{"content":" there"}}]}"#,
        ));
        observation.chunk(&chunk(
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#,
        ));
        observation.streamed();
        let text = samples(&metrics, "hearth_decode_tokens_per_second_count")
            + "\n"
            + &samples(&metrics, "hearth_time_to_first_token_seconds_count");
        expect![[r#"
            hearth_decode_tokens_per_second_count{provider="llama",model="llama/smollm2"} 1
            hearth_time_to_first_token_seconds_count{provider="llama",model="llama/smollm2"} 1"#]]
        .assert_eq(&text);
    }
}
