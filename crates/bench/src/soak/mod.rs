//! The soak test (issue 14): the real `hearth serve` on loopback in front of two fast upstreams
//! (two providers, one model each), under a bounded mixed load of every client API for a long
//! time ([`mix`]), while the active model is switched through the admin API every
//! `switch_every` and the second upstream is stopped and started again on its port every
//! `restart_every` (requests to it fail meanwhile: counted, not fatal). The gateway's VmRSS and
//! open file descriptors are sampled every `sample_every`; [`run`] returns a [`SoakReport`]
//! with the timeline and the counts. Only a gateway that died or a request that hung past
//! `request_timeout` fails it: memory is reported, not judged (README "Reliability").

mod mix;
mod report;

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use hearth_e2e::upstream::{Upstream, UpstreamOptions};
use serde_json::json;

pub use self::report::{Sample, SoakReport};
use crate::{BenchError, proc_stat, servers};

/// The first upstream's model (always up) and the second's (restarted).
pub const MODEL_A: &str = "alpha/soak-a";
pub const MODEL_B: &str = "beta/soak-b";

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    /// The `hearth` binary (a release build for real numbers).
    pub hearth: PathBuf,
    pub duration: Duration,
    /// Requests in flight at once (each worker one keep-alive connection).
    pub concurrency: usize,
    pub sample_every: Duration,
    pub restart_every: Duration,
    /// How long the restarted upstream stays down.
    pub down_for: Duration,
    pub switch_every: Duration,
    /// A request without its whole answer after this long is a hang: the soak fails.
    pub request_timeout: Duration,
    pub upstream: UpstreamOptions,
}

impl SoakOptions {
    /// The full run: 30 minutes at concurrency 8, a restart a minute, a switch every 30 s,
    /// a sample every 10 s.
    pub fn full(hearth: PathBuf) -> SoakOptions {
        SoakOptions {
            hearth,
            duration: Duration::from_secs(30 * 60),
            concurrency: 8,
            sample_every: Duration::from_secs(10),
            restart_every: Duration::from_secs(60),
            down_for: Duration::from_secs(2),
            switch_every: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            upstream: UpstreamOptions {
                chunks: 16,
                delay: Duration::from_millis(1),
            },
        }
    }

    /// The baseline sample is the first taken after this warm-up: a minute, or the first
    /// tenth of a shorter run.
    pub fn warmup(&self) -> Duration {
        Duration::from_secs(60).min(self.duration / 10)
    }
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The client closed the connection mid-stream, as planned.
    Left,
    Failed(String),
    Hung(String),
}

/// Counts of one kind of request.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub ok: u64,
    pub left: u64,
    /// Failed while the second upstream was down or just back (up to 3 s after its start).
    pub failed_in_restart: u64,
    pub failed_otherwise: u64,
    pub hung: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

#[derive(Debug, Default)]
struct Tally {
    by_kind: BTreeMap<mix::Kind, Counts>,
    /// Per restart of the second upstream: when it was up again, and how long until the first
    /// whole answer from its model after that.
    restarts: Vec<(Instant, Option<Duration>)>,
    hangs: Vec<String>,
}

/// What the workers, the switcher and the controller share.
#[derive(Debug)]
pub struct Shared {
    stop: AtomicBool,
    /// The second upstream is down or just back.
    in_restart: AtomicBool,
    request_timeout: Duration,
    tally: Mutex<Tally>,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, kind: mix::Kind, model: &str, outcome: Outcome) {
        let in_restart = self.in_restart.load(Ordering::Relaxed);
        let mut tally = self.tally();
        if outcome == Outcome::Ok
            && model == MODEL_B
            && let Some((back, recovered @ None)) = tally.restarts.last_mut()
        {
            *recovered = Some(back.elapsed());
        }
        let counts = tally.by_kind.entry(kind).or_default();
        let error = match outcome {
            Outcome::Ok => {
                counts.ok += 1;
                return;
            }
            Outcome::Left => {
                counts.left += 1;
                return;
            }
            Outcome::Failed(error) if in_restart => {
                counts.failed_in_restart += 1;
                error
            }
            Outcome::Failed(error) => {
                counts.failed_otherwise += 1;
                error
            }
            Outcome::Hung(error) => {
                counts.hung += 1;
                tally.hangs.push(error.clone());
                error
            }
        };
        let counts = tally.by_kind.entry(kind).or_default();
        if counts.first_error.is_none() {
            counts.first_error = Some(format!("{model}: {error}"));
        }
    }

    fn totals(&self) -> (u64, u64) {
        let tally = self.tally();
        tally
            .by_kind
            .values()
            .fold((0, 0), |(done, failed), counts| {
                (
                    done + counts.ok + counts.left,
                    failed + counts.failed_in_restart + counts.failed_otherwise + counts.hung,
                )
            })
    }
}

/// Switches of the active model, as the admin API reported them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Switches {
    pub done: u64,
    /// The gateway refused or rolled back (the target's upstream was down for the warm-up).
    pub failed: u64,
    /// The admin API itself failed or did not answer in time.
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// Runs the soak. Every process and thread it starts is stopped before it returns.
pub fn run(
    options: &SoakOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<SoakReport, BenchError> {
    let upstream_a = Upstream::start(options.upstream)?;
    let mut upstream_b = Some(Upstream::start(options.upstream)?);
    let b_addr = upstream_b
        .as_ref()
        .map(|upstream| upstream.addr)
        .ok_or_else(|| BenchError::Setup("no second upstream".to_owned()))?;
    let providers = json!({
        "alpha": { "api": "openai-completions", "baseUrl": upstream_a.base_url(),
                   "models": [{ "id": "soak-a" }] },
        "beta": { "api": "openai-completions", "baseUrl": format!("http://{b_addr}/v1"),
                  "models": [{ "id": "soak-b" }] }
    });
    progress("starting hearth serve");
    let mut hearth = servers::hearth_serve(&options.hearth, providers, MODEL_A)?;
    let pid = hearth.pid();
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        in_restart: AtomicBool::new(false),
        request_timeout: options.request_timeout,
        tally: Mutex::new(Tally::default()),
    });
    let admin_token = hearth.admin_token.clone().unwrap_or_default();
    let load = {
        let shared = Arc::clone(&shared);
        let (addr, concurrency, every) = (hearth.addr, options.concurrency, options.switch_every);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("soak-load".to_owned())
            .spawn(move || {
                runtime.block_on(tokio::task::LocalSet::new().run_until(drive(
                    shared,
                    addr,
                    concurrency,
                    every,
                    admin_token,
                )))
            })?
    };

    progress(&format!(
        "mixed load at concurrency {} for {:?}: a restart of {MODEL_B}'s upstream every {:?}, a switch every {:?}",
        options.concurrency, options.duration, options.restart_every, options.switch_every
    ));
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut next_sample = started;
    let mut next_restart = started + options.restart_every;
    let mut back_at: Option<Instant> = None;
    let mut restart_grace_until: Option<Instant> = None;
    let mut restart_failure = None;
    let mut died = None;
    loop {
        let now = Instant::now();
        if let Some(status) = hearth.exited() {
            died = Some(format!(
                "hearth serve exited ({status}) after {:.0} s:\n{}",
                started.elapsed().as_secs_f64(),
                hearth.log_tail()
            ));
            break;
        }
        if now >= next_sample {
            let (requests, failed) = shared.totals();
            let sample = Sample {
                seconds: started.elapsed().as_secs_f64(),
                rss_bytes: proc_stat::rss_bytes(pid),
                open_fds: proc_stat::open_fds(pid),
                requests,
                failed,
                after_load: false,
            };
            progress(&sample.line());
            samples.push(sample);
            next_sample += options.sample_every;
        }
        if now.duration_since(started) >= options.duration {
            break;
        }
        if now >= next_restart && upstream_b.is_some() {
            shared.in_restart.store(true, Ordering::Relaxed);
            drop(upstream_b.take());
            back_at = Some(now + options.down_for);
            next_restart += options.restart_every;
        }
        if let Some(at) = back_at
            && now >= at
        {
            match Upstream::start_at(b_addr, options.upstream) {
                Ok(upstream) => {
                    upstream_b = Some(upstream);
                    back_at = None;
                    restart_grace_until = Some(Instant::now() + Duration::from_secs(3));
                    shared.tally().restarts.push((Instant::now(), None));
                }
                // The port may still be held for a moment: try again on the next tick.
                Err(error) if now.duration_since(at) < Duration::from_secs(30) => {
                    restart_failure = Some(error.to_string());
                }
                Err(error) => {
                    shared.stop.store(true, Ordering::Relaxed);
                    return Err(BenchError::Setup(format!(
                        "cannot start the second upstream again on {b_addr}: {error}"
                    )));
                }
            }
        }
        if let Some(until) = restart_grace_until
            && now >= until
        {
            shared.in_restart.store(false, Ordering::Relaxed);
            restart_grace_until = None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let elapsed = started.elapsed();
    shared.stop.store(true, Ordering::Relaxed);
    // Workers finish the request they are in (each has its deadline), then the switcher.
    let switches = load
        .join()
        .map_err(|_| BenchError::Setup("the load generator's thread failed".to_owned()))?;
    if died.is_none() {
        let (requests, failed) = shared.totals();
        samples.push(Sample {
            seconds: started.elapsed().as_secs_f64(),
            rss_bytes: proc_stat::rss_bytes(pid),
            open_fds: proc_stat::open_fds(pid),
            requests,
            failed,
            after_load: true,
        });
    }
    let tally = std::mem::take(&mut *shared.tally());
    let report = SoakReport::new(
        options,
        elapsed,
        samples,
        &tally,
        switches,
        died,
        restart_failure,
    );
    drop(hearth);
    drop(upstream_b);
    drop(upstream_a);
    Ok(report)
}

/// The load thread: the workers and the switcher, until the controller says stop.
async fn drive(
    shared: Arc<Shared>,
    addr: SocketAddr,
    concurrency: usize,
    switch_every: Duration,
    admin_token: String,
) -> Switches {
    let workers: Vec<_> = (0..concurrency)
        .map(|index| tokio::task::spawn_local(mix::worker(index, Arc::clone(&shared), addr)))
        .collect();
    let mut switches = Switches::default();
    let mut next = Instant::now() + switch_every;
    let mut turn = 0usize;
    while !shared.stopping() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if Instant::now() < next {
            continue;
        }
        next += switch_every;
        turn += 1;
        let model = [MODEL_A, MODEL_B][turn % 2];
        let switched = tokio::time::timeout(
            shared.request_timeout,
            mix::switch(addr, &admin_token, model),
        )
        .await;
        let error = match switched {
            Ok(Ok(true)) => {
                switches.done += 1;
                continue;
            }
            Ok(Ok(false)) => {
                switches.failed += 1;
                continue;
            }
            Ok(Err(error)) => error,
            Err(_) => {
                let hang = format!(
                    "the switch to {model} did not end within {:?}",
                    shared.request_timeout
                );
                shared.tally().hangs.push(hang.clone());
                hang
            }
        };
        switches.errors += 1;
        switches.first_error.get_or_insert(error);
    }
    for worker in workers {
        let _ = worker.await;
    }
    switches
}
