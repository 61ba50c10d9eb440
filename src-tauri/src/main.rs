//! `hearth-app`: the menu-bar app. Logs go to stderr and to `hearth-app.log.<date>` in
//! [`hearth_app::log_dir`] (an app started from Finder or at login has no terminal: its stderr
//! goes nowhere); `HEARTH_LOG` filters both.

use std::process::ExitCode;

use tracing_subscriber::{Layer as _, layer::SubscriberExt as _, util::SubscriberInitExt as _};

fn main() -> ExitCode {
    let options = hearth_app::Options::from_env();
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("HEARTH_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    // Daily files, a week kept; written by a background thread, flushed when `_flush` drops.
    let (file, _flush) = match options
        .as_ref()
        .ok()
        .map(|options| hearth_app::log_dir(&options.paths))
        .and_then(|dir| {
            tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("hearth-app.log")
                .max_log_files(7)
                .build(dir)
                .ok()
        }) {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (Some(writer), Some(guard))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter()),
        )
        .with(file.map(|writer| {
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter())
        }))
        .init();
    let started = options.and_then(|options| {
        hearth_app::run_app(
            tauri::Builder::default(),
            tauri::generate_context!(),
            options,
        )
    });
    match started {
        Ok(app) => {
            app.run(|_app, event| {
                // No window open is normal for a menu-bar app: stay until Quit.
                if let tauri::RunEvent::ExitRequested {
                    code: None, api, ..
                } = event
                {
                    api.prevent_exit();
                }
            });
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "Hearth cannot start");
            #[expect(
                clippy::print_stderr,
                reason = "the one message a user sees when start-up fails"
            )]
            {
                eprintln!("hearth-app: {error}");
            }
            ExitCode::from(3)
        }
    }
}
