//! How tool names and `*` patterns compare: the two normal forms and the glob match.

/// The form `*` patterns are matched in: trimmed, lowercase, `-` read as `_`.
pub(crate) fn snake(name: &str) -> String {
    name.trim().to_lowercase().replace('-', "_")
}

/// The form names are compared in: lowercase with `-` and `_` dropped, so `WebFetch`,
/// `web_fetch` and `web-fetch` are one name.
pub(crate) fn key(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `pattern` (in [`snake`] form, `*` for any run of characters) matches all of
/// `text`. A `*` inside `text` is an ordinary character, which makes this also answer
/// "does pattern A cover every name pattern B can match" when B is passed as `text`.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    // Classic two-cursor match; on a mismatch, let the last `*` swallow one more byte.
    // Byte-wise is sound for UTF-8: a literal run matches only on character boundaries.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    star = Some((star_p, star_t + 1));
                    p = star_p + 1;
                    t = star_t + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        assert_eq!(snake(" Web-Fetch "), "web_fetch");
        assert_eq!(key("WebFetch"), key("web-fetch"));
        assert_eq!(key("WebFetch"), key("web_fetch"));
        assert_ne!(key("web_fetch"), key("web_search"));
    }

    #[test]
    fn glob_matches() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("web_*", "web_search", true),
            ("web_*", "web", false),
            ("web_*", "websearch", false),
            ("*shell*", "run_shell_command", true),
            ("*shell*", "bash", false),
            ("*_exec", "shell_exec", true),
            ("*_exec", "shell_execution", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXcYb", false),
            ("bash", "bash", true),
            ("bash", "bash2", false),
            ("*é*", "café", true),
            // a pattern as text: `*_*` covers everything `web_*` can match
            ("*_*", "web_*", true),
            ("web_*", "*", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(glob(pattern, text), expected, "{pattern} vs {text}");
        }
    }
}
