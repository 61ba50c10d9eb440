//! Agents' tool policy: which tools an agent's models may see and call, decided per tool
//! name and explained in one sentence. Pure: no I/O; the gateway enforces the decisions.
//!
//! A policy is compiled from an agent's `tools` (profile, allow, deny):
//!
//! - **Base set.** A profile gives the base set and `allow` adds to it. With no profile a
//!   non-empty `allow` is the whole allow-list. With neither, every tool is allowed (as with
//!   profile `full`, which allows every tool, known or not).
//! - **Deny wins.** A tool any `deny` entry covers is denied, whatever the profile and
//!   `allow` say.
//! - **Names** compare ignoring case, `-` and `_`: `WebFetch`, `web-fetch` and `web_fetch`
//!   are one name.
//! - **Families.** The same capability goes by many names (`bash`, `shell`, `exec`,
//!   `run_terminal_cmd`, ...). Each known name belongs to one family ([`known_families`]); an
//!   entry naming any of them covers the whole family, and a tool is decided by its family,
//!   so every name of a family always gets the same decision. A name in no family is
//!   covered only by entries that match it itself.
//! - **Groups.** `group:NAME` covers a set of families ([`known_groups`]); an unknown group
//!   is a configuration error.
//! - **Patterns.** `*` stands for any run of characters, anywhere (`web_*`, `*shell*`, `*`).
//!   A pattern is matched against the lowercase name with `-` read as `_`, and covers a
//!   family when it matches any of the family's names: `*shell*` denies `bash` too. A `deny`
//!   pattern also covers every other spelling of a name it matches, since those are one name:
//!   `vault_*` denies `VaultRead` and `vaultread` as it denies `vault_read`.
//!
//! Profiles follow OpenClaw's: `minimal` is `session_status`; `messaging` is
//! `group:messaging` and the session tools that read and send; `coding` is `group:fs`,
//! `group:runtime`, `group:sessions`, `group:memory`, `image` and `code_interpreter`.
//!
//! Compiling reports an empty entry or an unknown group as an error at its JSON path, and an
//! `allow` entry that `deny` covers entirely as a warning. [`ToolPolicy::decide`] answers for
//! one tool name; [`ToolPolicy::effective`] for every known family and group.

mod catalog;
mod names;

use std::fmt;

use serde::Serialize;

pub use catalog::{Family, Group, family_of, groups_of, known_families, known_groups};
pub use names::called;

use crate::config::diagnostic::{Diagnostic, JsonPath, nearest};
use crate::config::file::{Profile, ToolsFile};

/// An agent's compiled tool policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPolicy {
    profile: Option<Profile>,
    base: Base,
    allow: Vec<Entry>,
    deny: Vec<Entry>,
}

/// What is allowed before `allow` adds to it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Base {
    /// Profile `full`, or neither a profile nor an allow-list.
    Everything,
    /// A profile's entries.
    Profile(Profile, Vec<Entry>),
    /// No profile: only what `allow` covers.
    Nothing,
}

/// One compiled `allow`, `deny` or profile entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    index: usize,
    /// As written, trimmed.
    text: String,
    matcher: Matcher,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Matcher {
    Group(&'static Group),
    Name {
        key: String,
        family: Option<&'static Family>,
    },
    /// In [`names::snake`] form.
    Pattern(String),
}

/// A tool name being decided, in the forms the matchers need.
struct Subject {
    snake: String,
    key: String,
    family: Option<&'static Family>,
}

impl Subject {
    /// A model's call: decided on the name a framework would run ([`names::called`]).
    fn new(name: &str) -> Subject {
        let name = names::called(name);
        Subject {
            snake: names::snake(&name),
            key: names::key(&name),
            family: family_of(&name),
        }
    }
}

enum EntryError {
    Empty,
    UnknownGroup,
}

impl Entry {
    fn parse(index: usize, text: &str) -> Result<Entry, EntryError> {
        let text = text.trim();
        let snake = names::snake(text);
        let matcher = if snake.is_empty() {
            return Err(EntryError::Empty);
        } else if snake.starts_with("group:") {
            Matcher::Group(catalog::group(text).ok_or(EntryError::UnknownGroup)?)
        } else if snake.contains('*') {
            Matcher::Pattern(snake)
        } else {
            Matcher::Name {
                key: names::key(text),
                family: family_of(text),
            }
        };
        Ok(Entry {
            index,
            text: text.to_owned(),
            matcher,
        })
    }

    /// How this entry covers `tool`, if it does.
    fn covers(&self, tool: &Subject) -> Option<Via> {
        match &self.matcher {
            Matcher::Group(group) => {
                let family = tool.family?.name();
                group
                    .families
                    .contains(&family)
                    .then_some(Via::Group { family })
            }
            Matcher::Name { key, family } => {
                if *key == tool.key {
                    Some(Via::Name)
                } else {
                    let family = (*family)?;
                    (Some(family) == tool.family).then_some(Via::Family {
                        family: family.name(),
                    })
                }
            }
            Matcher::Pattern(pattern) => {
                if names::glob(pattern, &tool.snake) {
                    return Some(Via::Pattern);
                }
                let family = tool.family?;
                let name = family.names.iter().find(|n| names::glob(pattern, n))?;
                Some(Via::PatternFamily {
                    name,
                    family: family.name(),
                })
            }
        }
    }

    /// How this `deny` entry covers `tool`, if it does. A pattern also covers the tool when it
    /// matches another spelling of its name (`vault_*` and `VaultRead`, which is `vault_read`):
    /// compared without `_` and `-` on both sides, as names are. Only for `deny`, where covering
    /// more is the safe side.
    fn covers_denying(&self, tool: &Subject) -> Option<Via> {
        self.covers(tool).or_else(|| match &self.matcher {
            Matcher::Pattern(pattern) => {
                names::glob(&names::key_pattern(pattern), &tool.key).then_some(Via::Pattern)
            }
            Matcher::Group(_) | Matcher::Name { .. } => None,
        })
    }
}

/// How an entry reached the tool it decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "camelCase")]
pub enum Via {
    /// The entry is the tool's own name.
    Name,
    /// The entry is another name of the tool's family.
    Family { family: &'static str },
    /// The entry is a group that includes the tool's family.
    Group { family: &'static str },
    /// The entry is a pattern that matches the tool's name.
    Pattern,
    /// The entry is a pattern that matches another name of the tool's family.
    PatternFamily {
        name: &'static str,
        family: &'static str,
    },
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Name | Via::Pattern => Ok(()),
            Via::Family { family } => write!(f, ", a name of the `{family}` family"),
            Via::Group { family } => write!(f, ", which includes the `{family}` family"),
            Via::PatternFamily { name, family } => {
                write!(f, ", which matches `{name}` of the `{family}` family")
            }
        }
    }
}

/// What decided a tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "camelCase")]
pub enum Rule {
    /// Entry `index` of `allow`.
    Allow {
        index: usize,
        entry: String,
        via: Via,
    },
    /// Entry `index` of `deny`.
    Deny {
        index: usize,
        entry: String,
        via: Via,
    },
    /// One entry of the profile's base set.
    Profile {
        profile: Profile,
        entry: String,
        via: Via,
    },
    /// Profile `full` (`Some`), or neither a profile nor an allow-list (`None`).
    Everything { profile: Option<Profile> },
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Allow { index, entry, via } => write!(f, "allow[{index}] `{entry}`{via}"),
            Rule::Deny { index, entry, via } => write!(f, "deny[{index}] `{entry}`{via}"),
            Rule::Profile {
                profile,
                entry,
                via,
            } => write!(f, "profile {} (`{entry}`){via}", profile.as_str()),
            Rule::Everything {
                profile: Some(profile),
            } => write!(f, "profile {}", profile.as_str()),
            Rule::Everything { profile: None } => {
                f.write_str("default (no profile and no allow-list)")
            }
        }
    }
}

/// Whether a tool is allowed, and by which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "camelCase")]
pub enum Verdict {
    Allowed {
        by: Rule,
    },
    Denied {
        by: Rule,
    },
    /// Neither the base set nor `allow` covers the tool; `profile` is the agent's.
    NotAllowed {
        profile: Option<Profile>,
    },
}

impl Verdict {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Allowed { by } => write!(f, "allowed by {by}"),
            Verdict::Denied { by } => write!(f, "denied by {by}"),
            Verdict::NotAllowed {
                profile: Some(profile),
            } => write!(
                f,
                "not allowed: profile {} does not include it and no allow entry covers it",
                profile.as_str()
            ),
            Verdict::NotAllowed { profile: None } => {
                f.write_str("not allowed: it is not in the allow-list")
            }
        }
    }
}

/// The decision on one tool name; displays as one sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The name as asked.
    pub tool: String,
    /// The canonical name of its family, if it has one.
    pub family: Option<&'static str>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.verdict.is_allowed()
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is {}.", self.tool, self.verdict)
    }
}

/// The policy over every known family and group: what `hearth policy explain <agent>` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectivePolicy {
    pub profile: Option<Profile>,
    pub families: Vec<FamilyPolicy>,
    pub groups: Vec<GroupPolicy>,
    /// Tools in no known family.
    pub other_tools: OtherTools,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyPolicy {
    /// Canonical name.
    pub family: &'static str,
    /// Every name it goes by, canonical first.
    pub names: &'static [&'static str],
    pub groups: Vec<&'static str>,
    pub allowed: bool,
    #[serde(flatten)]
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPolicy {
    pub group: &'static str,
    /// Its families that are allowed.
    pub allowed: Vec<&'static str>,
    /// Its families that are denied or not allowed.
    pub not_allowed: Vec<&'static str>,
}

/// What happens to a tool name Hearth does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OtherTools {
    AllowedUnlessDenied,
    OnlyIfAllowed,
}

impl fmt::Display for OtherTools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OtherTools::AllowedUnlessDenied => "allowed unless a deny entry covers them",
            OtherTools::OnlyIfAllowed => {
                "not allowed unless an allow entry covers them and no deny entry does"
            }
        })
    }
}

impl fmt::Display for EffectivePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let profile = self.profile.map_or("none", Profile::as_str);
        writeln!(f, "profile: {profile}")?;
        writeln!(f, "families:")?;
        for family in &self.families {
            writeln!(f, "  {:<18} {}", family.family, family.verdict)?;
        }
        writeln!(f, "groups:")?;
        for group in &self.groups {
            let state = match (group.allowed.as_slice(), group.not_allowed.as_slice()) {
                (_, []) => "all allowed".to_owned(),
                ([], _) => "none allowed".to_owned(),
                (allowed, _) => format!("partly: {} allowed", allowed.join(", ")),
            };
            writeln!(f, "  {:<18} {state}", group.group)?;
        }
        write!(f, "other tools: {}", self.other_tools)
    }
}

impl ToolPolicy {
    /// Compiles an agent's `tools`, found at `path` (`agents[1].tools`). The policy is
    /// `None` exactly when a diagnostic is an error; warnings come with a policy.
    pub fn compile(tools: &ToolsFile, path: &JsonPath) -> (Option<ToolPolicy>, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let allow = compile_entries(&tools.allow, &path.key("allow"), &mut diagnostics);
        let deny = compile_entries(&tools.deny, &path.key("deny"), &mut diagnostics);
        let base = match tools.profile {
            Some(Profile::Full) => Base::Everything,
            Some(profile) => {
                let entries = catalog::profile_entries(profile).unwrap_or_default();
                let entries = entries
                    .iter()
                    .enumerate()
                    .filter_map(|(index, text)| Entry::parse(index, text).ok())
                    .collect();
                Base::Profile(profile, entries)
            }
            None if tools.allow.is_empty() => Base::Everything,
            None => Base::Nothing,
        };
        let policy = ToolPolicy {
            profile: tools.profile,
            base,
            allow,
            deny,
        };
        for entry in &policy.allow {
            if let Some(message) = policy.denied_anyway(entry) {
                diagnostics.push(
                    Diagnostic::warning(path.key("allow").index(entry.index), message)
                        .with_hint("deny wins over allow; drop one of the two entries"),
                );
            }
        }
        let valid = !diagnostics.iter().any(Diagnostic::is_error);
        (valid.then_some(policy), diagnostics)
    }

    /// The agent's profile, as configured.
    pub fn profile(&self) -> Option<Profile> {
        self.profile
    }

    /// Whether the agent's models may see and call `tool_name`, and why.
    pub fn decide(&self, tool_name: &str) -> Decision {
        let tool = Subject::new(tool_name);
        let verdict = if let Some(by) = self.denied(&tool) {
            Verdict::Denied { by }
        } else if let Some(by) = self.base_allows(&tool).or_else(|| self.allowed(&tool)) {
            Verdict::Allowed { by }
        } else {
            Verdict::NotAllowed {
                profile: self.profile,
            }
        };
        Decision {
            tool: tool_name.to_owned(),
            family: tool.family.map(Family::name),
            verdict,
        }
    }

    /// The decision on every known family and group.
    pub fn effective(&self) -> EffectivePolicy {
        let families: Vec<FamilyPolicy> = known_families()
            .iter()
            .map(|family| {
                let verdict = self.decide(family.name()).verdict;
                FamilyPolicy {
                    family: family.name(),
                    names: family.names,
                    groups: groups_of(family.name()),
                    allowed: verdict.is_allowed(),
                    verdict,
                }
            })
            .collect();
        let groups = known_groups()
            .iter()
            .map(|group| {
                let (allowed, not_allowed) = group
                    .families
                    .iter()
                    .partition(|name| families.iter().any(|f| f.family == **name && f.allowed));
                GroupPolicy {
                    group: group.name,
                    allowed,
                    not_allowed,
                }
            })
            .collect();
        let other_tools = match self.base {
            Base::Everything => OtherTools::AllowedUnlessDenied,
            Base::Profile(..) | Base::Nothing => OtherTools::OnlyIfAllowed,
        };
        EffectivePolicy {
            profile: self.profile,
            families,
            groups,
            other_tools,
        }
    }

    /// How many known families the policy allows: the lower, the less privileged.
    pub fn privilege(&self) -> usize {
        known_families()
            .iter()
            .filter(|family| self.decide(family.name()).is_allowed())
            .count()
    }

    fn denied(&self, tool: &Subject) -> Option<Rule> {
        self.deny.iter().find_map(|entry| {
            let via = entry.covers_denying(tool)?;
            Some(Rule::Deny {
                index: entry.index,
                entry: entry.text.clone(),
                via,
            })
        })
    }

    fn allowed(&self, tool: &Subject) -> Option<Rule> {
        self.allow.iter().find_map(|entry| {
            let via = entry.covers(tool)?;
            Some(Rule::Allow {
                index: entry.index,
                entry: entry.text.clone(),
                via,
            })
        })
    }

    fn base_allows(&self, tool: &Subject) -> Option<Rule> {
        match &self.base {
            Base::Everything => Some(Rule::Everything {
                profile: self.profile,
            }),
            Base::Nothing => None,
            Base::Profile(profile, entries) => entries.iter().find_map(|entry| {
                let via = entry.covers(tool)?;
                Some(Rule::Profile {
                    profile: *profile,
                    entry: entry.text.clone(),
                    via,
                })
            }),
        }
    }

    /// Why an allow entry has no effect because deny covers all of it, if it does.
    fn denied_anyway(&self, allow: &Entry) -> Option<String> {
        let by = match &allow.matcher {
            Matcher::Name { .. } => self.denying(&Subject::new(&allow.text))?,
            Matcher::Pattern(pattern) => self.deny.iter().find(|deny| {
                // A deny pattern that matches the allow pattern's text covers all it can.
                matches!(&deny.matcher, Matcher::Pattern(covering) if names::glob(covering, pattern))
            })?,
            Matcher::Group(group) => {
                let denying = group
                    .families
                    .iter()
                    .map(|family| self.denying(&Subject::new(family)))
                    .collect::<Option<Vec<&Entry>>>()?;
                match denying.split_first() {
                    Some((first, rest)) if rest.iter().all(|e| e.index == first.index) => *first,
                    _ => {
                        return Some(format!(
                            "`{}` is denied anyway: the deny list covers each of its families",
                            allow.text
                        ))
                    }
                }
            }
        };
        Some(format!(
            "`{}` is denied anyway by deny[{}] `{}`",
            allow.text, by.index, by.text
        ))
    }

    fn denying(&self, tool: &Subject) -> Option<&Entry> {
        self.deny
            .iter()
            .find(|entry| entry.covers_denying(tool).is_some())
    }
}

fn compile_entries(
    texts: &[String],
    path: &JsonPath,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (index, text) in texts.iter().enumerate() {
        match Entry::parse(index, text) {
            Ok(entry) => entries.push(entry),
            Err(EntryError::Empty) => diagnostics.push(
                Diagnostic::error(path.index(index), "empty tool name")
                    .with_hint("write a tool name, `group:NAME` or a `*` pattern, or remove it"),
            ),
            Err(EntryError::UnknownGroup) => diagnostics.push(
                Diagnostic::error(
                    path.index(index),
                    format!("unknown tool group `{}`", text.trim()),
                )
                .with_hint(unknown_group_hint(text)),
            ),
        }
    }
    entries
}

/// "did you mean `group:web`?", or the list of groups when none is close.
fn unknown_group_hint(text: &str) -> String {
    // Compare what follows `group:`: the shared prefix would make every group look close.
    let suffix = |name: &'static str| name.strip_prefix("group:").unwrap_or(name);
    let asked = names::snake(text);
    let asked = asked.strip_prefix("group:").unwrap_or(&asked);
    let groups = known_groups().iter().map(|group| group.name);
    match nearest(asked, groups.clone().map(suffix)) {
        Some(near) => format!("did you mean `group:{near}`?"),
        None => format!("known groups: {}", groups.collect::<Vec<_>>().join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn compile(tools: &str) -> (Option<ToolPolicy>, Vec<Diagnostic>) {
        let tools: ToolsFile = serde_json::from_str(tools).unwrap();
        let path = JsonPath::root().key("agents").index(1).key("tools");
        ToolPolicy::compile(&tools, &path)
    }

    fn policy(tools: &str) -> ToolPolicy {
        let (policy, diagnostics) = compile(tools);
        assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");
        policy.unwrap()
    }

    /// The decision on each whitespace-separated tool in `tools_asked`, one per line.
    fn check(tools: &str, tools_asked: &str, expect: Expect) {
        let policy = policy(tools);
        let decisions: Vec<String> = tools_asked
            .split_whitespace()
            .map(|tool| policy.decide(tool).to_string())
            .collect();
        expect.assert_eq(&(decisions.join("\n") + "\n"));
    }

    /// The diagnostics of compiling `tools`, one per line, and whether a policy came out.
    fn check_diagnostics(tools: &str, expect: Expect) {
        let (policy, diagnostics) = compile(tools);
        let mut out: String = diagnostics.iter().map(|d| format!("{d}\n")).collect();
        out += if policy.is_some() {
            "compiled\n"
        } else {
            "rejected\n"
        };
        expect.assert_eq(&out);
    }

    const PUBLIC: &str = r#"{"deny": ["bash", "process", "web_search", "web_fetch", "browser"]}"#;

    #[test]
    fn public_agent_denies_every_shell_process_and_web_variant_in_the_seeds() {
        check(
            PUBLIC,
            "bash shell shell_exec shell_execution exec process system_process web_search
             web_fetch external_fetch network_scrape browser fetch",
            expect![[r#"
                `bash` is denied by deny[0] `bash`.
                `shell` is denied by deny[0] `bash`, a name of the `exec` family.
                `shell_exec` is denied by deny[0] `bash`, a name of the `exec` family.
                `shell_execution` is denied by deny[0] `bash`, a name of the `exec` family.
                `exec` is denied by deny[0] `bash`, a name of the `exec` family.
                `process` is denied by deny[1] `process`.
                `system_process` is denied by deny[1] `process`, a name of the `process` family.
                `web_search` is denied by deny[2] `web_search`.
                `web_fetch` is denied by deny[3] `web_fetch`.
                `external_fetch` is denied by deny[3] `web_fetch`, a name of the `web_fetch` family.
                `network_scrape` is denied by deny[3] `web_fetch`, a name of the `web_fetch` family.
                `browser` is denied by deny[4] `browser`.
                `fetch` is denied by deny[3] `web_fetch`, a name of the `web_fetch` family.
            "#]],
        );
        check(
            PUBLIC,
            "read file_read code_interpreter_sandbox knowledge_base_query session_status",
            expect![[r#"
                `read` is allowed by default (no profile and no allow-list).
                `file_read` is allowed by default (no profile and no allow-list).
                `code_interpreter_sandbox` is allowed by default (no profile and no allow-list).
                `knowledge_base_query` is allowed by default (no profile and no allow-list).
                `session_status` is allowed by default (no profile and no allow-list).
            "#]],
        );
    }

    #[test]
    fn seed_guest_agent_with_allow_list() {
        // The seeds' guest agents, in Hearth's words.
        check(
            r#"{"allow": ["file_read", "code_interpreter_sandbox", "knowledge_base_query"],
                "deny": ["shell_execution", "network_scrape", "system_process"]}"#,
            "read ReadFile sandbox knowledge_lookup bash run_terminal_cmd fetch ps write",
            expect![[r#"
                `read` is allowed by allow[0] `file_read`, a name of the `read` family.
                `ReadFile` is allowed by allow[0] `file_read`, a name of the `read` family.
                `sandbox` is allowed by allow[1] `code_interpreter_sandbox`, a name of the `code_interpreter` family.
                `knowledge_lookup` is allowed by allow[2] `knowledge_base_query`, a name of the `memory_search` family.
                `bash` is denied by deny[0] `shell_execution`, a name of the `exec` family.
                `run_terminal_cmd` is denied by deny[0] `shell_execution`, a name of the `exec` family.
                `fetch` is denied by deny[1] `network_scrape`, a name of the `web_fetch` family.
                `ps` is denied by deny[2] `system_process`, a name of the `process` family.
                `write` is not allowed: it is not in the allow-list.
            "#]],
        );
    }

    #[test]
    fn deny_wins_over_allow_and_profile() {
        check(
            r#"{"profile": "coding", "allow": ["web_search", "bash"], "deny": ["group:web", "exec"]}"#,
            "web_search bash read",
            expect![[r#"
                `web_search` is denied by deny[0] `group:web`, which includes the `web_search` family.
                `bash` is denied by deny[1] `exec`, a name of the `exec` family.
                `read` is allowed by profile coding (`group:fs`), which includes the `read` family.
            "#]],
        );
    }

    #[test]
    fn names_ignore_case_dashes_and_underscores() {
        check(
            r#"{"deny": ["BASH", "Web-Fetch", "my_tool"]}"#,
            "bash Shell WebFetch web-fetch MY-TOOL MyTool mytool my_tool2",
            expect![[r#"
                `bash` is denied by deny[0] `BASH`.
                `Shell` is denied by deny[0] `BASH`, a name of the `exec` family.
                `WebFetch` is denied by deny[1] `Web-Fetch`.
                `web-fetch` is denied by deny[1] `Web-Fetch`.
                `MY-TOOL` is denied by deny[2] `my_tool`.
                `MyTool` is denied by deny[2] `my_tool`.
                `mytool` is denied by deny[2] `my_tool`.
                `my_tool2` is allowed by default (no profile and no allow-list).
            "#]],
        );
    }

    #[test]
    fn wildcards() {
        check(
            r#"{"allow": ["web_*", "GET-*"], "deny": ["*shell*"]}"#,
            "web_search fetch browser get_weather Get-Time bash kill_shell my_shell_tool website",
            expect![[r#"
                `web_search` is allowed by allow[0] `web_*`.
                `fetch` is allowed by allow[0] `web_*`, which matches `web_fetch` of the `web_fetch` family.
                `browser` is allowed by allow[0] `web_*`, which matches `web_browser` of the `browser` family.
                `get_weather` is allowed by allow[1] `GET-*`.
                `Get-Time` is allowed by allow[1] `GET-*`.
                `bash` is denied by deny[0] `*shell*`, which matches `shell` of the `exec` family.
                `kill_shell` is denied by deny[0] `*shell*`.
                `my_shell_tool` is denied by deny[0] `*shell*`.
                `website` is not allowed: it is not in the allow-list.
            "#]],
        );
        check(
            r#"{"deny": ["*"]}"#,
            "read anything",
            expect![[r#"
                `read` is denied by deny[0] `*`.
                `anything` is denied by deny[0] `*`.
            "#]],
        );
    }

    #[test]
    fn a_deny_pattern_covers_every_spelling_of_a_name_it_matches() {
        // Found by the policy leak test: `vault_*` denied `vault_read` but not `VaultRead` or
        // `vaultread`, which name the same tool (names ignore case, `-` and `_`).
        check(
            r#"{"deny": ["vault_*", "*-secret"]}"#,
            "vault_read VaultRead vaultread VAULT-READ ＶａｕｌｔＲｅａｄ vault getSecret get_secret secret",
            expect![[r#"
                `vault_read` is denied by deny[0] `vault_*`.
                `VaultRead` is denied by deny[0] `vault_*`.
                `vaultread` is denied by deny[0] `vault_*`.
                `VAULT-READ` is denied by deny[0] `vault_*`.
                `ＶａｕｌｔＲｅａｄ` is denied by deny[0] `vault_*`.
                `vault` is allowed by default (no profile and no allow-list).
                `getSecret` is denied by deny[1] `*-secret`.
                `get_secret` is denied by deny[1] `*-secret`.
                `secret` is allowed by default (no profile and no allow-list).
            "#]],
        );
        // An allow pattern stays as strict as it was written.
        check(
            r#"{"allow": ["web_*"]}"#,
            "web_search website",
            expect![[r#"
                `web_search` is allowed by allow[0] `web_*`.
                `website` is not allowed: it is not in the allow-list.
            "#]],
        );
    }

    #[test]
    fn groups() {
        check(
            r#"{"allow": ["group:fs", "group:memory"], "deny": ["group:runtime"]}"#,
            "read str_replace apply_patch grep knowledge_base_query exec bash_output code_interpreter session_status",
            expect![[r#"
                `read` is allowed by allow[0] `group:fs`, which includes the `read` family.
                `str_replace` is allowed by allow[0] `group:fs`, which includes the `edit` family.
                `apply_patch` is allowed by allow[0] `group:fs`, which includes the `apply_patch` family.
                `grep` is allowed by allow[0] `group:fs`, which includes the `grep` family.
                `knowledge_base_query` is allowed by allow[1] `group:memory`, which includes the `memory_search` family.
                `exec` is denied by deny[0] `group:runtime`, which includes the `exec` family.
                `bash_output` is denied by deny[0] `group:runtime`, which includes the `process` family.
                `code_interpreter` is not allowed: it is not in the allow-list.
                `session_status` is not allowed: it is not in the allow-list.
            "#]],
        );
    }

    #[test]
    fn unrelated_tools_stay_out_of_runtime_and_web() {
        check(
            r#"{"deny": ["group:runtime", "group:web", "group:ui"]}"#,
            "code_interpreter_sandbox knowledge_base_query session_status search read_url computer",
            expect![[r#"
                `code_interpreter_sandbox` is allowed by default (no profile and no allow-list).
                `knowledge_base_query` is allowed by default (no profile and no allow-list).
                `session_status` is allowed by default (no profile and no allow-list).
                `search` is allowed by default (no profile and no allow-list).
                `read_url` is denied by deny[1] `group:web`, which includes the `web_fetch` family.
                `computer` is denied by deny[2] `group:ui`, which includes the `computer` family.
            "#]],
        );
    }

    #[test]
    fn allow_list_without_profile_is_the_whole_list() {
        check(
            r#"{"allow": ["read", "slack"]}"#,
            "read Slack write session_status",
            expect![[r#"
                `read` is allowed by allow[0] `read`.
                `Slack` is allowed by allow[1] `slack`.
                `write` is not allowed: it is not in the allow-list.
                `session_status` is not allowed: it is not in the allow-list.
            "#]],
        );
    }

    #[test]
    fn profiles_and_allow_adding_to_them() {
        check(
            r#"{"profile": "minimal"}"#,
            "session_status read",
            expect![[r#"
                `session_status` is allowed by profile minimal (`session_status`).
                `read` is not allowed: profile minimal does not include it and no allow entry covers it.
            "#]],
        );
        check(
            r#"{"profile": "messaging", "allow": ["slack", "web_search"]}"#,
            "send_message sessions_send sessions_spawn slack websearch bash",
            expect![[r#"
                `send_message` is allowed by profile messaging (`group:messaging`), which includes the `message` family.
                `sessions_send` is allowed by profile messaging (`sessions_send`).
                `sessions_spawn` is not allowed: profile messaging does not include it and no allow entry covers it.
                `slack` is allowed by allow[0] `slack`.
                `websearch` is allowed by allow[1] `web_search`.
                `bash` is not allowed: profile messaging does not include it and no allow entry covers it.
            "#]],
        );
        check(
            r#"{"profile": "coding"}"#,
            "Bash analyze_image sandbox browser slack",
            expect![[r#"
                `Bash` is allowed by profile coding (`group:runtime`), which includes the `exec` family.
                `analyze_image` is allowed by profile coding (`image`), a name of the `image` family.
                `sandbox` is allowed by profile coding (`code_interpreter`), a name of the `code_interpreter` family.
                `browser` is not allowed: profile coding does not include it and no allow entry covers it.
                `slack` is not allowed: profile coding does not include it and no allow entry covers it.
            "#]],
        );
        check(
            r#"{"profile": "full", "deny": ["cron"]}"#,
            "bash anything schedule",
            expect![[r#"
                `bash` is allowed by profile full.
                `anything` is allowed by profile full.
                `schedule` is denied by deny[0] `cron`, a name of the `cron` family.
            "#]],
        );
    }

    #[test]
    fn diagnostics() {
        check_diagnostics(
            r#"{"allow": ["group:fss", " "], "deny": ["group:webb", "group:x", "", "GROUP:Run-Time"]}"#,
            expect![[r#"
                error at agents[1].tools.allow[0]: unknown tool group `group:fss`; did you mean `group:fs`?
                error at agents[1].tools.allow[1]: empty tool name; write a tool name, `group:NAME` or a `*` pattern, or remove it
                error at agents[1].tools.deny[0]: unknown tool group `group:webb`; did you mean `group:web`?
                error at agents[1].tools.deny[1]: unknown tool group `group:x`; known groups: group:runtime, group:fs, group:web, group:ui, group:messaging, group:sessions, group:memory, group:automation, group:nodes
                error at agents[1].tools.deny[2]: empty tool name; write a tool name, `group:NAME` or a `*` pattern, or remove it
                rejected
            "#]],
        );
        check_diagnostics(
            r#"{"profile": "coding", "allow": ["bash", "group:web", "web_*", "group:ui", "read"],
                "deny": ["group:runtime", "web_search", "*fetch*", "browser"]}"#,
            expect![[r#"
                warning at agents[1].tools.allow[0]: `bash` is denied anyway by deny[0] `group:runtime`; deny wins over allow; drop one of the two entries
                warning at agents[1].tools.allow[1]: `group:web` is denied anyway: the deny list covers each of its families; deny wins over allow; drop one of the two entries
                compiled
            "#]],
        );
        check_diagnostics(
            r#"{"allow": ["web_*", "*"], "deny": ["*_*"]}"#,
            expect![[r#"
                warning at agents[1].tools.allow[0]: `web_*` is denied anyway by deny[0] `*_*`; deny wins over allow; drop one of the two entries
                compiled
            "#]],
        );
        check_diagnostics(
            r#"{"profile": "minimal", "deny": ["session_status"]}"#,
            expect![[r#"
                compiled
            "#]],
        );
    }

    /// The verdict with how the entry matched left out: names of one family may be reached
    /// differently (`bash` by name, `shell` through its family) by the same entry.
    fn entry_only(verdict: Verdict) -> Verdict {
        let strip = |rule| match rule {
            Rule::Allow { index, entry, .. } => Rule::Allow {
                index,
                entry,
                via: Via::Name,
            },
            Rule::Deny { index, entry, .. } => Rule::Deny {
                index,
                entry,
                via: Via::Name,
            },
            Rule::Profile { profile, entry, .. } => Rule::Profile {
                profile,
                entry,
                via: Via::Name,
            },
            everything @ Rule::Everything { .. } => everything,
        };
        match verdict {
            Verdict::Allowed { by } => Verdict::Allowed { by: strip(by) },
            Verdict::Denied { by } => Verdict::Denied { by: strip(by) },
            not_allowed @ Verdict::NotAllowed { .. } => not_allowed,
        }
    }

    #[test]
    fn every_name_of_a_family_gets_the_same_decision() {
        let policies = [PUBLIC, r#"{"profile": "coding", "deny": ["*shell*"]}"#];
        for tools in policies {
            let policy = policy(tools);
            for family in known_families() {
                let canonical = entry_only(policy.decide(family.name()).verdict);
                for name in family.names {
                    let verdict = entry_only(policy.decide(name).verdict);
                    assert_eq!(verdict, canonical, "{tools}: {name}");
                }
            }
        }
    }

    #[test]
    fn effective_policy_and_privilege() {
        let public =
            policy(r#"{"profile": "messaging", "deny": ["group:runtime", "sessions_send"]}"#);
        expect![[r#"
            profile: messaging
            families:
              exec               denied by deny[0] `group:runtime`, which includes the `exec` family
              process            denied by deny[0] `group:runtime`, which includes the `process` family
              read               not allowed: profile messaging does not include it and no allow entry covers it
              write              not allowed: profile messaging does not include it and no allow entry covers it
              edit               not allowed: profile messaging does not include it and no allow entry covers it
              apply_patch        not allowed: profile messaging does not include it and no allow entry covers it
              ls                 not allowed: profile messaging does not include it and no allow entry covers it
              glob               not allowed: profile messaging does not include it and no allow entry covers it
              grep               not allowed: profile messaging does not include it and no allow entry covers it
              delete_file        not allowed: profile messaging does not include it and no allow entry covers it
              web_search         not allowed: profile messaging does not include it and no allow entry covers it
              web_fetch          not allowed: profile messaging does not include it and no allow entry covers it
              browser            not allowed: profile messaging does not include it and no allow entry covers it
              canvas             not allowed: profile messaging does not include it and no allow entry covers it
              computer           not allowed: profile messaging does not include it and no allow entry covers it
              message            allowed by profile messaging (`group:messaging`), which includes the `message` family
              sessions_list      allowed by profile messaging (`sessions_list`)
              sessions_history   allowed by profile messaging (`sessions_history`)
              sessions_send      denied by deny[1] `sessions_send`
              sessions_spawn     not allowed: profile messaging does not include it and no allow entry covers it
              session_status     allowed by profile messaging (`session_status`)
              memory_search      not allowed: profile messaging does not include it and no allow entry covers it
              memory_get         not allowed: profile messaging does not include it and no allow entry covers it
              memory_write       not allowed: profile messaging does not include it and no allow entry covers it
              cron               not allowed: profile messaging does not include it and no allow entry covers it
              gateway            not allowed: profile messaging does not include it and no allow entry covers it
              nodes              not allowed: profile messaging does not include it and no allow entry covers it
              image              not allowed: profile messaging does not include it and no allow entry covers it
              code_interpreter   not allowed: profile messaging does not include it and no allow entry covers it
            groups:
              group:runtime      none allowed
              group:fs           none allowed
              group:web          none allowed
              group:ui           none allowed
              group:messaging    all allowed
              group:sessions     partly: sessions_list, sessions_history, session_status allowed
              group:memory       none allowed
              group:automation   none allowed
              group:nodes        none allowed
            other tools: not allowed unless an allow entry covers them and no deny entry does"#]]
        .assert_eq(&public.effective().to_string());

        let privileges: Vec<String> = [
            r#"{}"#,
            r#"{"profile": "full"}"#,
            r#"{"profile": "coding"}"#,
            r#"{"profile": "messaging"}"#,
            r#"{"profile": "minimal"}"#,
            r#"{"allow": ["slack"]}"#,
            PUBLIC,
        ]
        .iter()
        .map(|tools| format!("{:>2} {tools}", policy(tools).privilege()))
        .collect();
        expect![[r#"
            29 {}
            29 {"profile": "full"}
            20 {"profile": "coding"}
             5 {"profile": "messaging"}
             1 {"profile": "minimal"}
             0 {"allow": ["slack"]}
            24 {"deny": ["bash", "process", "web_search", "web_fetch", "browser"]}
        "#]]
        .assert_eq(&(privileges.join("\n") + "\n"));
    }

    #[test]
    fn effective_policy_serializes() {
        let effective = policy(r#"{"profile": "minimal", "deny": ["bash"]}"#).effective();
        let json = serde_json::to_value(&effective).unwrap();
        expect![[r#"
            {"family":"exec","names":["exec","bash","shell","sh","zsh","powershell","cmd","terminal","shell_exec","shell_execution","shell_command","exec_command","execute_command","execute_bash","run_command","run_shell","run_shell_command","run_terminal_cmd","run_terminal_command","local_shell"],"groups":["group:runtime"],"allowed":false,"verdict":"denied","by":{"rule":"deny","index":0,"entry":"bash","via":{"via":"family","family":"exec"}}}
            {"family":"session_status","names":["session_status","sessions_status"],"groups":["group:sessions"],"allowed":true,"verdict":"allowed","by":{"rule":"profile","profile":"minimal","entry":"session_status","via":{"via":"name"}}}
            {"group":"group:runtime","allowed":[],"notAllowed":["exec","process"]}
        "#]]
        .assert_eq(&format!(
            "{}\n{}\n{}\n",
            json["families"][0], json["families"][20], json["groups"][0]
        ));
    }
}
