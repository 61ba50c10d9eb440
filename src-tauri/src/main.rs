//! `hearth-app`: the menu-bar app. Logs go to stderr (`HEARTH_LOG` filters them).

use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HEARTH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let started = hearth_app::Options::from_env().and_then(|options| {
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
