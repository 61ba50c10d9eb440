//! `hearth open`: signs the browser in to the web UI with a one-time link (valid two minutes,
//! usable once) and opens it; `--print` only prints it.

use crate::{Context, error::CliResult, output};

use super::admin;

pub fn run(context: &Context, print_only: bool) -> CliResult {
    let validated = super::load(context)?;
    let body = admin::call(
        context,
        &validated.config,
        reqwest::Method::POST,
        "/admin/login-link",
        None,
    )?;
    let url = body["url"].as_str().unwrap_or_default().to_owned();
    if print_only {
        output::line(&url);
        return Ok(());
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let opened = std::process::Command::new(opener)
        .arg(&url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if opened {
        output::note("opened the Hearth dashboard in your browser");
    } else {
        output::note(format!(
            "open this link in your browser (it works once, for {} s):",
            body["expiresInSeconds"].as_u64().unwrap_or(120)
        ));
        output::line(&url);
    }
    Ok(())
}
