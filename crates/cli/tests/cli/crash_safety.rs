//! Crash safety of saves: `hearth config set` is killed (SIGKILL) again and again at varied
//! moments of its run, and after every kill `hearth.json` must be exactly the file before the
//! set or exactly the file after it — never missing, never torn, always valid — and
//! `hearth.json.bak` likewise a complete earlier version.

use std::{
    fs,
    os::unix::process::ExitStatusExt,
    process::Stdio,
    thread,
    time::{Duration, Instant},
};

use hearth_core::config::{Environment, store, validate_str};
use serde_json::{Value, json};

use crate::support::Hearth;

/// How many sets are killed. A set takes tens of milliseconds in a debug build, most of them
/// starting up and validating; the save (two writes, fsyncs and renames) is the last few.
const KILLS: usize = 240;

/// Models in the file, so that each save writes some 40 kB twice (the backup and the new file)
/// and the window between the first write and the last rename is not tiny.
const MODELS: usize = 300;

fn model_id(index: usize) -> String {
    format!("hf.co/hearth-test/a-long-model-name-so-the-file-is-larger-{index:04}:q8_0")
}

/// What the loop sets: the port and an alias, by turns, each time to whichever of its two
/// values the file does not hold yet, so every set changes the file.
const PATHS: [&str; 2] = ["gateway.port", "models.aliases.fast"];

fn values(path: &str) -> [String; 2] {
    if path == "gateway.port" {
        ["11600".to_owned(), "11700".to_owned()]
    } else {
        [
            format!("ollama/{}", model_id(1)),
            format!("ollama/{}", model_id(MODELS - 1)),
        ]
    }
}

/// The value of `values(path)` that the configuration `text` does not hold.
fn other_value(text: &str, path: &str) -> String {
    let document: Value = serde_json::from_str(text).unwrap();
    let current = store::get(&document, path).unwrap();
    let [first, second] = values(path);
    if store::parse_cli_value(&first) == *current {
        second
    } else {
        first
    }
}

fn initial_document() -> Value {
    let models: Vec<Value> = (0..MODELS)
        .map(|index| json!({ "id": model_id(index), "contextWindow": 32768 }))
        .collect();
    json!({
        "providers": {
            "ollama": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434", "models": models }
        },
        "models": {
            "primary": format!("ollama/{}", model_id(0)),
            "aliases": { "fast": format!("ollama/{}", model_id(0)) }
        },
        "agents": [{ "id": "main" }],
        "gateway": { "port": 11500 }
    })
}

/// The text `hearth config set PATH VALUE` saves when it starts from `before`.
fn after_set(before: &str, path: &str, value: &str) -> String {
    let mut document: Value = serde_json::from_str(before).unwrap();
    store::set(&mut document, path, store::parse_cli_value(value)).unwrap();
    let mut text = serde_json::to_string_pretty(&document).unwrap();
    text.push('\n');
    text
}

/// The temporary files saves leave behind when killed: `.hearth.json.XXXXXX.tmp` and
/// `.hearth.json.bak.XXXXXX.tmp`.
fn temporary_files(hearth: &Hearth) -> Vec<String> {
    fs::read_dir(hearth.config_file().parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".hearth.json.") && name.ends_with(".tmp"))
        .collect()
}

/// A valid configuration, or a panic naming `what` and every finding.
#[track_caller]
fn assert_valid(text: &str, environment: &Environment, what: &str) {
    if let Err(found) = validate_str(text, environment) {
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        panic!("{what} is not valid:\n{}\n---\n{text}", found.join("\n"));
    }
}

/// What a SIGKILL interrupted, told apart by what it left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The old file, the old backup, no new temporary file.
    KilledBeforeSaving,
    /// The old file, but a new backup or a temporary file left behind.
    KilledWhileSaving,
    /// The new file in place; the process had not exited yet.
    KilledAfterSaving,
    /// The set had finished (exit 0) before the kill.
    Finished,
}

#[test]
fn a_killed_set_leaves_the_old_or_the_new_file_never_a_broken_one() {
    let hearth = Hearth::new("crash");
    let environment = Environment {
        data_dir: hearth.root().join("data"),
        home: None,
    };
    let config_file = hearth.config_file();
    let backup_file = hearth.backup_file();
    let mut initial = serde_json::to_string_pretty(&initial_document()).unwrap();
    initial.push('\n');
    hearth.write_config(&initial);
    hearth.run(&["config", "validate"]).assert_code(0);

    // How long a whole set takes here, unkilled.
    let mut durations = Vec::new();
    for path in PATHS.iter().cycle().take(4) {
        let value = other_value(&hearth.config_text(), path);
        let started = Instant::now();
        hearth.run(&["config", "set", path, &value]).assert_code(0);
        durations.push(started.elapsed());
    }
    durations.sort();
    let run_time = durations[durations.len() / 2].min(Duration::from_millis(200));

    // Even iterations spread their kills over the whole run: 0, 0.63, 0.26, 0.89 … of 1.25 ×
    // the run time. Most of a run is starting up and validating, and the save itself is short,
    // so odd iterations follow a staircase towards the moment the save happens: a little later
    // after a kill that came before it, a little earlier after one that came after it, with a
    // jitter of ±1/20 of the run time.
    let step = run_time / 50;
    let mut save_moment = run_time / 2;
    let mut running_when_killed = 0;
    let mut outcomes = Vec::new();
    for iteration in 0..KILLS {
        let path = PATHS[iteration % PATHS.len()];
        let before = fs::read_to_string(&config_file).unwrap();
        let backup_before = fs::read_to_string(&backup_file).ok();
        let temporary_before = temporary_files(&hearth).len();
        let value = other_value(&before, path);
        let after = after_set(&before, path, &value);
        assert!(
            before != after,
            "iteration {iteration}: setting {path} changes nothing"
        );

        let spread = ((iteration * 61) % 97) as f64 / 97.0;
        let delay = if iteration % 2 == 0 {
            run_time.mul_f64(1.25 * spread)
        } else {
            (save_moment + run_time.mul_f64(spread / 10.0)).saturating_sub(run_time / 20)
        };
        let mut child = hearth
            .command(&["config", "set", path, &value])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            running_when_killed += 1;
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();

        let now = fs::read_to_string(&config_file)
            .unwrap_or_else(|error| panic!("iteration {iteration}: hearth.json is gone: {error}"));
        assert_valid(
            &now,
            &environment,
            &format!("iteration {iteration}: hearth.json"),
        );
        assert!(
            now == before || now == after,
            "iteration {iteration}: hearth.json is neither the old nor the new file:\n{now}"
        );
        let backup_now = fs::read_to_string(&backup_file).ok();
        if let Some(backup) = &backup_now {
            assert_valid(
                backup,
                &environment,
                &format!("iteration {iteration}: the backup"),
            );
            assert!(
                backup_now == backup_before || *backup == before,
                "iteration {iteration}: hearth.json.bak is neither the old backup nor the old file"
            );
        }
        let outcome = if status.signal() == Some(9) {
            if now == after {
                Outcome::KilledAfterSaving
            } else if backup_now != backup_before
                || temporary_files(&hearth).len() > temporary_before
            {
                Outcome::KilledWhileSaving
            } else {
                Outcome::KilledBeforeSaving
            }
        } else {
            assert_eq!(status.code(), Some(0), "iteration {iteration}: {status}");
            assert!(
                now == after,
                "iteration {iteration}: a finished set did not save"
            );
            Outcome::Finished
        };
        if iteration % 2 == 1 {
            match outcome {
                Outcome::KilledBeforeSaving => save_moment += step,
                Outcome::KilledWhileSaving => {}
                Outcome::KilledAfterSaving | Outcome::Finished => {
                    save_moment = save_moment.saturating_sub(step);
                }
            }
        }
        outcomes.push(outcome);
    }

    let count = |outcome| outcomes.iter().filter(|found| **found == outcome).count();
    let while_saving = count(Outcome::KilledWhileSaving);
    let finished = count(Outcome::Finished);
    println!(
        "crash safety: {KILLS} sets killed (an unkilled run takes {run_time:?}; the save starts \
         about {save_moment:?} in); {running_when_killed} still running at the kill; of those \
         the SIGKILL ended, {} before saving, {while_saving} while saving, {} after the new file \
         was in place; {finished} had finished; {} temporary file(s) left behind",
        count(Outcome::KilledBeforeSaving),
        count(Outcome::KilledAfterSaving),
        temporary_files(&hearth).len()
    );
    assert!(
        KILLS - finished >= KILLS / 2,
        "only {} of {KILLS} kills hit a running set",
        KILLS - finished
    );
    assert!(
        while_saving >= 5,
        "only {while_saving} kill(s) landed while a save was under way: the test did not \
         exercise the save"
    );
    // The last file is still one `hearth` accepts.
    hearth.run(&["config", "validate"]).assert_code(0);
}
