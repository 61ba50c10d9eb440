//! The responses `/v1/responses` keeps, so a later request can go on from one with
//! `previous_response_id` whatever the backend (none of the local servers keeps state).
//!
//! Each agent's responses live in its own workspace, `<workspace>/responses/<id>.json`, one
//! file per response (0600 in a 0700 directory), written to a temporary file and renamed, so a
//! crash leaves the old file or the new one, never half of one, and a restart loses nothing.
//! A file holds the response as the client saw it and the whole conversation up to and
//! including its output, so going on from it never needs its predecessors: pruning an old
//! response never breaks a newer one. The store is bounded per agent by count, age and bytes
//! (a long chain stores its early turns again in every file); the oldest go first, on every
//! save, but the response just saved always stays. A file that cannot be read as a stored
//! response (truncated by a full disk, written by another version) is removed and reported as
//! not found, and a temporary file a crash left behind is removed by the next save.
//!
//! Ids are `resp_` and 48 random hex digits. Only such ids are ever turned into a path, so an
//! id from a client can never name another file; a response of another agent is simply not
//! found.

use std::{
    io,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use hearth_protocol::openai::responses::{InputItem, Response};
use serde::{Deserialize, Serialize};

/// How many responses each agent keeps, and for how long, unless configured otherwise.
pub const DEFAULT_MAX_STORED: usize = 1000;
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
pub const DEFAULT_MAX_BYTES: u64 = 512 * 1024 * 1024;
/// A temporary file older than this is a crash's leftover, not a save in progress.
const STALE_TEMPORARY: Duration = Duration::from_secs(600);

const PREFIX: &str = "resp_";
const ID_HEX_DIGITS: usize = 48;

/// One stored response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredResponse {
    /// The agent that answered; a response is found only by the agent it belongs to.
    pub agent: String,
    pub response: Response,
    /// The conversation through this response's output, oldest first: what a continuation
    /// puts before its own input.
    pub conversation: Vec<InputItem>,
    /// Where this response's own input lies in `conversation` (`input_items`).
    #[serde(default)]
    pub input: std::ops::Range<usize>,
}

/// The per-agent response store; cheap to clone, holds no open files.
#[derive(Debug, Clone, Copy)]
pub struct ResponseStore {
    max_stored: usize,
    max_age: Duration,
    max_bytes: u64,
}

impl Default for ResponseStore {
    fn default() -> Self {
        ResponseStore::new(DEFAULT_MAX_STORED, DEFAULT_MAX_AGE, DEFAULT_MAX_BYTES)
    }
}

impl ResponseStore {
    pub fn new(max_stored: usize, max_age: Duration, max_bytes: u64) -> ResponseStore {
        ResponseStore {
            max_stored: max_stored.max(1),
            max_age,
            max_bytes,
        }
    }

    /// Saves `stored` in `workspace`, then prunes the agent's oldest responses.
    pub async fn save(&self, workspace: &Path, stored: StoredResponse) -> io::Result<()> {
        let store = *self;
        let dir = directory(workspace);
        blocking(move || {
            let path = file(&dir, &stored.response.id)?;
            create_private_dir(&dir)?;
            let mut temporary = tempfile::Builder::new()
                .prefix(".resp-")
                .suffix(".tmp")
                .tempfile_in(&dir)?;
            serde_json::to_writer(&mut temporary, &stored)?;
            temporary.as_file().sync_all()?;
            temporary.persist(&path).map_err(|error| error.error)?;
            sync_directory(&dir)?;
            store.prune(&dir, &path)
        })
        .await
    }

    /// The response `id` of `agent`; `None` when there is none (never stored, deleted, pruned,
    /// expired, or another agent's).
    pub async fn load(
        &self,
        workspace: &Path,
        agent: &str,
        id: &str,
    ) -> io::Result<Option<StoredResponse>> {
        let max_age = self.max_age;
        let dir = directory(workspace);
        let (agent, id) = (agent.to_owned(), id.to_owned());
        blocking(move || {
            let Ok(path) = file(&dir, &id) else {
                return Ok(None);
            };
            let text = match std::fs::read(&path) {
                Ok(text) => text,
                Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(error) => return Err(error),
            };
            if expired(&path, max_age) {
                remove(&path)?;
                return Ok(None);
            }
            match serde_json::from_slice::<StoredResponse>(&text) {
                Ok(stored) => Ok((stored.agent == agent).then_some(stored)),
                Err(error) => {
                    tracing::warn!(
                        path = %path.display(),
                        %error,
                        "a stored response that cannot be read is removed"
                    );
                    remove(&path)?;
                    Ok(None)
                }
            }
        })
        .await
    }

    /// Deletes the response `id` of `agent`; whether there was one.
    pub async fn delete(&self, workspace: &Path, agent: &str, id: &str) -> io::Result<bool> {
        if self.load(workspace, agent, id).await?.is_none() {
            return Ok(false);
        }
        let dir = directory(workspace);
        let id = id.to_owned();
        blocking(move || {
            let path = file(&dir, &id)?;
            remove(&path)?;
            Ok(true)
        })
        .await
    }

    /// Removes expired responses and a crash's temporary files, then the oldest beyond the
    /// count or the bytes; `newest` (just saved) always stays.
    fn prune(&self, dir: &Path, newest: &Path) -> io::Result<()> {
        let mut kept = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            if name.starts_with(".resp-") && name.ends_with(".tmp") {
                if expired(&path, STALE_TEMPORARY) {
                    remove(&path)?;
                }
                continue;
            }
            if !name.strip_suffix(".json").is_some_and(valid_id) {
                continue;
            }
            if expired(&path, self.max_age) {
                remove(&path)?;
                continue;
            }
            let metadata = entry.metadata()?;
            let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            kept.push((modified, metadata.len(), path));
        }
        // Newest first: keep while both budgets allow.
        kept.sort_by_key(|(modified, _, _)| std::cmp::Reverse(*modified));
        let (mut count, mut bytes) = (0_usize, 0_u64);
        for (_, size, path) in kept {
            count += 1;
            bytes = bytes.saturating_add(size);
            let within = count <= self.max_stored && bytes <= self.max_bytes;
            if !within && path != newest {
                remove(&path)?;
            }
        }
        Ok(())
    }
}

/// A fresh response id.
pub fn new_id() -> String {
    let mut bytes = [0_u8; ID_HEX_DIGITS / 2];
    // The OS RNG failing is not something to serve on: an id must never repeat.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        return format!("{PREFIX}{nanos:048x}");
    }
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{PREFIX}{hex}")
}

/// Whether `id` has the shape of an id this store made; nothing else becomes a path.
pub fn valid_id(id: &str) -> bool {
    id.strip_prefix(PREFIX).is_some_and(|hex| {
        hex.len() == ID_HEX_DIGITS && hex.bytes().all(|byte| byte.is_ascii_hexdigit())
    })
}

fn directory(workspace: &Path) -> PathBuf {
    workspace.join("responses")
}

fn file(dir: &Path, id: &str) -> io::Result<PathBuf> {
    if !valid_id(id) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a response id",
        ));
    }
    Ok(dir.join(format!("{id}.json")))
}

fn expired(path: &Path, max_age: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age > max_age)
}

fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Makes a rename in `dir` durable (a power loss after it keeps the new file).
fn sync_directory(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| io::Error::other(error.to_string()))?
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stored(agent: &str, text: &str) -> StoredResponse {
        let id = new_id();
        let response: Response = serde_json::from_value(json!({
            "id": id, "object": "response", "created_at": 1_741_476_542, "status": "completed",
            "model": "llama/smollm2", "output": [{
                "type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                "content": [{ "type": "output_text", "text": text, "annotations": [] }]
            }],
            "parallel_tool_calls": true, "tool_choice": "auto", "tools": []
        }))
        .unwrap();
        let conversation: Vec<InputItem> = serde_json::from_value(json!([
            { "type": "message", "role": "user", "content": "hi" },
            { "type": "message", "role": "assistant",
              "content": [{ "type": "output_text", "text": text, "annotations": [] }] }
        ]))
        .unwrap();
        StoredResponse {
            agent: agent.to_owned(),
            response,
            conversation,
            input: 0..1,
        }
    }

    #[tokio::test]
    async fn a_saved_response_is_found_by_its_agent_only_and_survives_a_new_store() {
        let dir = tempfile::tempdir().unwrap();
        let saved = stored("main", "hello");
        let id = saved.response.id.clone();
        ResponseStore::default()
            .save(dir.path(), saved)
            .await
            .unwrap();
        let found = ResponseStore::default()
            .load(dir.path(), "main", &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.response.id, id);
        assert_eq!(found.conversation.len(), 2);
        let other = ResponseStore::default()
            .load(dir.path(), "other", &id)
            .await;
        assert!(other.unwrap().is_none(), "another agent must not see it");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let path = dir.path().join("responses").join(format!("{id}.json"));
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[tokio::test]
    async fn ids_that_are_not_ours_never_become_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret.json"), "{}").unwrap();
        let store = ResponseStore::default();
        for id in [
            "../secret",
            "resp_../../secret",
            "secret",
            "resp_",
            &format!("resp_{}", "g".repeat(48)),
        ] {
            assert!(!valid_id(id), "{id}");
            assert!(store.load(dir.path(), "main", id).await.unwrap().is_none());
            assert!(!store.delete(dir.path(), "main", id).await.unwrap());
        }
        assert!(valid_id(&new_id()));
        assert_ne!(new_id(), new_id());
    }

    #[tokio::test]
    async fn the_oldest_go_first_beyond_the_count_and_deletion_removes_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResponseStore::new(2, DEFAULT_MAX_AGE, DEFAULT_MAX_BYTES);
        let mut ids = Vec::new();
        for text in ["one", "two", "three"] {
            let saved = stored("main", text);
            ids.push(saved.response.id.clone());
            store.save(dir.path(), saved).await.unwrap();
            // Modification times order the files; make sure they differ.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            store
                .load(dir.path(), "main", &ids[0])
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .load(dir.path(), "main", &ids[1])
                .await
                .unwrap()
                .is_some()
        );
        assert!(store.delete(dir.path(), "main", &ids[2]).await.unwrap());
        assert!(
            store
                .load(dir.path(), "main", &ids[2])
                .await
                .unwrap()
                .is_none()
        );
        assert!(!store.delete(dir.path(), "main", &ids[2]).await.unwrap());
    }

    #[tokio::test]
    async fn an_expired_response_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let saved = stored("main", "old");
        let id = saved.response.id.clone();
        ResponseStore::default()
            .save(dir.path(), saved)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let strict = ResponseStore::new(10, Duration::from_millis(10), DEFAULT_MAX_BYTES);
        assert!(
            strict
                .load(dir.path(), "main", &id)
                .await
                .unwrap()
                .is_none()
        );
        let path = dir.path().join("responses").join(format!("{id}.json"));
        assert!(!path.exists(), "an expired response is removed");
    }

    #[tokio::test]
    async fn the_oldest_go_first_beyond_the_bytes_but_the_newest_always_stays() {
        let dir = tempfile::tempdir().unwrap();
        let one = stored("main", &"a".repeat(600));
        let size = serde_json::to_vec(&one).unwrap().len() as u64;
        // Room for two files, not three.
        let store = ResponseStore::new(100, DEFAULT_MAX_AGE, size * 2 + size / 2);
        let mut ids = Vec::new();
        for text in ["a", "b", "c"] {
            let saved = stored("main", &text.repeat(600));
            ids.push(saved.response.id.clone());
            store.save(dir.path(), saved).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            store
                .load(dir.path(), "main", &ids[0])
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .load(dir.path(), "main", &ids[2])
                .await
                .unwrap()
                .is_some()
        );
        // Even a response over the whole budget is kept while it is the newest.
        let tiny = ResponseStore::new(100, DEFAULT_MAX_AGE, 10);
        let big = stored("main", "big");
        let id = big.response.id.clone();
        tiny.save(dir.path(), big).await.unwrap();
        assert!(tiny.load(dir.path(), "main", &id).await.unwrap().is_some());
        assert!(
            tiny.load(dir.path(), "main", &ids[2])
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn an_unreadable_file_is_removed_and_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let id = new_id();
        let responses = dir.path().join("responses");
        std::fs::create_dir_all(&responses).unwrap();
        let path = responses.join(format!("{id}.json"));
        std::fs::write(&path, b"{\"agent\":\"main\",\"resp").unwrap();
        let store = ResponseStore::default();
        assert!(store.load(dir.path(), "main", &id).await.unwrap().is_none());
        assert!(!path.exists());
    }
}
