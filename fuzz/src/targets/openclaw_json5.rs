//! `hearth import openclaw`: an OpenClaw configuration (JSON5, any of its dialects) mapped onto
//! Hearth's. What the import makes is validated as `store::save_file` would, and a configuration
//! that validates as parsed also validates once written out and read back.

use std::path::PathBuf;

use hearth_core::{
    config::{Environment, validate::validate_file, validate_value},
    import::import_openclaw,
};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(imported) = import_openclaw(text) else {
        return;
    };
    let env = Environment {
        data_dir: PathBuf::from("/nonexistent/hearth-fuzz/data"),
        home: None,
    };
    let document = serde_json::to_value(&imported.config).expect("a configuration serializes");
    if validate_file(imported.config, &env).is_ok()
        && let Err(errors) = validate_value(&document, &env)
    {
        panic!("the imported configuration validates, but not once saved: {errors:?}\n{document}");
    }
}
