//! What Hearth knows about tools: the families (one capability under all the names agent
//! frameworks give it), the groups of families, and the profiles' base sets.
//!
//! The lists are Hearth's own, shaped after OpenClaw's groups and profiles so that its
//! configurations mean the same here, and widened with the names other frameworks, the
//! OpenAI and Anthropic built-in tools and the seed configurations use. A name belongs to at
//! most one family; ambiguous bare words (`search`, `list`, `delete`, `status`) belong to
//! none and so match only themselves.

use crate::config::file::Profile;

use super::names;

/// One capability under every name it goes by. The first name is the canonical one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    pub names: &'static [&'static str],
}

impl Family {
    /// The canonical name: what `hearth policy explain` and the groups list.
    pub fn name(&self) -> &'static str {
        self.names.first().copied().unwrap_or_default()
    }
}

/// A named set of families, written `group:NAME` in `allow` and `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// With its prefix: `group:runtime`.
    pub name: &'static str,
    /// Canonical family names.
    pub families: &'static [&'static str],
}

/// Every family Hearth knows, grouped as in [`GROUPS`] and in that order.
pub const FAMILIES: &[Family] = &[
    // group:runtime
    Family {
        names: &[
            "exec",
            "bash",
            "shell",
            "sh",
            "zsh",
            "powershell",
            "cmd",
            "terminal",
            "shell_exec",
            "shell_execution",
            "shell_command",
            "exec_command",
            "execute_command",
            "execute_bash",
            "run_command",
            "run_shell",
            "run_shell_command",
            "run_terminal_cmd",
            "run_terminal_command",
            "local_shell",
        ],
    },
    Family {
        names: &[
            "process",
            "system_process",
            "process_list",
            "list_processes",
            "process_kill",
            "kill_process",
            "process_manager",
            "manage_process",
            "ps",
            "bash_output",
            "kill_bash",
            "kill_shell",
        ],
    },
    // group:fs
    Family {
        names: &[
            "read",
            "file_read",
            "read_file",
            "fs_read",
            "read_text_file",
            "read_many_files",
            "read_multiple_files",
            "view_file",
            "open_file",
            "cat",
        ],
    },
    Family {
        names: &[
            "write",
            "file_write",
            "write_file",
            "fs_write",
            "write_to_file",
            "create_file",
            "save_file",
        ],
    },
    Family {
        names: &[
            "edit",
            "file_edit",
            "edit_file",
            "fs_edit",
            "multi_edit",
            "str_replace",
            "str_replace_editor",
            "str_replace_based_edit_tool",
            "text_editor",
            "replace_in_file",
            "search_replace",
            "notebook_edit",
        ],
    },
    Family {
        names: &["apply_patch", "patch", "patch_file", "apply_diff"],
    },
    Family {
        names: &["ls", "list_dir", "list_directory", "list_files", "fs_list"],
    },
    Family {
        names: &["glob", "glob_files", "find_files", "file_glob"],
    },
    Family {
        names: &[
            "grep",
            "grep_search",
            "search_files",
            "search_file_content",
            "ripgrep",
            "rg",
        ],
    },
    Family {
        names: &[
            "delete_file",
            "file_delete",
            "remove_file",
            "fs_delete",
            "rm",
        ],
    },
    // group:web
    Family {
        names: &[
            "web_search",
            "search_web",
            "internet_search",
            "online_search",
            "google_search",
            "google_web_search",
            "bing_search",
            "brave_search",
            "duckduckgo_search",
            "tavily_search",
            "web_search_preview",
        ],
    },
    Family {
        names: &[
            "web_fetch",
            "fetch",
            "fetch_url",
            "url_fetch",
            "fetch_webpage",
            "webpage_fetch",
            "http_fetch",
            "http_get",
            "http_request",
            "external_fetch",
            "network_fetch",
            "network_scrape",
            "scrape",
            "scrape_url",
            "web_scrape",
            "read_url",
            "download_url",
            "curl",
            "wget",
        ],
    },
    // group:ui
    Family {
        names: &[
            "browser",
            "browse",
            "web_browser",
            "browser_use",
            "browser_action",
            "browser_automation",
            "browser_navigate",
            "playwright",
            "puppeteer",
        ],
    },
    Family { names: &["canvas"] },
    Family {
        names: &["computer", "computer_use", "computer_use_preview"],
    },
    // group:messaging
    Family {
        names: &["message", "messages", "send_message", "message_send"],
    },
    // group:sessions
    Family {
        names: &["sessions_list", "session_list", "list_sessions"],
    },
    Family {
        names: &["sessions_history", "session_history", "get_session_history"],
    },
    Family {
        names: &["sessions_send", "session_send", "send_to_session"],
    },
    Family {
        names: &[
            "sessions_spawn",
            "session_spawn",
            "spawn_session",
            "spawn_agent",
            "subagent",
            "subagents",
        ],
    },
    Family {
        names: &["session_status", "sessions_status"],
    },
    // group:memory
    Family {
        names: &[
            "memory_search",
            "search_memory",
            "memory_query",
            "knowledge_base_query",
            "knowledge_base_search",
            "knowledge_search",
            "knowledge_lookup",
        ],
    },
    Family {
        names: &["memory_get", "get_memory", "memory_read", "read_memory"],
    },
    Family {
        names: &[
            "memory_write",
            "write_memory",
            "save_memory",
            "memory_save",
            "memory_store",
            "add_memory",
        ],
    },
    // group:automation
    Family {
        names: &[
            "cron",
            "cron_job",
            "schedule",
            "scheduler",
            "schedule_task",
            "scheduled_task",
        ],
    },
    Family {
        names: &[
            "gateway",
            "gateway_config",
            "gateway_restart",
            "restart_gateway",
        ],
    },
    // group:nodes
    Family {
        names: &["nodes", "node"],
    },
    // in no group: the coding profile names them one by one
    Family {
        names: &[
            "image",
            "image_analysis",
            "analyze_image",
            "describe_image",
            "vision",
        ],
    },
    Family {
        names: &[
            "code_interpreter",
            "code_interpreter_sandbox",
            "code_sandbox",
            "python_sandbox",
            "sandbox",
        ],
    },
];

/// The groups `allow` and `deny` may name.
pub const GROUPS: &[Group] = &[
    Group {
        name: "group:runtime",
        families: &["exec", "process"],
    },
    Group {
        name: "group:fs",
        families: &[
            "read",
            "write",
            "edit",
            "apply_patch",
            "ls",
            "glob",
            "grep",
            "delete_file",
        ],
    },
    Group {
        name: "group:web",
        families: &["web_search", "web_fetch"],
    },
    Group {
        name: "group:ui",
        families: &["browser", "canvas", "computer"],
    },
    Group {
        name: "group:messaging",
        families: &["message"],
    },
    Group {
        name: "group:sessions",
        families: &[
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "sessions_spawn",
            "session_status",
        ],
    },
    Group {
        name: "group:memory",
        families: &["memory_search", "memory_get", "memory_write"],
    },
    Group {
        name: "group:automation",
        families: &["cron", "gateway"],
    },
    Group {
        name: "group:nodes",
        families: &["nodes"],
    },
];

/// A profile's base set, written as `allow` entries; `None` for `full`, which allows
/// every tool, known or not.
pub fn profile_entries(profile: Profile) -> Option<&'static [&'static str]> {
    match profile {
        Profile::Minimal => Some(&["session_status"]),
        Profile::Messaging => Some(&[
            "group:messaging",
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "session_status",
        ]),
        Profile::Coding => Some(&[
            "group:fs",
            "group:runtime",
            "group:sessions",
            "group:memory",
            "image",
            "code_interpreter",
        ]),
        Profile::Full => None,
    }
}

/// Every family Hearth knows.
pub fn known_families() -> &'static [Family] {
    FAMILIES
}

/// Every group Hearth knows.
pub fn known_groups() -> &'static [Group] {
    GROUPS
}

/// The family `name` belongs to, ignoring case, `-` and `_` (`WebFetch` is `web_fetch`).
pub fn family_of(name: &str) -> Option<&'static Family> {
    let key = names::key(name);
    FAMILIES
        .iter()
        .find(|family| family.names.iter().any(|n| names::key(n) == key))
}

/// The group called `name` (`group:web`), ignoring case, `-` and `_` after the prefix.
pub fn group(name: &str) -> Option<&'static Group> {
    let key = names::key(name);
    GROUPS.iter().find(|group| names::key(group.name) == key)
}

/// The groups that include family `family` (by canonical name).
pub fn groups_of(family: &str) -> Vec<&'static str> {
    GROUPS
        .iter()
        .filter(|group| group.families.contains(&family))
        .map(|group| group.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn every_name_belongs_to_one_family() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for family in FAMILIES {
            assert!(!family.names.is_empty());
            for name in family.names {
                assert_eq!(*name, names::snake(name), "names are written snake_case");
                if let Some(other) = seen.insert(names::key(name), family.name()) {
                    panic!("`{name}` is in both `{other}` and `{}`", family.name());
                }
            }
        }
    }

    #[test]
    fn groups_and_profiles_name_known_families() {
        for group in GROUPS {
            assert!(group.name.starts_with("group:"));
            for family in group.families {
                assert!(
                    FAMILIES.iter().any(|f| f.name() == *family),
                    "{} lists unknown family `{family}`",
                    group.name
                );
            }
        }
        let profiles = [Profile::Minimal, Profile::Messaging, Profile::Coding];
        for entry in profiles.into_iter().filter_map(profile_entries).flatten() {
            let known = match entry.strip_prefix("group:") {
                Some(_) => group(entry).is_some(),
                None => family_of(entry).is_some_and(|f| f.name() == *entry),
            };
            assert!(known, "profile entry `{entry}` names no group or family");
        }
    }

    #[test]
    fn lookups_ignore_case_and_separators() {
        let cases = [
            ("WebFetch", Some("web_fetch")),
            ("Bash", Some("exec")),
            ("run-shell-command", Some("exec")),
            ("MultiEdit", Some("edit")),
            ("KillShell", Some("process")),
            ("LS", Some("ls")),
            ("code_interpreter_sandbox", Some("code_interpreter")),
            ("knowledge_base_query", Some("memory_search")),
            ("session_status", Some("session_status")),
            ("search", None),
            ("get_weather", None),
        ];
        for (name, expected) in cases {
            assert_eq!(family_of(name).map(Family::name), expected, "{name}");
        }
        assert_eq!(group("GROUP:Web").map(|g| g.name), Some("group:web"));
        assert_eq!(group("group:webb"), None);
    }
}
