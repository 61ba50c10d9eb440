//! `hearth serve` runs the gateway headless (a Mac mini, a Linux box); `hearth status` asks a
//! running one how it is.

use std::{
    io::{BufWriter, Write},
    sync::{Arc, Mutex},
};

use hearth_gateway::{Gateway, Runtime};
use hearth_secrets::SecretStore;
use serde_json::Value;

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

use super::admin::runtime;

/// Runs the gateway until Ctrl-C or SIGTERM. A first run writes the default configuration and
/// creates the tokens.
pub fn serve(context: &Context) -> CliResult {
    let paths = &context.paths;
    let _flush_logs_on_exit = init_logging(&paths.data_dir.join("logs"))?;
    let runtime_threads = runtime()?;
    let startup = runtime_threads.block_on(hearth_gateway::setup::load_for_start(
        paths,
        &hearth_services::discovery::Options::from_env(),
    ))?;
    if let Some(applied) = &startup.first_run {
        output::note(format!(
            "wrote the default configuration to {}",
            paths.config_file.display()
        ));
        for added in &applied.added {
            output::note(format!("added what answers on this machine: {added}"));
        }
    }
    if let Some(proposal) = &startup.proposal {
        output::note(next_step(proposal));
    }
    let validated = startup.validated;
    output::diagnostics(&validated.warnings);
    let store: Arc<dyn SecretStore> = Arc::new(context.secret_store()?);
    super::token::ensure_tokens(context, &validated.config)?;
    let gateway_config = validated.config.gateway.clone();
    let runtime_state = Runtime::load(validated.config, validated.warnings, store.as_ref())?;
    runtime_threads.block_on(async {
        // In the runtime: the supervisor's processes belong to it.
        let gateway = Gateway::new(runtime_state, store, Some(paths.clone()));
        let address = (gateway_config.bind, gateway_config.port);
        let listener = tokio::net::TcpListener::bind(address).await.map_err(|error| {
            CliError::environment(format!(
                "cannot listen on {}:{}: {error}{}",
                gateway_config.bind,
                gateway_config.port,
                if error.kind() == std::io::ErrorKind::AddrInUse {
                    " (is another Hearth running? `hearth status`; or set another `gateway.port`)"
                } else {
                    ""
                }
            ))
        })?;
        let local = listener.local_addr().map_err(CliError::environment)?;
        output::note(format!("Hearth is listening on http://{local}"));
        tracing::info!(%local, logs = %paths.data_dir.join("logs").display(), "listening");
        let served = hearth_gateway::run(gateway, listener, paths.clone(), shutdown_signal()).await;
        tracing::info!("stopped");
        served.map_err(CliError::environment)
    })
}

/// What to do when no model is configured yet, in one line.
pub fn next_step(proposal: &hearth_core::config::setup::Proposal) -> String {
    if proposal.is_empty() {
        "no model is configured and none was found on this machine: install Ollama, LM Studio or \
         llama.cpp (or run scripts/run.sh, which provisions a small default model), then \
         `hearth setup --apply`"
            .to_owned()
    } else {
        format!(
            "no model is configured yet: `hearth setup` found {} provider(s) and {} service(s) to \
             add; `hearth setup --apply` adds them",
            proposal.providers.len(),
            proposal.services.len()
        )
    }
}

/// Logs go to stderr (for a person watching) and, as JSON lines, to `<dir>/hearth.log.<date>`:
/// rotated daily, the last seven days kept. `HEARTH_LOG` filters both (`info` by default).
/// Both are [`BufferedLog`]s; the returned guard flushes them when `serve` returns.
fn init_logging(dir: &std::path::Path) -> Result<BufferedLog, CliError> {
    use tracing_subscriber::{Layer, layer::SubscriberExt, util::SubscriberInitExt};
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("HEARTH_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    std::fs::create_dir_all(dir).map_err(|error| {
        CliError::environment(format!("cannot create {}: {error}", dir.display()))
    })?;
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("hearth.log")
        .max_log_files(7)
        .build(dir)
        .map_err(|error| {
            CliError::environment(format!("cannot write logs in {}: {error}", dir.display()))
        })?;
    let log = BufferedLog::start(file);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(LogWriter(Arc::clone(&log.stderr)))
                .with_filter(filter()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(LogWriter(Arc::clone(&log.file)))
                .with_filter(filter()),
        )
        .init();
    Ok(log)
}

type SharedWriter = Arc<Mutex<BufWriter<Box<dyn Write + Send>>>>;

/// One of the [`BufferedLog`]'s writers, as a tracing layer takes it.
struct LogWriter(SharedWriter);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer =
        tracing_subscriber::fmt::writer::MutexGuardWriter<'a, BufWriter<Box<dyn Write + Send>>>;
    fn make_writer(&'a self) -> Self::Writer {
        self.0.make_writer()
    }
}

/// The two log writers, each an in-memory buffer behind a mutex that one thread flushes every
/// [`FLUSH_EVERY`] (and a full buffer flushes itself): a request's log line is a copy into the
/// buffer. Rejected, measured with hearth-bench: a `write(2)` to stderr per line, and
/// `tracing_appender::non_blocking` (a channel and a writer thread woken for every line);
/// on two cores the wake-ups cost more than the writes.
struct BufferedLog {
    stderr: SharedWriter,
    file: SharedWriter,
}

/// How late a log line may reach stderr or the file.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

impl BufferedLog {
    fn start(file: impl Write + Send + 'static) -> BufferedLog {
        let shared = |writer: Box<dyn Write + Send>| {
            Arc::new(Mutex::new(BufWriter::with_capacity(64 * 1024, writer)))
        };
        let log = BufferedLog {
            stderr: shared(Box::new(std::io::stderr())),
            file: shared(Box::new(file)),
        };
        let writers = [Arc::downgrade(&log.stderr), Arc::downgrade(&log.file)];
        // Runs until the process exits: the global subscriber holds the writers for good, so
        // `serve`'s own flush on return (Drop) is what makes the last lines reach the file.
        let _ = std::thread::Builder::new()
            .name("hearth-log-flush".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    for writer in &writers {
                        if let Some(writer) = writer.upgrade() {
                            flush(&writer);
                        }
                    }
                }
            });
        log
    }
}

fn flush(writer: &SharedWriter) {
    let _ = writer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .flush();
}

impl Drop for BufferedLog {
    fn drop(&mut self) {
        flush(&self.stderr);
        flush(&self.file);
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Asks the running gateway for its status over the admin API.
pub fn status(context: &Context, json: bool) -> CliResult {
    let validated = super::load(context)?;
    let body = super::admin::call(
        context,
        &validated.config,
        reqwest::Method::GET,
        "/admin/status",
        None,
    )?;
    if json {
        output::json(&body);
        return Ok(());
    }
    output::line(format!(
        "Hearth {} on {}, up {}s",
        body["version"].as_str().unwrap_or("?"),
        body["listen"].as_str().unwrap_or("?"),
        body["uptimeSeconds"].as_u64().unwrap_or(0)
    ));
    output::line(format!(
        "config:   {}",
        body["configFile"].as_str().unwrap_or("?")
    ));
    output::line(format!(
        "primary:  {}",
        body["primary"].as_str().unwrap_or("none")
    ));
    for provider in body["providers"].as_array().into_iter().flatten() {
        output::line(format!(
            "provider: {} ({}) at {}",
            provider["id"].as_str().unwrap_or("?"),
            provider["api"].as_str().unwrap_or("?"),
            provider["baseUrl"].as_str().unwrap_or("?")
        ));
    }
    for service in body["services"].as_array().into_iter().flatten() {
        output::line(format!(
            "service:  {} {}{}",
            service["name"].as_str().unwrap_or("?"),
            service["state"].as_str().unwrap_or("?"),
            service["pid"]
                .as_u64()
                .map(|pid| format!(" (pid {pid})"))
                .unwrap_or_default()
        ));
    }
    let resident: Vec<&str> = body["resident"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    output::line(format!(
        "resident: {}",
        if resident.is_empty() {
            "none".to_owned()
        } else {
            resident.join(", ")
        }
    ));
    if let Some(next) = body["nextStep"].as_str() {
        output::line(format!("next:     {next}"));
    }
    if let Some(contention) = body["contention"].as_str() {
        output::line(format!("warning:  {contention}"));
    }
    for agent in body["agents"].as_array().into_iter().flatten() {
        output::line(format!(
            "agent:    {} → {}",
            agent["id"].as_str().unwrap_or("?"),
            agent["model"].as_str().unwrap_or("no model")
        ));
    }
    if let Some(refused) = body["refusedChange"].as_array() {
        output::line(
            "The configuration file has a change that was refused (still serving the previous one):",
        );
        for diagnostic in refused {
            output::line(format!(
                "  {}: {}",
                diagnostic["path"].as_str().unwrap_or(""),
                diagnostic["message"].as_str().unwrap_or("")
            ));
        }
    }
    Ok(())
}
