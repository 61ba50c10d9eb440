//! Is a server ready? One probe is a GET of its health URL that answers 2xx within two seconds.

use std::time::Duration;

/// How long one probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// True when `url` answers 2xx within `PROBE_TIMEOUT`.
pub async fn probe(http: &reqwest::Client, url: &str) -> bool {
    match tokio::time::timeout(PROBE_TIMEOUT, http.get(url).send()).await {
        Ok(Ok(response)) => response.status().is_success(),
        _ => false,
    }
}

/// A client for probes: no proxy (a loopback probe must not leave the machine), no pool
/// worth keeping.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(PROBE_TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// The last `lines` lines of a log file (at most its last 256 KiB are read), for error
/// messages and `hearth services logs`.
pub fn tail(path: &std::path::Path, lines: usize) -> std::io::Result<String> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    const MOST: u64 = 256 * 1024;
    let mut file = std::fs::File::open(path)?;
    let length = file.metadata()?.len();
    let start = length.saturating_sub(MOST);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut found: Vec<&str> = text.lines().rev().take(lines).collect();
    // A cut first line is not shown.
    if start > 0 && found.len() == text.lines().count() {
        found.pop();
    }
    found.reverse();
    Ok(found.join("\n"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tail_gives_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "one\ntwo\nthree\nfour\n").unwrap();
        assert_eq!(super::tail(&path, 2).unwrap(), "three\nfour");
        assert_eq!(super::tail(&path, 10).unwrap(), "one\ntwo\nthree\nfour");
    }
}
