//! How tool names and `*` patterns compare: the two normal forms and the glob match. Both
//! start from [`fold`], so a name a model dresses up — fullwidth `ｂａｓｈ`, `baſh`, `bash` with
//! a zero-width character or U+FEFF inside — is the name an agent framework would run.

use unicode_normalization::UnicodeNormalization as _;

/// Unicode compatibility folding (NFKC: fullwidth and other compatibility forms become their
/// plain letters, `ſ` becomes `s`), without the characters a name cannot visibly hold and a
/// framework may drop before it dispatches: format characters (zero-width spaces and joiners,
/// U+FEFF, the soft hyphen, bidirectional controls), control characters and white space.
pub(crate) fn fold(name: &str) -> String {
    name.nfkc().filter(|c| !is_invisible(*c)).collect()
}

/// The tool a model's call names, as a framework dispatches it: [`fold`]ed, and without a
/// namespace prefix (`functions.bash`, `tools/bash`, `default_api:bash` are `bash`). Empty when
/// nothing is left, which no policy allows.
pub fn called(name: &str) -> String {
    let folded = fold(name);
    match folded.rfind(['.', '/', ':']) {
        Some(at) => folded[at + 1..].to_owned(),
        None => folded,
    }
}

/// Unicode's format characters (category Cf) that occur in text, control characters and
/// white space.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// The form `*` patterns are matched in: folded, lowercase, `-` read as `_`.
pub(crate) fn snake(name: &str) -> String {
    fold(name).to_lowercase().replace('-', "_")
}

/// The form names are compared in: folded, lowercase with `-` and `_` dropped, so `WebFetch`,
/// `web_fetch` and `web-fetch` are one name.
pub(crate) fn key(name: &str) -> String {
    fold(name)
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// In a pattern, one character, whatever it is. Never in a name or a [`snake`] pattern: [`fold`]
/// drops control characters.
const ANY_ONE: u8 = 0;

/// A [`snake`] pattern in the form names compare in ([`key`]): without `_`, and a `*` that had
/// a `_` beside it must match at least one character, so `vault_*` covers `vaultread` but not
/// `vault`.
pub(crate) fn key_pattern(snake: &str) -> String {
    let chars: Vec<char> = snake.chars().collect();
    let mut pattern = String::new();
    for (at, &c) in chars.iter().enumerate() {
        match c {
            '_' => {}
            '*' => {
                let beside = (at > 0 && chars[at - 1] == '_') || chars.get(at + 1) == Some(&'_');
                if beside {
                    pattern.push(char::from(ANY_ONE));
                }
                pattern.push('*');
            }
            other => pattern.push(other),
        }
    }
    pattern
}

/// Whether `pattern` (in [`snake`] or [`key_pattern`] form, `*` for any run of characters)
/// matches all of `text`. A `*` inside `text` is an ordinary character, which makes this also answer
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
            // ANY_ONE takes one byte; the `*` after it takes the rest of a wide character.
            Some(&c) if c == text[t] || c == ANY_ONE => {
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
    fn names_dressed_up_by_a_model_are_the_names_a_framework_runs() {
        for dressed in [
            "bash\u{FEFF}",
            "ba\u{200B}sh",
            "\u{202E}bash",
            "ｂａｓｈ",
            "baſh",
            "functions.bash",
            "tools/bash",
            "default_api:bash",
            "functions.ｂａｓｈ\u{FEFF}",
            " bash\n",
        ] {
            assert_eq!(called(dressed), "bash", "{dressed:?}");
            assert_eq!(key(&called(dressed)), "bash", "{dressed:?}");
        }
        assert_eq!(called("functions."), "");
        assert_eq!(called("\u{FEFF}"), "");
        assert_eq!(snake("ＷＥＢ－ｆｅｔｃｈ"), "web_fetch");
    }

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
        // Patterns in the form names compare in.
        let cases = [
            ("vault_*", "vaultread", true),
            ("vault_*", "vault", false),
            ("*_secret", "getsecret", true),
            ("*_secret", "secret", false),
            ("*shell*", "myshelltool", true),
            ("*shell*", "shell", true),
            ("web_*_tool", "webxtool", true),
            ("web_*_tool", "webtool", false),
            ("vault_*", "vaulté", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob(&key_pattern(pattern), text),
                expected,
                "{pattern} vs {text}"
            );
        }
    }
}
