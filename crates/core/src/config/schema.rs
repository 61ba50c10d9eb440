//! The JSON Schema of `hearth.json`, generated from the file types. `hearth config schema`
//! prints it; the shape check walks it, so what the schema says is what Hearth accepts.

use std::sync::OnceLock;

use serde_json::Value;

use super::file::ConfigFile;

/// The published schema (draft 2020-12), built once.
pub fn json_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = schemars::schema_for!(ConfigFile).to_value();
        if let Some(object) = schema.as_object_mut() {
            object.insert(
                "$id".to_owned(),
                Value::String("https://hearth.app/schema/hearth.json".to_owned()),
            );
        }
        schema
    })
}
