//! The launchd driver (macOS): LaunchAgent plists and `launchctl` command sequences.
