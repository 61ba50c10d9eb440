//! Tool-call arguments between OpenAI's JSON text and Ollama's JSON object.

use serde_json::{Map, Value};

use crate::ProtocolError;
use crate::error::excerpt;

/// How much of bad arguments an error quotes.
const EXCERPT_CHARS: usize = 60;
/// How much of a tool name an error quotes.
const NAME_CHARS: usize = 64;

/// OpenAI's argument text as the object Ollama takes.
///
/// Empty text reads as `{}` (models calling a tool without parameters send `""`), and a JSON
/// string whose content is object text is unwrapped (some models encode twice).
pub fn arguments_to_object(
    tool: &str,
    arguments: &str,
) -> Result<Map<String, Value>, ProtocolError> {
    if arguments.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(Value::String(inner)) => match serde_json::from_str::<Value>(&inner) {
            Ok(Value::Object(object)) => Ok(object),
            _ => Err(not_object(tool, "a string")),
        },
        Ok(other) => Err(not_object(tool, kind(&other))),
        Err(error) => Err(ProtocolError::ToolArgumentsNotJson {
            tool: excerpt(tool, NAME_CHARS),
            reason: error.to_string(),
            excerpt: excerpt(arguments, EXCERPT_CHARS),
        }),
    }
}

/// Ollama's argument object as the compact JSON text OpenAI sends.
pub fn arguments_to_string(arguments: Map<String, Value>) -> String {
    Value::Object(arguments).to_string()
}

fn not_object(tool: &str, found: &'static str) -> ProtocolError {
    ProtocolError::ToolArgumentsNotObject {
        tool: excerpt(tool, NAME_CHARS),
        found,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check(arguments: &str, expect: Expect) {
        let out = match arguments_to_object("get_weather", arguments) {
            Ok(object) => arguments_to_string(object),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&(out + "\n"));
    }

    #[test]
    fn arguments_text_to_object() {
        // OpenAI API reference, "Functions" response: arguments with newlines inside.
        check(
            "{\n\"location\": \"Boston, MA\"\n}",
            expect![[r#"
                {"location":"Boston, MA"}
            "#]],
        );
        check(
            "",
            expect![[r#"
                {}
            "#]],
        );
        check(
            r#""{\"city\": \"Paris\"}""#,
            expect![[r#"
                {"city":"Paris"}
            "#]],
        );
        check(
            r#"{"n": 123456789012345678901234567890}"#,
            expect![[r#"
                {"n":1.2345678901234568e+29}
            "#]],
        );
    }

    #[test]
    fn bad_arguments_are_refused_with_an_excerpt() {
        check(
            r#"{"location": "Boston"#,
            expect![[r#"
                error: the arguments of tool call `get_weather` are not valid JSON (EOF while parsing a string at line 1 column 20): "{\"location\": \"Boston"
            "#]],
        );
        check(
            &format!("{{\"text\": \"{}", "x".repeat(10_000)),
            expect![[r#"
                error: the arguments of tool call `get_weather` are not valid JSON (EOF while parsing a string at line 1 column 10010): "{\"text\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"
            "#]],
        );
        check(
            "[1, 2]",
            expect![[r#"
                error: the arguments of tool call `get_weather` must be a JSON object, not an array
            "#]],
        );
        check(
            r#""just words""#,
            expect![[r#"
                error: the arguments of tool call `get_weather` must be a JSON object, not a string
            "#]],
        );
        check(
            "null",
            expect![[r#"
                error: the arguments of tool call `get_weather` must be a JSON object, not null
            "#]],
        );
        check(
            "location=Boston",
            expect![[r#"
                error: the arguments of tool call `get_weather` are not valid JSON (expected value at line 1 column 1): "location=Boston"
            "#]],
        );
    }
}
