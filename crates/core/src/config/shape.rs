//! The shape check: walks a parsed document against the published JSON Schema and reports
//! every structural problem at once (unknown keys with the nearest known key, wrong types,
//! missing keys, values outside an enumeration), each at its JSON path.
//!
//! serde alone stops at the first problem; users fixing a file want the whole list. Walking
//! the generated schema rather than hand-written rules keeps the check, the serde types and
//! the published schema in agreement. Only the keywords schemars emits for our types are
//! understood: `$ref`, `type`, `properties`, `additionalProperties`, `required`, `items`,
//! `enum`, `const`, `oneOf`, `anyOf`, `minimum`, `maximum` and `pattern`.

use serde_json::{Map, Value};

use super::diagnostic::{Diagnostic, JsonPath, did_you_mean};

/// Every structural problem of `document` against `schema` (the root of a schema with `$defs`).
pub fn check(schema: &Value, document: &Value) -> Vec<Diagnostic> {
    check_and_prune(schema, &mut document.clone()).0
}

/// Like [`check`], and removes from `document` what it reported where that is safe: unknown
/// keys, and optional members whose own value is wrong. The `bool` says whether every problem
/// was removed that way; then what remains deserializes, and the cross-reference checks can
/// run too, so the user sees every problem in one go. A problem that cannot be removed without
/// changing the meaning of what surrounds it (a required key, an array element, a provider in
/// the map) leaves it `false`: checking cross-references then would report false cascades.
pub fn check_and_prune(schema: &Value, document: &mut Value) -> (Vec<Diagnostic>, bool) {
    let mut walker = Walker {
        root: schema,
        found: Vec::new(),
        complete: true,
    };
    if !walker.check(schema, document, &JsonPath::root()) {
        walker.complete = false;
    }
    (walker.found, walker.complete)
}

struct Walker<'a> {
    root: &'a Value,
    found: Vec<Diagnostic>,
    /// False once a problem could not be pruned away.
    complete: bool,
}

impl<'a> Walker<'a> {
    fn resolve(&self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        // A $ref chain is at most a few links long; the bound guards against a cycle.
        for _ in 0..8 {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(pointer) = reference.strip_prefix('#') else {
                break;
            };
            match self.root.pointer(pointer) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    /// Checks `value` and prunes below it; false when `value` itself is unusable (wrong type,
    /// not an allowed value, a required key missing), which only its parent can deal with.
    fn check(&mut self, schema: &'a Value, value: &mut Value, path: &JsonPath) -> bool {
        let schema = self.resolve(schema);
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            return self.check_branches(branches, value, path);
        }
        if !self.check_type(schema, value, path) {
            return false;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                self.found.push(not_one_of(value, allowed.iter(), path));
                return false;
            }
            return true;
        }
        if let Some(constant) = schema.get("const")
            && constant != value
        {
            self.found.push(not_one_of(value, [constant], path));
            return false;
        }
        let before = self.found.len();
        match value {
            Value::Object(members) => return self.check_object(schema, members, path),
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (index, item) in items.iter_mut().enumerate() {
                        // Removing an element would shift the indexes of later ones.
                        if !self.check(item_schema, item, &path.index(index)) {
                            self.complete = false;
                        }
                    }
                }
            }
            Value::Number(number) => check_range(schema, number, path, &mut self.found),
            Value::String(text) => {
                if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
                    && let Ok(regex) = regex_lite::Regex::new(pattern)
                    && !regex.is_match(text)
                {
                    let described = schema
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("a value of the documented form");
                    self.found.push(Diagnostic::error(
                        path,
                        format!(
                            "`{text}` is not valid here: expected {}",
                            lower_first(described)
                        ),
                    ));
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
        self.found.len() == before || value.is_array()
    }

    /// `anyOf`/`oneOf`: the value is fine if one branch accepts it. Otherwise, report the
    /// problems of the branch that fits best, or the list of allowed constants.
    fn check_branches(
        &mut self,
        branches: &'a [Value],
        value: &mut Value,
        path: &JsonPath,
    ) -> bool {
        let constants: Vec<&Value> = branches
            .iter()
            .filter_map(|branch| self.resolve(branch).get("const"))
            .collect();
        if constants.len() == branches.len() {
            if !constants.contains(&&*value) {
                self.found.push(not_one_of(value, constants, path));
                return false;
            }
            return true;
        }
        let mut best: Option<Vec<Diagnostic>> = None;
        for branch in branches {
            let resolved = self.resolve(branch);
            if !type_matches(resolved, value) && resolved.get("anyOf").is_none() {
                continue;
            }
            let mut inner = Walker {
                root: self.root,
                found: Vec::new(),
                complete: true,
            };
            // A trial on a copy: a branch that does not fit must not prune the value.
            let mut trial = value.clone();
            inner.check(branch, &mut trial, path);
            if inner.found.is_empty() {
                return true;
            }
            if best
                .as_ref()
                .is_none_or(|best| inner.found.len() < best.len())
            {
                best = Some(inner.found);
            }
        }
        match best {
            Some(found) => self.found.extend(found),
            None => {
                let expected = branches
                    .iter()
                    .flat_map(|branch| type_names(self.resolve(branch)))
                    .collect::<Vec<_>>();
                self.found.push(wrong_type(&expected, value, path));
            }
        }
        false
    }

    fn check_type(&mut self, schema: &Value, value: &Value, path: &JsonPath) -> bool {
        if type_matches(schema, value) {
            return true;
        }
        self.found
            .push(wrong_type(&type_names(schema), value, path));
        false
    }

    fn check_object(
        &mut self,
        schema: &'a Value,
        members: &mut Map<String, Value>,
        path: &JsonPath,
    ) -> bool {
        let properties = schema.get("properties").and_then(Value::as_object);
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut usable = true;
        for key in required.iter().copied() {
            if !members.contains_key(key) {
                self.found.push(Diagnostic::error(
                    path,
                    format!("missing required key `{key}`"),
                ));
                usable = false;
            }
        }
        let additional = schema.get("additionalProperties");
        let mut prune = Vec::new();
        for (key, member) in members.iter_mut() {
            if let Some(property) = properties.and_then(|known| known.get(key)) {
                if !self.check(property, member, &path.key(key)) {
                    if required.contains(&key.as_str()) {
                        usable = false;
                    } else {
                        prune.push(key.clone());
                    }
                }
                continue;
            }
            match additional {
                Some(Value::Bool(false)) => {
                    let known = properties
                        .map(|known| known.keys().map(String::as_str).collect::<Vec<_>>())
                        .unwrap_or_default();
                    let mut diagnostic = Diagnostic::error(path, format!("unknown key `{key}`"));
                    diagnostic.hint = did_you_mean(key, known.iter().copied()).or_else(|| {
                        (!known.is_empty()).then(|| {
                            format!(
                                "known keys here: {}",
                                known
                                    .iter()
                                    .map(|k| format!("`{k}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        })
                    });
                    self.found.push(diagnostic);
                    prune.push(key.clone());
                }
                // Dropping a map entry (a provider, an alias) would make references to it look
                // wrong too.
                Some(additional @ Value::Object(_))
                    if !self.check(additional, member, &path.key(key)) =>
                {
                    self.complete = false;
                }
                _ => {}
            }
        }
        for key in prune {
            members.shift_remove(&key);
        }
        usable
    }
}

fn type_names(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn type_matches(schema: &Value, value: &Value) -> bool {
    let names = type_names(schema);
    names.is_empty() || names.iter().any(|name| is_of_type(name, value))
}

fn is_of_type(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => true,
    }
}

fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a fractional number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    match value {
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            let mut shown = value.to_string();
            if shown.len() > 40 {
                shown.truncate(37);
                shown.push_str("...");
            }
            format!("{kind} ({shown})")
        }
        _ => kind.to_owned(),
    }
}

fn article(name: &str) -> String {
    match name {
        "object" | "array" | "integer" => format!("an {name}"),
        "null" => "null".to_owned(),
        _ => format!("a {name}"),
    }
}

fn wrong_type(expected: &[&str], value: &Value, path: &JsonPath) -> Diagnostic {
    let mut names: Vec<String> = expected
        .iter()
        .filter(|name| **name != "null")
        .map(|name| match *name {
            "integer" => "a whole number".to_owned(),
            other => article(other),
        })
        .collect();
    names.dedup();
    let expected = if names.is_empty() {
        "something else".to_owned()
    } else {
        names.join(" or ")
    };
    Diagnostic::error(
        path,
        format!("expected {expected}, found {}", describe(value)),
    )
}

fn not_one_of<'v>(
    value: &Value,
    allowed: impl IntoIterator<Item = &'v Value>,
    path: &JsonPath,
) -> Diagnostic {
    let allowed: Vec<&str> = allowed.into_iter().filter_map(Value::as_str).collect();
    let listed = allowed
        .iter()
        .map(|choice| format!("`{choice}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let shown = value
        .as_str()
        .map_or_else(|| value.to_string(), |text| format!("`{text}`"));
    let mut diagnostic = Diagnostic::error(path, format!("{shown} is not one of {listed}"));
    if let Some(text) = value.as_str() {
        diagnostic.hint = did_you_mean(text, allowed.iter().copied());
    }
    diagnostic
}

fn check_range(
    schema: &Value,
    number: &serde_json::Number,
    path: &JsonPath,
    found: &mut Vec<Diagnostic>,
) {
    let Some(value) = number.as_f64() else {
        return;
    };
    let minimum = schema.get("minimum").and_then(Value::as_f64);
    let maximum = schema.get("maximum").and_then(Value::as_f64);
    let below = minimum.is_some_and(|minimum| value < minimum);
    let above = maximum.is_some_and(|maximum| value > maximum);
    if below || above {
        let range = match (minimum, maximum) {
            (Some(minimum), Some(maximum)) => format!("from {minimum} to {maximum}"),
            (Some(minimum), None) => format!("{minimum} or more"),
            (None, Some(maximum)) => format!("{maximum} or less"),
            (None, None) => String::new(),
        };
        found.push(Diagnostic::error(
            path,
            format!("{number} is out of range: expected a number {range}"),
        ));
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
