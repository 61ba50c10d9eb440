//! The load generator: a purpose-written closed-loop HTTP/1.1 client on hyper 1.x. `C` tasks,
//! each owning one keep-alive connection, send the same request back to back; a request counts
//! when it *completes* inside the measured window (after the warm-up), which makes requests/s
//! unbiased, and its latency (and, streamed, its time to first chunk and every gap between
//! chunks) goes into a sorted vector. It runs on a single-threaded tokio runtime on its own OS
//! thread, so the gateway being measured gets the rest of the machine.

use std::{
    net::SocketAddr,
    rc::Rc,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, StatusCode, client::conn::http1::SendRequest, header};
use hyper_util::rt::TokioIo;

use crate::{BenchError, proc_stat, stats::Summary};

/// Where the load goes.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub path: String,
    pub bearer: Option<String>,
    /// The process serving it, whose CPU time and memory are read during the run.
    pub pid: Option<u32>,
}

/// How much load.
#[derive(Debug, Clone)]
pub struct Load {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Stop once this many requests were measured (the smoke run), even before `duration`.
    pub max_requests: Option<u64>,
    pub body: Bytes,
    pub streamed: bool,
    /// Open loop: each connection sends one request every `pace` (staggered across the
    /// connections); latency counts from the send, not from when it was due (tokio's timer is
    /// 1 ms coarse, and a rate far below saturation leaves no backlog to hide). `None`: closed
    /// loop, back to back.
    pub pace: Option<Duration>,
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub window: Duration,
    pub latency: Summary,
    /// Streamed only: time to the first SSE event, and the gaps between events.
    pub first_chunk: Summary,
    pub chunk_gap: Summary,
    /// The serving process's user+system CPU seconds over the window.
    pub cpu_seconds: Option<f64>,
    /// Its largest resident set seen during the window, in bytes.
    pub peak_rss: Option<u64>,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        let seconds = self.window.as_secs_f64();
        if seconds > 0.0 {
            self.requests as f64 / seconds
        } else {
            0.0
        }
    }
}

#[derive(Default)]
struct Samples {
    latency: Vec<u64>,
    first_chunk: Vec<u64>,
    chunk_gap: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    last_end: Option<Instant>,
}

struct Shared {
    measure_from: Instant,
    measure_until: Instant,
    stop: AtomicBool,
    measured: AtomicU64,
    max_requests: Option<u64>,
}

/// Runs one load against one target on a fresh single-threaded runtime.
pub fn run(target: &Target, load: &Load) -> Result<Measured, BenchError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let target = target.clone();
    let load = load.clone();
    std::thread::Builder::new()
        .name("bench-load".to_owned())
        .spawn(move || {
            runtime.block_on(tokio::task::LocalSet::new().run_until(drive(target, load)))
        })?
        .join()
        .map_err(|_| BenchError::Setup("the load generator's thread failed".to_owned()))?
}

async fn drive(target: Target, load: Load) -> Result<Measured, BenchError> {
    let started = Instant::now();
    let shared = Rc::new(Shared {
        measure_from: started + load.warmup,
        measure_until: started + load.warmup + load.duration,
        stop: AtomicBool::new(false),
        measured: AtomicU64::new(0),
        max_requests: load.max_requests,
    });
    let mut workers = Vec::with_capacity(load.concurrency);
    for index in 0..load.concurrency {
        // Paced connections start spread over one interval, not all at once.
        let first_due = load
            .pace
            .map(|pace| started + pace.mul_f64(index as f64 / load.concurrency.max(1) as f64));
        workers.push(tokio::task::spawn_local(worker(
            Rc::clone(&shared),
            target.clone(),
            load.clone(),
            first_due,
        )));
    }
    // The controller: reads the process's CPU time at the window's edges, samples its memory.
    tokio::time::sleep_until(shared.measure_from.into()).await;
    let cpu_start = target.pid.and_then(proc_stat::cpu_seconds);
    let mut peak_rss = target.pid.and_then(proc_stat::rss_bytes);
    while Instant::now() < shared.measure_until && !shared.stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Some(rss) = target.pid.and_then(proc_stat::rss_bytes) {
            peak_rss = Some(peak_rss.map_or(rss, |peak| peak.max(rss)));
        }
    }
    let cpu_end = target.pid.and_then(proc_stat::cpu_seconds);
    let window_end = Instant::now().min(shared.measure_until);
    shared.stop.store(true, Ordering::Relaxed);
    let mut all = Samples::default();
    for worker in workers {
        let samples = worker
            .await
            .map_err(|error| BenchError::Setup(format!("a load task failed: {error}")))?;
        all.latency.extend(samples.latency);
        all.first_chunk.extend(samples.first_chunk);
        all.chunk_gap.extend(samples.chunk_gap);
        all.errors += samples.errors;
        if all.first_error.is_none() {
            all.first_error = samples.first_error;
        }
        all.last_end = all.last_end.max(samples.last_end);
    }
    // A run stopped by `max_requests` ends with its last measured answer.
    let window_end = match (load.max_requests, all.last_end) {
        (Some(_), Some(last)) => last.min(window_end).max(shared.measure_from),
        _ => window_end,
    };
    Ok(Measured {
        requests: all.latency.len() as u64,
        errors: all.errors,
        first_error: all.first_error,
        window: window_end.saturating_duration_since(shared.measure_from),
        latency: Summary::of(all.latency),
        first_chunk: Summary::of(all.first_chunk),
        chunk_gap: Summary::of(all.chunk_gap),
        cpu_seconds: cpu_start.zip(cpu_end).map(|(start, end)| end - start),
        peak_rss,
    })
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|error| format!("connect {addr}: {error}"))?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| format!("handshake with {addr}: {error}"))?;
    tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

async fn worker(
    shared: Rc<Shared>,
    target: Target,
    load: Load,
    mut due: Option<Instant>,
) -> Samples {
    let mut samples = Samples::default();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    let host = target.addr.to_string();
    let bearer = target
        .bearer
        .as_ref()
        .map(|token| format!("Bearer {token}"));
    let mut chunk_times: Vec<Instant> = Vec::with_capacity(64);
    while !shared.stop.load(Ordering::Relaxed) {
        if Instant::now() >= shared.measure_until {
            break;
        }
        if let Some(max) = shared.max_requests
            && shared.measured.load(Ordering::Relaxed) >= max
        {
            shared.stop.store(true, Ordering::Relaxed);
            break;
        }
        let mut connection = match sender.take() {
            Some(connection) => connection,
            None => match connect(target.addr).await {
                Ok(connection) => connection,
                Err(error) => {
                    fail(&mut samples, error);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        if connection.ready().await.is_err() {
            continue;
        }
        let mut request = Request::post(target.path.as_str())
            .header(header::HOST, host.as_str())
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(bearer) = &bearer {
            request = request.header(header::AUTHORIZATION, bearer.as_str());
        }
        let Ok(request) = request.body(Full::new(load.body.clone())) else {
            fail(&mut samples, "cannot build the request".to_owned());
            break;
        };
        if let (Some(at), Some(pace)) = (due, load.pace) {
            tokio::time::sleep_until(at.into()).await;
            due = Some(at + pace);
        }
        let start = Instant::now();
        chunk_times.clear();
        let outcome = exchange(&mut connection, request, load.streamed, &mut chunk_times).await;
        let end = Instant::now();
        match outcome {
            Ok(()) => sender = Some(connection),
            Err(error) => {
                fail(&mut samples, error);
                continue;
            }
        }
        if end < shared.measure_from || end > shared.measure_until {
            continue;
        }
        shared.measured.fetch_add(1, Ordering::Relaxed);
        samples.last_end = Some(end);
        samples.latency.push(nanos(end - start));
        if load.streamed
            && let Some(first) = chunk_times.first()
        {
            samples.first_chunk.push(nanos(*first - start));
            samples
                .chunk_gap
                .extend(chunk_times.windows(2).map(|pair| nanos(pair[1] - pair[0])));
        }
    }
    samples
}

fn fail(samples: &mut Samples, error: String) {
    samples.errors += 1;
    if samples.first_error.is_none() {
        samples.first_error = Some(error);
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// One request and its whole answer. Streamed: the arrival time of every SSE event (an event
/// is counted at the frame that completes it), and the answer must end with `data: [DONE]`.
async fn exchange(
    connection: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
    streamed: bool,
    chunk_times: &mut Vec<Instant>,
) -> Result<(), String> {
    let response = connection
        .send_request(request)
        .await
        .map_err(|error| format!("request: {error}"))?;
    let status = response.status();
    let mut body = response.into_body();
    let mut tail: Vec<u8> = Vec::new();
    let mut error_body = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| format!("reading the answer: {error}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let now = Instant::now();
        if status != StatusCode::OK {
            error_body.extend_from_slice(&data);
            continue;
        }
        if streamed {
            let events = count_events(&tail, &data);
            chunk_times.extend(std::iter::repeat_n(now, events));
            // Only the last bytes matter: the next frame may complete an event they began.
            tail.extend_from_slice(&data);
            let keep = tail.len().saturating_sub(16);
            tail.drain(..keep);
        } else if data.is_empty() {
            return Err("an empty answer".to_owned());
        }
    }
    if status != StatusCode::OK {
        return Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&error_body)
                .chars()
                .take(300)
                .collect::<String>()
        ));
    }
    if streamed && !String::from_utf8_lossy(&tail).contains("[DONE]") {
        return Err("the stream did not end with data: [DONE]".to_owned());
    }
    Ok(())
}

/// The SSE events (`\n\n`-terminated) that `data` completes, given the bytes before it.
fn count_events(before: &[u8], data: &[u8]) -> usize {
    let joined_edge = before.last() == Some(&b'\n') && data.first() == Some(&b'\n');
    usize::from(joined_edge) + data.windows(2).filter(|pair| pair == b"\n\n").count()
}

#[cfg(test)]
mod tests {
    use super::count_events;

    #[test]
    fn events_are_counted_across_frame_edges() {
        assert_eq!(count_events(b"", b"data: a\n\ndata: b\n\n"), 2);
        assert_eq!(count_events(b"data: a\n", b"\ndata: b"), 1);
        assert_eq!(count_events(b"", b"data: a"), 0);
    }
}
