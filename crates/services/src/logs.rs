//! Services' log files kept to a size: a file over [`LIMIT`] is copied to `<file>.1` (the older
//! copies move up to `<file>.<KEEP>`, the oldest is dropped) and emptied in place. In place,
//! because the writer keeps it open: launchd and the supervisor both open a service's log for
//! appending, so after the truncation the server's next line lands at the start of the empty
//! file instead of at its old offset. A line written between the copy and the truncation is
//! lost; nothing else is. A file each writer opens anew (the audit log) is renamed aside
//! instead, which loses nothing ([`rotate_renaming`]).

use std::{
    io,
    path::{Path, PathBuf},
};

/// The size past which a log is rotated.
pub const LIMIT: u64 = 10 * 1024 * 1024;
/// How many old copies are kept beside the log.
pub const KEEP: u32 = 3;

/// Rotates `path` when it is larger than `limit`, keeping `keep` old copies; returns whether it
/// did. A log that does not exist (yet) is left alone.
pub fn rotate(path: &Path, limit: u64, keep: u32) -> io::Result<bool> {
    if !over(path, limit, keep)? {
        return Ok(false);
    }
    shift(path, keep)?;
    std::fs::copy(path, numbered(path, 1))?;
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .set_len(0)?;
    Ok(true)
}

/// Like [`rotate`], for a file that every writer opens anew for each append (the audit log):
/// renamed to `<file>.1` rather than copied and emptied, so nothing written concurrently is
/// lost — a writer that opened the old file finishes in `<file>.1`, the next one creates the
/// file again. The copies keep the file's permissions.
pub fn rotate_renaming(path: &Path, limit: u64, keep: u32) -> io::Result<bool> {
    if !over(path, limit, keep)? {
        return Ok(false);
    }
    shift(path, keep)?;
    std::fs::rename(path, numbered(path, 1))?;
    Ok(true)
}

/// Whether `path` exists, is larger than `limit` and copies are to be kept at all.
fn over(path: &Path, limit: u64, keep: u32) -> io::Result<bool> {
    match std::fs::metadata(path) {
        Ok(metadata) => Ok(keep > 0 && metadata.len() > limit),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// Moves `<path>.1` … `<path>.<keep - 1>` one up; `<path>.<keep>` is overwritten.
fn shift(path: &Path, keep: u32) -> io::Result<()> {
    for index in (1..keep).rev() {
        match std::fs::rename(numbered(path, index), numbered(path, index + 1)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

/// `<path>.<index>`.
fn numbered(path: &Path, index: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{index}"));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn a_large_log_is_copied_aside_and_emptied_in_place_while_its_writer_keeps_writing() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("llama.log");
        // The server's end: opened once for appending, as launchd and the supervisor open it.
        let mut writer = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        writer.write_all(b"first run\n").unwrap();
        assert!(!rotate(&log, 100, 3).unwrap(), "small logs stay");
        for round in 1..=4 {
            writer.write_all(&[b'x'; 200]).unwrap();
            writer
                .write_all(format!("\nround {round}\n").as_bytes())
                .unwrap();
            assert!(rotate(&log, 100, 3).unwrap());
            assert_eq!(std::fs::metadata(&log).unwrap().len(), 0);
        }
        writer.write_all(b"after\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "after\n",
            "the writer's next line starts the emptied file"
        );
        let tail = |index: u32| {
            let text = std::fs::read_to_string(numbered(&log, index)).unwrap();
            text.lines().last().unwrap().to_owned()
        };
        assert_eq!(
            [tail(1), tail(2), tail(3)],
            ["round 4", "round 3", "round 2"]
        );
        assert!(!numbered(&log, 4).exists(), "three copies are kept");
        assert!(!rotate(&dir.path().join("none.log"), 100, 3).unwrap());
    }

    #[test]
    fn a_file_opened_per_write_is_renamed_aside_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit.jsonl");
        std::fs::write(&audit, vec![b'a'; 150]).unwrap();
        // A writer that opened it before the rotation...
        let mut late = std::fs::OpenOptions::new()
            .append(true)
            .open(&audit)
            .unwrap();
        assert!(rotate_renaming(&audit, 100, 2).unwrap());
        assert!(!audit.exists(), "the next writer creates it again");
        late.write_all(b"late\n").unwrap();
        // ...finishes in the copy.
        let copy = std::fs::read_to_string(numbered(&audit, 1)).unwrap();
        assert!(copy.ends_with("late\n"), "{copy}");
        std::fs::write(&audit, vec![b'b'; 150]).unwrap();
        assert!(rotate_renaming(&audit, 100, 2).unwrap());
        assert!(
            std::fs::read_to_string(numbered(&audit, 2))
                .unwrap()
                .ends_with("late\n")
        );
        assert!(
            !rotate_renaming(&audit, 100, 2).unwrap(),
            "nothing there now"
        );
    }
}
