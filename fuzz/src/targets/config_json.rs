//! The configuration reader: `hearth.json` text through `validate_str` (JSON syntax, the shape
//! check against the schema, serde, the cross-references), as `store::load` reads it. A valid
//! document stays valid when validated again from its parsed form.

use std::path::PathBuf;

use hearth_core::config::{Environment, validate::parse, validate_str, validate_value};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = Environment {
        data_dir: PathBuf::from("/nonexistent/hearth-fuzz/data"),
        home: Some(PathBuf::from("/nonexistent/hearth-fuzz/home")),
    };
    let verdict = validate_str(text, &env);
    if verdict.is_ok() {
        let document = parse(text).expect("a valid configuration parses");
        assert!(
            validate_value(&document, &env).is_ok(),
            "validation is not stable"
        );
    }
}
