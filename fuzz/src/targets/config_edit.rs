//! `hearth config get/set/unset` by dotted path on the default document: the input's first line
//! is the path, the rest the value as the CLI reads it. A value set is the value got; the
//! edited document is validated like any other.

use std::path::PathBuf;

use hearth_core::config::{
    Environment,
    store::{default_document, get, parse_cli_value, set, unset},
    validate_value,
};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, value) = text.split_once('\n').unwrap_or((text, ""));
    let env = Environment {
        data_dir: PathBuf::from("/nonexistent/hearth-fuzz/data"),
        home: None,
    };
    let mut document = default_document();
    let _ = get(&document, path);
    let value = parse_cli_value(value);
    if set(&mut document, path, value.clone()).is_ok() {
        assert_eq!(get(&document, path).ok(), Some(&value), "set then get");
        let _ = validate_value(&document, &env);
    }
    let mut document = default_document();
    if unset(&mut document, path).is_ok() {
        let _ = validate_value(&document, &env);
    }
}
