//! `hearth open`: signs the browser in to the web UI with a one-time link (valid two minutes,
//! usable once) and opens it; `--print` only prints it.
//!
//! The link is not put on the opener's command line, where every process of the machine could
//! read it in `ps` (and, when the opener starts the browser, for as long as the browser runs):
//! it goes into a page readable only by the user (`<data dir>/ui-login/`, 0600 in 0700) that
//! sends the browser on, and the opener is given that file's path. Pages older than the link's
//! lifetime are removed at the next `hearth open`.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

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
    let lifetime = Duration::from_secs(body["expiresInSeconds"].as_u64().unwrap_or(120));
    if print_only {
        output::line(&url);
        return Ok(());
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let dir = context.paths.data_dir.join("ui-login");
    let opened = redirect_page(&dir, &url, lifetime).is_ok_and(|page| {
        std::process::Command::new(opener)
            .arg(&page)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    if opened {
        output::note("opened the Hearth dashboard in your browser");
    } else {
        output::note(format!(
            "open this link in your browser (it works once, for {} s):",
            lifetime.as_secs()
        ));
        output::line(&url);
    }
    Ok(())
}

/// Writes a page that sends the browser to `url` into `dir` (made 0700), readable only by the
/// user, and removes the pages there older than `lifetime`; the new page's path.
fn redirect_page(dir: &Path, url: &str, lifetime: Duration) -> std::io::Result<PathBuf> {
    private_dir(dir)?;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|modified| SystemTime::now().duration_since(modified).ok())
                .is_some_and(|age| age >= lifetime);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let name = hearth_secrets::generate_token()
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    let path = dir.join(format!("open-{}.html", &name.expose()[4..20]));
    let href = html_escape(url);
    let page = format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta http-equiv=\"refresh\" content=\"0;url={href}\">\n<title>Hearth</title>\n\
         <p>Opening Hearth… <a href=\"{href}\">Continue</a></p>\n"
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    file.write_all(page.as_bytes())?;
    Ok(path)
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_goes_into_a_page_only_the_user_reads_and_old_pages_go() {
        let dir = tempfile::tempdir().unwrap();
        let pages = dir.path().join("ui-login");
        let url = "http://127.0.0.1:8080/ui/#login=hth_0123&page=models";
        let page = redirect_page(&pages, url, Duration::from_secs(120)).unwrap();
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(
            text.contains(
                "content=\"0;url=http://127.0.0.1:8080/ui/#login=hth_0123&amp;page=models\""
            ),
            "{text}"
        );
        assert!(!page.to_string_lossy().contains("hth_0123"), "{page:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&page), 0o600);
            assert_eq!(mode(&pages), 0o700);
        }
        // A page whose link has expired is removed by the next one.
        let second = redirect_page(&pages, url, Duration::ZERO).unwrap();
        assert!(!page.exists());
        assert!(second.exists());
    }
}
