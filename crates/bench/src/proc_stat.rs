//! A process's resident memory, open file descriptors and CPU time, read from `/proc` (Linux).

/// `VmRSS` of `/proc/<pid>/status`, in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The process's open file descriptors: the entries of `/proc/<pid>/fd`.
pub fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// User plus system CPU seconds of `/proc/<pid>/stat` (fields 14 and 15, in clock ticks; the
/// kernel's USER_HZ is 100 on every Linux architecture Hearth builds for).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its `)` are plain.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_its_own_process() {
        let pid = std::process::id();
        assert!(super::rss_bytes(pid).is_some_and(|rss| rss > 0));
        assert!(super::cpu_seconds(pid).is_some());
        assert!(super::open_fds(pid).is_some_and(|fds| fds >= 3));
    }
}
