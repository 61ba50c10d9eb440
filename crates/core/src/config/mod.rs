//! The configuration: the file's serde types (`file`), the shape check against the published
//! JSON Schema (`shape`), the validate step into runtime types (`validate`, `model`) and
//! persistence (`store`).

pub mod diagnostic;
pub mod duration;
pub mod file;

pub use diagnostic::{Diagnostic, JsonPath, Severity};
pub use duration::DurationSpec;
pub use file::ConfigFile;
