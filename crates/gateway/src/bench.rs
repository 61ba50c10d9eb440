//! The model benchmark behind `hearth bench` and the UI's Bench button: decode tokens/s and time
//! to first token of the active (or a named) model, measured on streamed answers of the real
//! backend, in isolation — a model that is not resident is refused, and another one resident at
//! the same time is reported (the numbers then are lower than they would be alone). Each run is
//! appended to `<data dir>/bench/history.jsonl`.
//!
//! The benchmark holds a request guard of the residency gate for its whole run, so no model
//! switch happens in the middle of it.

use std::time::Instant;

use futures_util::StreamExt as _;
use hearth_protocol::openai::chat::{ChatCompletionRequest, ChatMessage, Role, StreamOptions};
use serde::{Deserialize, Serialize};

use crate::{error::GatewayError, residency, state::Gateway};

const PROMPT: &str =
    "Write a short story about a lighthouse keeper who finds a message in a bottle.";

/// One benchmark, as the history keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub model: String,
    pub runs: u32,
    pub max_tokens: u32,
    /// Medians over the runs.
    pub ttft_ms: f64,
    pub decode_tokens_per_second: f64,
    pub tokens: u64,
    /// Another model was resident while it ran: the numbers are not clean.
    pub contended: bool,
    /// The models resident beside it, when any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beside: Vec<String>,
    pub hearth: String,
}

/// One measured answer.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    pub ttft_ms: f64,
    pub tokens_per_second: f64,
    pub tokens: u64,
}

/// What a benchmark asks for.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Bench {
    /// `provider/model-id` or an alias; the active model when absent.
    pub model: Option<String>,
    /// Measured answers (1 to 20; 3 by default), after one untimed warm-up.
    pub runs: Option<u32>,
    /// Tokens per answer (2 to 4096; 64 by default).
    pub max_tokens: Option<u32>,
}

/// What it found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub record: Record,
    pub samples: Vec<Sample>,
}

/// Runs the benchmark and keeps it in the history.
pub async fn run(gateway: &Gateway, bench: Bench) -> Result<Outcome, GatewayError> {
    let runs = bench.runs.unwrap_or(3);
    let max_tokens = bench.max_tokens.unwrap_or(64);
    if !(1..=20).contains(&runs) || !(2..=4096).contains(&max_tokens) {
        return Err(GatewayError::BadRequest {
            message: "runs must be 1 to 20 and maxTokens 2 to 4096".to_owned(),
            code: "invalid_request",
        });
    }
    let _no_switch_meanwhile = gateway.residency().enter().await;
    let runtime = gateway.runtime();
    let target = match &bench.model {
        Some(name) => crate::pipeline::resolve_named_model(&runtime.config, name)?,
        None => runtime
            .config
            .primary
            .clone()
            .ok_or_else(|| GatewayError::BadRequest {
                message: "no model named and no primary model set".to_owned(),
                code: "invalid_request",
            })?,
    };
    let name = target.to_string();
    let resident: Vec<String> = residency::resident(gateway)
        .await
        .into_iter()
        .map(|model| model.model)
        .collect();
    if !resident.contains(&name) {
        return Err(GatewayError::NotResident {
            message: format!(
                "{name} is not resident; activate it first with `hearth model use {name}` (resident now: {})",
                if resident.is_empty() {
                    "none".to_owned()
                } else {
                    resident.join(", ")
                }
            ),
        });
    }
    let beside: Vec<String> = resident
        .into_iter()
        .filter(|model| *model != name)
        .collect();
    let backend = runtime
        .backends
        .get(&target.provider)
        .cloned()
        .ok_or_else(|| GatewayError::ModelNotFound {
            message: format!("provider `{}` cannot be served", target.provider),
        })?;
    let params = runtime
        .config
        .params
        .get(&target)
        .cloned()
        .unwrap_or_default();
    let request = |tokens: u32| ChatCompletionRequest {
        model: target.model.clone(),
        messages: vec![ChatMessage::text(Role::User, PROMPT)],
        max_tokens: Some(tokens),
        temperature: Some(0.0),
        stream: Some(true),
        stream_options: Some(StreamOptions {
            include_usage: Some(true),
            ..StreamOptions::default()
        }),
        ..ChatCompletionRequest::default()
    };
    let first_token = runtime.config.gateway.timeouts.first_token;
    let measure = |tokens: u32| {
        let backend = backend.clone();
        let params = params.clone();
        let request = request(tokens);
        async move {
            let started = Instant::now();
            let mut stream =
                tokio::time::timeout(first_token, backend.chat_stream(request, &params))
                    .await
                    .map_err(|_| GatewayError::NotResident {
                        message: format!("the model gave no answer within {first_token:?}"),
                    })??;
            let (mut first, mut last, mut chunks, mut usage) = (None, None, 0_u64, None);
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                let text = chunk
                    .choices
                    .first()
                    .and_then(|choice| choice.delta.content.as_deref())
                    .unwrap_or("");
                if !text.is_empty() {
                    let now = Instant::now();
                    first.get_or_insert(now);
                    last = Some(now);
                    chunks += 1;
                }
                if let Some(found) = &chunk.usage {
                    usage = Some(found.completion_tokens);
                }
            }
            let first = first.ok_or_else(|| GatewayError::ServiceFailed {
                message: "the model answered no text".to_owned(),
            })?;
            let tokens = usage.unwrap_or(chunks).max(1);
            let decode_time = last.unwrap_or(first).duration_since(first).as_secs_f64();
            #[expect(clippy::cast_precision_loss, reason = "token counts are small")]
            let rate = if tokens > 1 && decode_time > 0.0 {
                (tokens - 1) as f64 / decode_time
            } else {
                0.0
            };
            Ok::<Sample, GatewayError>(Sample {
                ttft_ms: first.duration_since(started).as_secs_f64() * 1000.0,
                tokens_per_second: rate,
                tokens,
            })
        }
    };
    // Untimed: the model is warm before anything is measured.
    measure(2).await?;
    let mut samples = Vec::new();
    for _ in 0..runs {
        samples.push(measure(max_tokens).await?);
    }
    let record = Record {
        at: crate::activity::now_ms() / 1000,
        model: name,
        runs,
        max_tokens,
        ttft_ms: median(samples.iter().map(|sample| sample.ttft_ms).collect()),
        decode_tokens_per_second: median(samples.iter().map(|s| s.tokens_per_second).collect()),
        tokens: samples
            .iter()
            .map(|sample| sample.tokens)
            .max()
            .unwrap_or(0),
        contended: !beside.is_empty(),
        beside,
        hearth: env!("CARGO_PKG_VERSION").to_owned(),
    };
    if let Some(paths) = gateway.paths() {
        let dir = paths.data_dir.join("bench");
        let mut line = serde_json::to_string(&record).unwrap_or_default();
        line.push('\n');
        let written = async {
            tokio::fs::create_dir_all(&dir).await?;
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("history.jsonl"))
                .await?;
            tokio::io::AsyncWriteExt::write_all(&mut file, line.as_bytes()).await?;
            tokio::io::AsyncWriteExt::flush(&mut file).await
        }
        .await;
        if let Err(error) = written {
            tracing::warn!(%error, "the benchmark could not be kept in the history");
        }
    }
    Ok(Outcome { record, samples })
}

/// The history, oldest first (lines that do not read as a record are skipped).
pub async fn history(gateway: &Gateway) -> Vec<Record> {
    let Some(paths) = gateway.paths() else {
        return Vec::new();
    };
    tokio::fs::read_to_string(paths.data_dir.join("bench").join("history.jsonl"))
        .await
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(super::median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(super::median(Vec::new()), 0.0);
    }
}
