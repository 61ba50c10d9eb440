//! The configuration: the file's serde types (`file`), the shape check against the published
//! JSON Schema (`shape`), the validate step into runtime types (`validate`, `model`) and
//! persistence (`store`).

pub mod diagnostic;
pub mod duration;
pub mod file;
pub mod model;
pub mod schema;
pub mod setup;
pub mod shape;
pub mod store;
pub mod validate;

pub use diagnostic::{Diagnostic, JsonPath, Severity};
pub use duration::DurationSpec;
pub use file::ConfigFile;
pub use model::{Config, ModelRef};
pub use validate::{Environment, Validated, is_id, validate_str, validate_value};
