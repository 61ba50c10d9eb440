//! `hearth bench [model]`: decode tokens/s and time to first token of a model, measured through
//! the running gateway (what a client gets) in isolation: it refuses a model that is not
//! resident and warns loudly when another model is resident too. Every run is appended to
//! `<data dir>/bench/history.jsonl`, and the history is printed as a table.

use std::{
    io::Write as _,
    time::{Duration, Instant},
};

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

use super::admin::{self, Admin};

const PROMPT: &str =
    "Write a short story about a lighthouse keeper who finds a message in a bottle.";

/// One benchmark, as kept in the history.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    pub hearth: String,
}

pub fn run(
    context: &Context,
    model: Option<String>,
    runs: u32,
    max_tokens: u32,
    json_out: bool,
) -> CliResult {
    if runs == 0 {
        return Err(CliError::invalid("--runs must be at least 1"));
    }
    let validated = super::load(context)?;
    let config = &validated.config;
    let target = match &model {
        Some(name) => config
            .resolve_model(name)
            .map(|reference| reference.to_string())
            .map_err(|error| CliError::invalid(format!("unknown model: {error}")))?,
        None => config
            .primary
            .as_ref()
            .map(ToString::to_string)
            .ok_or_else(|| CliError::invalid("no model named and no primary model set"))?,
    };
    let admin = Admin::new(context, config)?;
    let runtime = admin::runtime()?;
    let models = runtime.block_on(admin.json(reqwest::Method::GET, "/admin/models", None))?;
    let resident: Vec<String> = models["resident"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|model| model["model"].as_str().map(str::to_owned))
        .collect();
    if !resident.contains(&target) {
        return Err(CliError::invalid(format!(
            "{target} is not resident; activate it first with `hearth model use {target}` (resident now: {})",
            if resident.is_empty() {
                "none".to_owned()
            } else {
                resident.join(", ")
            }
        )));
    }
    let others: Vec<&String> = resident.iter().filter(|model| **model != target).collect();
    let contended = !others.is_empty();
    if contended {
        output::note(format!(
            "WARNING: {} resident too: the numbers will be lower than in isolation (`hearth model use {target}` unloads the others)",
            others
                .iter()
                .map(|model| model.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    output::note(format!(
        "benchmarking {target}: {runs} runs of up to {max_tokens} tokens, streamed through Hearth"
    ));
    let measured = runtime.block_on(async {
        // One token first: the model is warm before anything is timed.
        measure(&admin, &target, 1).await?;
        let mut samples = Vec::new();
        for run in 1..=runs {
            let sample = measure(&admin, &target, max_tokens).await?;
            output::note(format!(
                "  run {run}: time to first token {:.0} ms, {:.1} tokens/s over {} tokens",
                sample.ttft_ms, sample.decode, sample.tokens
            ));
            samples.push(sample);
        }
        Ok::<_, CliError>(samples)
    })?;
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let record = Record {
        at,
        model: target.clone(),
        runs,
        max_tokens,
        ttft_ms: median(measured.iter().map(|sample| sample.ttft_ms).collect()),
        decode_tokens_per_second: median(measured.iter().map(|sample| sample.decode).collect()),
        tokens: measured
            .iter()
            .map(|sample| sample.tokens)
            .max()
            .unwrap_or(0),
        contended,
        hearth: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let history = append(context, &record)?;
    if json_out {
        output::json(&json!({ "result": record, "history": history }));
        return Ok(());
    }
    output::line(format!(
        "{target}: {:.1} tokens/s decode, {:.0} ms to first token (median of {runs})",
        record.decode_tokens_per_second, record.ttft_ms
    ));
    output::line("");
    output::line(format!(
        "{:<20} {:<36} {:>10} {:>9} {:>6}  NOTE",
        "WHEN (UTC)", "MODEL", "TOKENS/S", "TTFT ms", "RUNS"
    ));
    for past in history.iter().rev().take(15).rev() {
        output::line(format!(
            "{:<20} {:<36} {:>10.1} {:>9.0} {:>6}  {}",
            utc(past.at),
            past.model,
            past.decode_tokens_per_second,
            past.ttft_ms,
            past.runs,
            if past.contended {
                "another model was resident"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

struct Sample {
    ttft_ms: f64,
    decode: f64,
    tokens: u64,
}

/// One streamed request: time to the first content, tokens after it over the time they took.
async fn measure(admin: &Admin, model: &str, max_tokens: u32) -> Result<Sample, CliError> {
    let body = json!({
        "model": model,
        "messages": [{ "role": "user", "content": PROMPT }],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": true,
        "stream_options": { "include_usage": true }
    });
    let started = Instant::now();
    let response = admin
        .send(
            reqwest::Method::POST,
            "/v1/chat/completions",
            Some(&body),
            Duration::from_secs(600),
        )
        .await?;
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();
    let (mut first, mut last) = (None, None);
    let (mut chunks, mut usage_tokens) = (0_u64, None);
    while let Some(bytes) = stream.next().await {
        let bytes =
            bytes.map_err(|error| CliError::environment(format!("the stream broke: {error}")))?;
        buffer.extend_from_slice(&bytes);
        while let Some(end) = buffer.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim().strip_prefix("data: ") else {
                continue;
            };
            let Ok(chunk) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            if let Some(message) = chunk["error"]["message"].as_str() {
                return Err(CliError::environment(format!(
                    "the model failed: {message}"
                )));
            }
            let content = chunk["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or("");
            if !content.is_empty() {
                let now = Instant::now();
                first.get_or_insert(now);
                last = Some(now);
                chunks += 1;
            }
            if let Some(tokens) = chunk["usage"]["completion_tokens"].as_u64() {
                usage_tokens = Some(tokens);
            }
        }
    }
    let Some(first) = first else {
        return Err(CliError::environment("the model answered no text"));
    };
    let tokens = usage_tokens.unwrap_or(chunks).max(1);
    let decode_time = last.unwrap_or(first).duration_since(first).as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "token counts are small")]
    let decode = if tokens > 1 && decode_time > 0.0 {
        (tokens - 1) as f64 / decode_time
    } else {
        0.0
    };
    Ok(Sample {
        ttft_ms: first.duration_since(started).as_secs_f64() * 1000.0,
        decode,
        tokens,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Appends the record and returns the whole history (unreadable lines are skipped).
fn append(context: &Context, record: &Record) -> Result<Vec<Record>, CliError> {
    let dir = context.paths.data_dir.join("bench");
    std::fs::create_dir_all(&dir).map_err(|error| {
        CliError::environment(format!("cannot create {}: {error}", dir.display()))
    })?;
    let file = dir.join("history.jsonl");
    let mut line = serde_json::to_string(record).map_err(CliError::environment)?;
    line.push('\n');
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .and_then(|mut handle| handle.write_all(line.as_bytes()))
        .map_err(|error| {
            CliError::environment(format!("cannot write {}: {error}", file.display()))
        })?;
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

/// `2026-12-02 01:40:00` from Unix seconds (civil-from-days, proleptic Gregorian).
fn utc(at: u64) -> String {
    let days = i64::try_from(at / 86_400).unwrap_or(0);
    let seconds = at % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates_are_civil() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc(1_796_172_539), "2026-12-02 00:48:59");
        assert_eq!(super::median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
