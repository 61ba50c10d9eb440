//! `hearth bench [model]`: asks the running gateway to benchmark a model (decode tokens/s and
//! time to first token, in isolation: a model that is not resident is refused, another one
//! resident beside it is warned about) and prints the result and the history as a table. The
//! measuring itself is the gateway's (`hearth_gateway::bench`), so the CLI and the UI agree.

use std::time::Duration;

use hearth_gateway::bench::Record;
use serde_json::{Value, json};

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

use super::admin::{self, Admin, AdminError};

pub fn run(
    context: &Context,
    model: Option<String>,
    runs: u32,
    max_tokens: u32,
    json_out: bool,
) -> CliResult {
    let validated = super::load(context)?;
    let config = &validated.config;
    let admin = Admin::new(context, config)?;
    let runtime = admin::runtime()?;
    let shown = model
        .clone()
        .or_else(|| config.primary.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| "the active model".to_owned());
    output::note(format!(
        "benchmarking {shown}: {runs} runs of up to {max_tokens} tokens, streamed from its backend"
    ));
    let body = json!({ "model": model, "runs": runs, "maxTokens": max_tokens });
    let answer = runtime.block_on(async {
        let response = admin
            .send(
                reqwest::Method::POST,
                "/admin/bench",
                Some(&body),
                Duration::from_secs(3600),
            )
            .await?;
        response.json::<Value>().await.map_err(|error| {
            AdminError::Other(format!("Hearth sent something unreadable: {error}"))
        })
    });
    let outcome = match answer {
        Ok(outcome) => outcome,
        // Not resident (503) or bad input: the user's to fix.
        Err(AdminError::Refused { message, .. }) => return Err(CliError::invalid(message)),
        Err(error) => return Err(error.into()),
    };
    let history: Vec<Record> = runtime
        .block_on(admin.json(reqwest::Method::GET, "/admin/bench", None))
        .ok()
        .and_then(|body| serde_json::from_value(body["history"].clone()).ok())
        .unwrap_or_default();
    if json_out {
        output::json(&json!({ "result": outcome, "history": history }));
        return Ok(());
    }
    let record: Record = serde_json::from_value(outcome["record"].clone()).map_err(|error| {
        CliError::environment(format!("Hearth sent an unreadable record: {error}"))
    })?;
    if record.contended {
        output::note(format!(
            "WARNING: {} resident too: the numbers are lower than in isolation (`hearth model use {}` unloads the others)",
            record.beside.join(", "),
            record.model
        ));
    }
    for (run, sample) in outcome["samples"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        output::note(format!(
            "  run {}: time to first token {:.0} ms, {:.1} tokens/s over {} tokens",
            run + 1,
            sample["ttftMs"].as_f64().unwrap_or(0.0),
            sample["tokensPerSecond"].as_f64().unwrap_or(0.0),
            sample["tokens"].as_u64().unwrap_or(0)
        ));
    }
    output::line(format!(
        "{}: {:.1} tokens/s decode, {:.0} ms to first token (median of {})",
        record.model, record.decode_tokens_per_second, record.ttft_ms, record.runs
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
    }
}
