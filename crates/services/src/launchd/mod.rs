//! The launchd driver (macOS): a service becomes a LaunchAgent of the user's `gui/<uid>` domain.
//! `plist` renders its property list; `launchctl` writes it, runs the `launchctl` command
//! sequences that start, stop and restart it (absorbing launchd's ambiguous answers), and reads
//! its state back from `launchctl print`. A stopped service's plist is removed, so launchd does
//! not bring it back at the next login; a restart unloads and loads the current plist; a label
//! the user switched off in Login Items is reported as such. Everything but the `/bin/launchctl` call itself is
//! ordinary code, tested on Linux against recorded outputs.

mod launchctl;
mod plist;

pub use self::launchctl::{
    Launchctl, Launchd, Outcome, PrintInfo, SystemLaunchctl, gui_domain, parse_disabled,
    parse_print,
};
pub use self::plist::{BUNDLE_ID, launch_agents_dir, plist_path, render};
