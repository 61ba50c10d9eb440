//! The soak's result: the timeline of the gateway's memory and descriptors, the requests by
//! API and outcome, the switches and restarts, and the verdict (alive, nothing hung).

use std::{fmt::Write as _, time::Duration};

use serde::Serialize;

use super::{Counts, SoakOptions, Switches, Tally};

const MIB: f64 = 1024.0 * 1024.0;

/// One look at the gateway process.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    pub seconds: f64,
    pub rss_bytes: Option<u64>,
    pub open_fds: Option<usize>,
    /// Requests ended so far (whole answers and planned disconnects) and failed so far.
    pub requests: u64,
    pub failed: u64,
    /// Taken after the load stopped (the run's last sample): idle again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub after_load: bool,
}

impl Sample {
    /// The timeline's row.
    pub fn line(&self) -> String {
        format!(
            "{:>7.0} s  {:>9}  {:>5}  {:>10}  {:>7}",
            self.seconds,
            self.rss_bytes
                .map_or("-".to_owned(), |rss| format!("{:.1} MiB", rss as f64 / MIB)),
            self.open_fds.map_or("-".to_owned(), |fds| fds.to_string()),
            self.requests,
            self.failed
        )
    }
}

/// Start (the first sample after the warm-up), end (the last under load) and largest of one
/// figure, and its value once the load stopped.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub max: Option<u64>,
    pub after_load: Option<u64>,
}

impl Span {
    fn of(samples: &[Sample], warmup: Duration, figure: impl Fn(&Sample) -> Option<u64>) -> Span {
        let warm = warmup.as_secs_f64();
        Span {
            start: samples
                .iter()
                .find(|sample| sample.seconds >= warm)
                .and_then(&figure),
            end: samples
                .iter()
                .rev()
                .find(|sample| !sample.after_load)
                .and_then(&figure),
            max: samples
                .iter()
                .filter(|sample| sample.seconds >= warm)
                .filter_map(&figure)
                .max(),
            after_load: samples
                .last()
                .filter(|sample| sample.after_load)
                .and_then(&figure),
        }
    }

    /// end / start.
    pub fn growth(&self) -> Option<f64> {
        let (start, end) = (self.start?, self.end?);
        (start > 0).then(|| end as f64 / start as f64)
    }
}

/// Everything one soak measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SoakReport {
    pub seconds: f64,
    pub concurrency: usize,
    pub warmup_seconds: f64,
    pub sample_seconds: f64,
    pub samples: Vec<Sample>,
    pub rss: Span,
    pub open_fds: Span,
    /// By kind of request, in the mix's order.
    pub requests: Vec<(String, Counts)>,
    pub switches: Switches,
    pub restarts: usize,
    /// Per restart of the second upstream: milliseconds from its start to the first whole
    /// answer from its model through Hearth (`None`: none came before the next restart or the
    /// end).
    pub recovery_ms: Vec<Option<u64>>,
    pub hangs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub died: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_retry: Option<String>,
}

impl SoakReport {
    pub(super) fn new(
        options: &SoakOptions,
        elapsed: Duration,
        samples: Vec<Sample>,
        tally: &Tally,
        switches: Switches,
        died: Option<String>,
        restart_retry: Option<String>,
    ) -> SoakReport {
        let warmup = options.warmup();
        SoakReport {
            seconds: elapsed.as_secs_f64(),
            concurrency: options.concurrency,
            warmup_seconds: warmup.as_secs_f64(),
            sample_seconds: options.sample_every.as_secs_f64(),
            rss: Span::of(&samples, warmup, |sample| sample.rss_bytes),
            open_fds: Span::of(&samples, warmup, |sample| {
                sample.open_fds.map(|fds| fds as u64)
            }),
            samples,
            requests: tally
                .by_kind
                .iter()
                .map(|(kind, counts)| (kind.name().to_owned(), counts.clone()))
                .collect(),
            switches,
            restarts: tally.restarts.len(),
            recovery_ms: tally
                .restarts
                .iter()
                .map(|(_, recovered)| {
                    recovered.map(|time| u64::try_from(time.as_millis()).unwrap_or(u64::MAX))
                })
                .collect(),
            hangs: tally.hangs.clone(),
            died,
            restart_retry,
        }
    }

    /// The gateway lived to the end and no request hung: the soak's only verdict.
    pub fn passed(&self) -> bool {
        self.died.is_none() && self.hangs.is_empty()
    }

    /// All requests' counts added up.
    pub fn total(&self) -> Counts {
        self.requests
            .iter()
            .fold(Counts::default(), |mut total, (_, counts)| {
                total.ok += counts.ok;
                total.left += counts.left;
                total.failed_in_restart += counts.failed_in_restart;
                total.failed_otherwise += counts.failed_otherwise;
                total.hung += counts.hung;
                total
            })
    }

    /// The text report: the timeline, the requests, the summary.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "hearth soak: {:.0} s of mixed load at concurrency {}, warm-up {:.0} s",
            self.seconds, self.concurrency, self.warmup_seconds
        );
        let _ = writeln!(
            out,
            "\n{:>9}  {:>9}  {:>5}  {:>10}  {:>7}",
            "time", "VmRSS", "fds", "requests", "failed"
        );
        // At most about 30 rows, each a whole number of sampling intervals apart (a minute in
        // the full run); the JSON has every sample.
        let every = self.sample_seconds.max(f64::EPSILON);
        let step = ((self.seconds / 30.0 / every).ceil() as usize).max(1);
        for (index, sample) in self.samples.iter().enumerate() {
            if index % step == 0 || index + 1 == self.samples.len() {
                let _ = writeln!(out, "{}", sample.line());
            }
        }
        let _ = writeln!(
            out,
            "\n{:<34} {:>9} {:>7} {:>10} {:>9} {:>5}",
            "requests", "ok", "left", "restart", "other", "hung"
        );
        let total = self.total();
        for (name, counts) in self
            .requests
            .iter()
            .chain(std::iter::once(&("total".to_owned(), total)))
        {
            let _ = writeln!(
                out,
                "{:<34} {:>9} {:>7} {:>10} {:>9} {:>5}",
                name,
                counts.ok,
                counts.left,
                counts.failed_in_restart,
                counts.failed_otherwise,
                counts.hung
            );
        }
        let _ = writeln!(
            out,
            "(left: the client closed the connection mid-stream, as planned; restart: failed while \
             the second upstream was down or within 3 s of its start; other: failed at any other time)"
        );
        for (name, counts) in &self.requests {
            if let Some(error) = &counts.first_error {
                let _ = writeln!(out, "  first error, {name}: {error}");
            }
        }
        let recovered: Vec<u64> = self.recovery_ms.iter().flatten().copied().collect();
        let _ = writeln!(
            out,
            "\nupstream restarts: {} ({} recovered; first whole answer after the start: max {} ms)",
            self.restarts,
            recovered.len(),
            recovered
                .iter()
                .max()
                .map_or("-".to_owned(), u64::to_string)
        );
        let _ = writeln!(
            out,
            "model switches: {} done, {} refused by the gateway (upstream down), {} errors{}",
            self.switches.done,
            self.switches.failed,
            self.switches.errors,
            self.switches
                .first_error
                .as_ref()
                .map_or(String::new(), |error| format!(" (first: {error})"))
        );
        let mib = |bytes: Option<u64>| {
            bytes.map_or("-".to_owned(), |bytes| {
                format!("{:.1} MiB", bytes as f64 / MIB)
            })
        };
        let count = |value: Option<u64>| value.map_or("-".to_owned(), |value| value.to_string());
        let growth = |span: &Span| {
            span.growth()
                .map_or("-".to_owned(), |ratio| format!("{ratio:.2}"))
        };
        let _ = writeln!(
            out,
            "\nVmRSS of hearth serve under load: start {}, end {}, max {}; growth end/start {}; once the load stopped {}",
            mib(self.rss.start),
            mib(self.rss.end),
            mib(self.rss.max),
            growth(&self.rss),
            mib(self.rss.after_load)
        );
        let _ = writeln!(
            out,
            "open fds of hearth serve under load: start {}, end {}, max {}; growth end/start {}; once the load stopped {}",
            count(self.open_fds.start),
            count(self.open_fds.end),
            count(self.open_fds.max),
            growth(&self.open_fds),
            count(self.open_fds.after_load)
        );
        for hang in &self.hangs {
            let _ = writeln!(out, "HUNG: {hang}");
        }
        if let Some(died) = &self.died {
            let _ = writeln!(out, "DIED: {died}");
        }
        let _ = writeln!(
            out,
            "verdict: {}",
            if self.passed() {
                "PASS (the gateway lived, no request hung; memory is reported, not judged)"
            } else {
                "FAIL"
            }
        );
        out
    }
}
