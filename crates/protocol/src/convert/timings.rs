//! Usage and speed between the APIs. Ollama reports token counts and nanosecond durations;
//! OpenAI reports token counts (`usage`) and llama-server adds millisecond `timings`. Tokens per
//! second follow from either: Ollama's `eval_count / eval_duration × 10⁹`, llama-server's
//! `predicted_per_second`.

use crate::ollama::Metrics;
use crate::openai::chat::{Timings, Usage};

const NANOS_PER_MILLI: f64 = 1_000_000.0;

/// Tokens per second for `tokens` generated in `duration_ns`; none for a zero duration.
pub fn tokens_per_second(tokens: u64, duration_ns: u64) -> Option<f64> {
    (duration_ns > 0).then(|| tokens as f64 * 1e9 / duration_ns as f64)
}

/// OpenAI usage from Ollama's counts (a missing count is 0).
pub fn usage_from_metrics(metrics: &Metrics) -> Usage {
    let prompt_tokens = metrics.prompt_eval_count.unwrap_or(0);
    let completion_tokens = metrics.eval_count.unwrap_or(0);
    Usage {
        prompt_tokens,
        completion_tokens,
        total_tokens: prompt_tokens.saturating_add(completion_tokens),
        ..Usage::default()
    }
}

/// llama-server-style timings from Ollama's metrics; none when Ollama reported nothing.
pub fn timings_from_metrics(metrics: &Metrics) -> Option<Timings> {
    let prompt_ms = metrics.prompt_eval_duration.map(nanos_to_millis);
    let predicted_ms = metrics.eval_duration.map(nanos_to_millis);
    if prompt_ms.is_none() && predicted_ms.is_none() {
        return None;
    }
    Some(Timings {
        prompt_n: metrics.prompt_eval_count,
        prompt_ms,
        prompt_per_token_ms: per_token_ms(metrics.prompt_eval_count, prompt_ms),
        prompt_per_second: per_second(metrics.prompt_eval_count, metrics.prompt_eval_duration),
        predicted_n: metrics.eval_count,
        predicted_ms,
        predicted_per_token_ms: per_token_ms(metrics.eval_count, predicted_ms),
        predicted_per_second: per_second(metrics.eval_count, metrics.eval_duration),
        ..Timings::default()
    })
}

/// Ollama's metrics from OpenAI usage and, when the backend sent them, llama-server timings.
/// `total_duration` is prompt plus generation (model loading is not known); `load_duration`
/// stays empty.
pub fn metrics_from_openai(usage: Option<&Usage>, timings: Option<&Timings>) -> Metrics {
    let prompt_eval_duration = timings.and_then(|t| t.prompt_ms).and_then(millis_to_nanos);
    let eval_duration = timings
        .and_then(|t| t.predicted_ms)
        .and_then(millis_to_nanos);
    Metrics {
        total_duration: prompt_eval_duration
            .zip(eval_duration)
            .map(|(prompt, eval)| prompt.saturating_add(eval)),
        load_duration: None,
        prompt_eval_count: usage
            .map(|usage| usage.prompt_tokens)
            .or_else(|| timings.and_then(|t| t.prompt_n)),
        prompt_eval_duration,
        eval_count: usage
            .map(|usage| usage.completion_tokens)
            .or_else(|| timings.and_then(|t| t.predicted_n)),
        eval_duration,
    }
}

fn nanos_to_millis(nanos: u64) -> f64 {
    nanos as f64 / NANOS_PER_MILLI
}

/// Negative, infinite and NaN milliseconds (a broken backend) give no duration.
fn millis_to_nanos(millis: f64) -> Option<u64> {
    (millis.is_finite() && millis >= 0.0).then(|| (millis * NANOS_PER_MILLI).round() as u64)
}

fn per_token_ms(count: Option<u64>, millis: Option<f64>) -> Option<f64> {
    match (count, millis) {
        (Some(count), Some(millis)) if count > 0 => Some(millis / count as f64),
        _ => None,
    }
}

fn per_second(count: Option<u64>, nanos: Option<u64>) -> Option<f64> {
    tokens_per_second(count?, nanos?)
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::from_json;

    /// Ollama metrics JSON → usage and timings, and back to metrics.
    fn check(metrics_json: &str, expect: Expect) {
        let metrics: Metrics = from_json(metrics_json.as_bytes()).unwrap();
        let usage = usage_from_metrics(&metrics);
        let timings = timings_from_metrics(&metrics);
        let back = metrics_from_openai(Some(&usage), timings.as_ref());
        let out = format!(
            "usage: {}\ntimings: {}\nback: {}\n",
            serde_json::to_string(&usage).unwrap(),
            serde_json::to_string(&timings).unwrap(),
            serde_json::to_string(&back).unwrap(),
        );
        expect.assert_eq(&out);
    }

    #[test]
    fn ollama_metrics_to_openai_and_back() {
        // docs/api.md, "Chat Request (Streaming)", final response.
        check(
            r#"{"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
            expect![[r#"
                usage: {"prompt_tokens":26,"completion_tokens":282,"total_tokens":308}
                timings: {"prompt_n":26,"prompt_ms":342.546,"prompt_per_token_ms":13.174846153846154,"prompt_per_second":75.90221459307655,"predicted_n":282,"predicted_ms":4535.599,"predicted_per_token_ms":16.083684397163122,"predicted_per_second":62.17480866364068}
                back: {"total_duration":4878145000,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}
            "#]],
        );
        // A load-only response has no metrics at all.
        check(
            r#"{}"#,
            expect![[r#"
                usage: {"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}
                timings: null
                back: {"prompt_eval_count":0,"eval_count":0}
            "#]],
        );
        // A zero duration gives no rate rather than infinity.
        check(
            r#"{"eval_count":5,"eval_duration":0}"#,
            expect![[r#"
                usage: {"prompt_tokens":0,"completion_tokens":5,"total_tokens":5}
                timings: {"predicted_n":5,"predicted_ms":0.0,"predicted_per_token_ms":0.0}
                back: {"prompt_eval_count":0,"eval_count":5,"eval_duration":0}
            "#]],
        );
    }

    #[test]
    fn llama_server_timings_to_ollama() {
        // A llama-server final chunk's `usage` and `timings`.
        let usage = Usage {
            prompt_tokens: 1085,
            completion_tokens: 247,
            total_tokens: 1332,
            ..Usage::default()
        };
        let timings: Timings = from_json(
            br#"{"prompt_n":1085,"prompt_ms":203.378,"predicted_n":247,"predicted_ms":933.63,"predicted_per_second":264.5587652496171}"#,
        )
        .unwrap();
        let metrics = metrics_from_openai(Some(&usage), Some(&timings));
        assert_eq!(
            serde_json::to_string(&metrics).unwrap(),
            r#"{"total_duration":1137008000,"prompt_eval_count":1085,"prompt_eval_duration":203378000,"eval_count":247,"eval_duration":933630000}"#
        );
        let rate = tokens_per_second(247, metrics.eval_duration.unwrap()).unwrap();
        assert!((rate - 264.5587652496171).abs() < 1e-9);

        // Without usage the counts come from the timings; broken durations are dropped.
        let broken = Timings {
            prompt_n: Some(3),
            prompt_ms: Some(-1.0),
            predicted_n: Some(4),
            predicted_ms: Some(f64::INFINITY),
            ..Timings::default()
        };
        let metrics = metrics_from_openai(None, Some(&broken));
        assert_eq!(
            serde_json::to_string(&metrics).unwrap(),
            r#"{"prompt_eval_count":3,"eval_count":4}"#
        );
    }

    #[test]
    fn huge_counts_saturate() {
        let metrics = Metrics {
            prompt_eval_count: Some(u64::MAX),
            eval_count: Some(u64::MAX),
            ..Metrics::default()
        };
        assert_eq!(usage_from_metrics(&metrics).total_tokens, u64::MAX);
        assert_eq!(tokens_per_second(u64::MAX, 1), Some(1.8446744073709552e28));
        assert_eq!(millis_to_nanos(1e300), Some(u64::MAX));
    }
}
