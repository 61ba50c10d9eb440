//! `GET /metrics` after real answers from a real llama-server (SmolLM2-135M): one streamed and
//! one whole answer are counted, timed (time to first token, decode tokens per second) and
//! leave nothing in flight. The exposition is parsed as OpenMetrics text, not grepped.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::collections::BTreeMap;

use hearth_e2e::{APP_TOKEN, Hearth, LlamaServer, two_agents};
use serde_json::json;

/// One sample line: `name{label="value",…} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the OpenMetrics text format into its samples; fails the test on anything malformed
/// or a missing `# EOF`.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut lines = text.lines();
    for line in lines.by_ref() {
        if line == "# EOF" {
            break;
        }
        if line.starts_with('#') {
            assert!(
                ["# HELP ", "# TYPE ", "# UNIT "]
                    .iter()
                    .any(|prefix| line.starts_with(prefix)),
                "unexpected comment `{line}`"
            );
            continue;
        }
        samples.push(parse_sample(line));
    }
    assert!(
        lines.next().is_none() && text.ends_with("# EOF\n"),
        "the exposition must end with `# EOF`:\n{text}"
    );
    samples
}

fn parse_sample(line: &str) -> Sample {
    let Some(at) = line.find(['{', ' ']) else {
        panic!("no value in sample line `{line}`")
    };
    let (name, mut rest) = line.split_at(at);
    let mut labels = BTreeMap::new();
    if let Some(mut inside) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inside.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = inside.split_once("=\"").unwrap();
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, other)) => value.push(other),
                        None => panic!("dangling escape in `{line}`"),
                    },
                    Some((at, '"')) => break at,
                    Some((_, other)) => value.push(other),
                    None => panic!("unterminated label value in `{line}`"),
                }
            };
            labels.insert(key.to_owned(), value);
            inside = after[end + 1..].trim_start_matches(',');
        }
    }
    // The value; a timestamp or an exemplar (` # {…} …`) may follow it.
    let value = match rest.split_whitespace().next().unwrap() {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number
            .parse()
            .unwrap_or_else(|_| panic!("bad value in `{line}`")),
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

/// The sum of the samples called `name` whose labels include every pair of `labels`.
fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(value))
        })
        .map(|sample| sample.value)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_are_counted_timed_and_leave_nothing_in_flight() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let client = reqwest::Client::new();
    for stream in [true, false] {
        let response = client
            .post(format!("{}/v1/chat/completions", hearth.base))
            .bearer_auth(APP_TOKEN)
            .json(&json!({
                "model": "small",
                "messages": [{ "role": "user", "content": "Count from one to ten in words." }],
                "max_tokens": 32,
                "stream": stream
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "stream: {stream}");
        // Read the whole answer: the request ends with it.
        let body = response.text().await.unwrap();
        assert!(!body.is_empty());
    }

    let response = client
        .get(format!("{}/metrics", hearth.base))
        .bearer_auth(APP_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    let samples = parse(&text);
    let model = [("provider", "llama"), ("model", "llama/smollm2")];
    let requests = [
        ("agent", "public"),
        ("model", "llama/smollm2"),
        ("provider", "llama"),
        ("api", "openai-completions"),
    ];
    assert_eq!(
        sum(&samples, "hearth_requests_total", &requests),
        2.0,
        "{text}"
    );
    assert_eq!(
        sum(
            &samples,
            "hearth_requests_total",
            &[("model", "llama/smollm2"), ("outcome", "ok")]
        ),
        2.0,
        "{text}"
    );
    assert!(
        sum(&samples, "hearth_time_to_first_token_seconds_count", &model) >= 1.0,
        "{text}"
    );
    assert!(
        sum(&samples, "hearth_time_to_first_token_seconds_sum", &model) > 0.0,
        "{text}"
    );
    assert!(
        sum(&samples, "hearth_decode_tokens_per_second_count", &model) >= 1.0,
        "{text}"
    );
    assert!(
        sum(&samples, "hearth_decode_tokens_per_second_sum", &model) > 0.0,
        "{text}"
    );
    assert_eq!(
        sum(
            &samples,
            "hearth_in_flight_requests",
            &[("provider", "llama")]
        ),
        0.0,
        "{text}"
    );
    assert_eq!(
        sum(&samples, "hearth_errors_total", &[]),
        0.0,
        "no error: {text}"
    );
}
