//! JSON Schema (draft 2020-12) validation of the files qasa reads and writes in its own formats.
//! The schemas live in `schemas/` and are compiled into the binary; each is compiled once (boon).
//!
//! A violation is reported as one location and one sentence in plain words: boon's deepest cause (the leaf
//! of its error tree at the deepest place in the document), rephrased, with the schema's `description` of
//! what belongs there. A missing field is reported at the field's own path (`/h`); where several
//! alternatives (`oneOf`) all fail at the same place, the alternatives are listed.

use boon::{ErrorKind, ValidationError};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The sweep file schema (`schemas/sweep.schema.json`).
pub const SWEEP: &str = include_str!("../schemas/sweep.schema.json");
/// The virtual QPU truth file schema (`schemas/truth.schema.json`).
pub const TRUTH: &str = include_str!("../schemas/truth.schema.json");
/// The campaign plan schema (`schemas/plan.schema.json`).
pub const PLAN: &str = include_str!("../schemas/plan.schema.json");
/// The fit result schema (`schemas/fit.schema.json`).
pub const FIT: &str = include_str!("../schemas/fit.schema.json");
/// The report file schema (`schemas/report.schema.json`).
pub const REPORT: &str = include_str!("../schemas/report.schema.json");
/// The analysis file schema (`schemas/analysis.schema.json`).
pub const ANALYSIS: &str = include_str!("../schemas/analysis.schema.json");

/// A schema violation: where in the document and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {json_path}: {reason}")]
pub struct Violation {
    /// JSON pointer into the instance (`/counts/down/3`), `/` for the root.
    pub json_path: String,
    /// What is wrong and what the schema expected, in plain words.
    pub reason: String,
}

struct Compiled {
    schemas: boon::Schemas,
    /// Compiled index and parsed schema document (for descriptions), by schema text.
    index: HashMap<&'static str, (boon::SchemaIndex, Value)>,
}

fn compiled() -> &'static Mutex<Compiled> {
    static C: OnceLock<Mutex<Compiled>> = OnceLock::new();
    C.get_or_init(|| {
        Mutex::new(Compiled {
            schemas: boon::Schemas::new(),
            index: HashMap::new(),
        })
    })
}

fn internal(reason: String) -> Violation {
    Violation {
        json_path: "/".into(),
        reason: format!("internal: {reason}"),
    }
}

/// Validates `value` against the schema text `schema` (one of the constants of this module).
pub fn validate(schema: &'static str, value: &Value) -> Result<(), Violation> {
    let mut guard = match compiled().lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let c = &mut *guard;
    if !c.index.contains_key(schema) {
        let doc: Value = serde_json::from_str(schema)
            .map_err(|e| internal(format!("embedded schema is not JSON: {e}")))?;
        let url = format!("urn:qasa:schema-{}", c.index.len());
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource(&url, doc.clone())
            .map_err(|e| internal(format!("schema: {e}")))?;
        let idx = compiler
            .compile(&url, &mut c.schemas)
            .map_err(|e| internal(format!("schema: {e}")))?;
        c.index.insert(schema, (idx, doc));
    }
    let Some((idx, doc)) = c.index.get(schema) else {
        return Err(internal("schema not compiled".into()));
    };
    match c.schemas.validate(value, *idx) {
        Ok(()) => Ok(()),
        Err(e) => Err(explain(&e, doc).1),
    }
}

fn depth(e: &ValidationError<'_, '_>) -> usize {
    e.instance_location.tokens.len()
}

fn location(e: &ValidationError<'_, '_>) -> String {
    let loc = printable(&e.instance_location.to_string());
    if loc.is_empty() {
        "/".into()
    } else {
        loc
    }
}

/// The deepest cause of `e` in plain words, with its depth in the document.
fn explain(e: &ValidationError<'_, '_>, doc: &Value) -> (usize, Violation) {
    let deepest = e.causes.iter().map(|c| explain(c, doc)).fold(
        None,
        |best: Option<(usize, Violation)>, (d, v)| match best {
            Some((bd, bv)) if bd >= d => Some((bd, bv)),
            _ => Some((d, v)),
        },
    );
    let alternatives = matches!(e.kind, ErrorKind::OneOf(None) | ErrorKind::AnyOf);
    match deepest {
        // The alternatives all fail right here: say which forms are allowed.
        Some((d, _)) if alternatives && d <= depth(e) => (
            depth(e),
            Violation {
                json_path: location(e),
                reason: none_of(e, doc),
            },
        ),
        Some(found) => found,
        None => leaf(e, doc),
    }
}

/// A leaf error in plain words.
fn leaf(e: &ValidationError<'_, '_>, doc: &Value) -> (usize, Violation) {
    let at = |reason: String| {
        (
            depth(e),
            Violation {
                json_path: location(e),
                reason,
            },
        )
    };
    match &e.kind {
        ErrorKind::Required { want } => match want.as_slice() {
            [one] => {
                let field = property(doc, e.schema_url, one);
                let mut path = location(e).trim_end_matches('/').to_string();
                path.push('/');
                path.push_str(one);
                let reason = match field.and_then(description) {
                    Some(d) => format!("this required field is missing; expected {}", lower(d)),
                    None => "this required field is missing".to_string(),
                };
                (
                    depth(e) + 1,
                    Violation {
                        json_path: path,
                        reason,
                    },
                )
            }
            many => at(format!(
                "required fields are missing: {}",
                quoted(many.iter().copied())
            )),
        },
        ErrorKind::Type { got, want } => at(with_description(
            format!(
                "expected {}, found {}",
                want.iter().map(a_type).collect::<Vec<_>>().join(" or "),
                a_type(*got)
            ),
            e,
            doc,
        )),
        ErrorKind::AdditionalProperties { got } => {
            let allowed = schema_at(doc, e.schema_url)
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|p| quoted(p.keys().map(String::as_str)));
            let unknown = quoted(got.iter().map(|g| g.as_ref()));
            at(match allowed {
                Some(a) => format!("unknown field {unknown}; the allowed fields are {a}"),
                None => format!("unknown field {unknown}"),
            })
        }
        ErrorKind::Minimum { got, want } => at(with_description(
            format!("{got} is below the minimum {want}"),
            e,
            doc,
        )),
        ErrorKind::Maximum { got, want } => at(with_description(
            format!("{got} is above the maximum {want}"),
            e,
            doc,
        )),
        ErrorKind::MinItems { got, want } => at(with_description(
            format!("needs at least {want} items, found {got}"),
            e,
            doc,
        )),
        ErrorKind::MaxItems { got, want } => at(with_description(
            format!("allows at most {want} items, found {got}"),
            e,
            doc,
        )),
        other => at(with_description(other.to_string(), e, doc)),
    }
}

/// "matches none of the allowed forms: …" for a failed `oneOf` / `anyOf`.
fn none_of(e: &ValidationError<'_, '_>, doc: &Value) -> String {
    let forms: Vec<String> = e
        .causes
        .iter()
        .filter_map(|c| schema_at(doc, c.schema_url).and_then(description))
        .map(|d| lower(d).trim_end_matches('.').to_string())
        .collect();
    let what = schema_at(doc, e.schema_url)
        .and_then(description)
        .map(|d| format!(" ({})", lower(d).trim_end_matches('.')))
        .unwrap_or_default();
    if forms.is_empty() {
        format!("matches none of the allowed forms{what}")
    } else {
        format!(
            "matches none of the allowed forms{what}: {}",
            forms.join("; ")
        )
    }
}

fn with_description(reason: String, e: &ValidationError<'_, '_>, doc: &Value) -> String {
    match schema_at(doc, e.schema_url).and_then(description) {
        Some(d) => format!("{reason}; expected {}", lower(d)),
        None => reason,
    }
}

/// The schema object a boon schema URL (`urn:qasa:schema-0#/properties/h/type`) points into, following one
/// `$ref`; keyword locations (`…/type`) resolve to the schema that holds the keyword.
fn schema_at<'d>(doc: &'d Value, url: &str) -> Option<&'d Value> {
    let fragment = url.split_once('#').map_or("", |(_, f)| f);
    let pointer = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
    let mut node = doc.pointer(&pointer)?;
    if !node.is_object() {
        // A keyword's value (`…/minimum`): its schema is one level up.
        let parent = pointer.rsplit_once('/').map_or("", |(p, _)| p);
        node = doc.pointer(parent)?;
    }
    Some(follow_ref(doc, node))
}

fn follow_ref<'d>(doc: &'d Value, node: &'d Value) -> &'d Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) if node.get("description").is_none() => r
            .strip_prefix('#')
            .and_then(|p| doc.pointer(p))
            .unwrap_or(node),
        _ => node,
    }
}

/// The schema of property `name` of the object schema at `url`.
fn property<'d>(doc: &'d Value, url: &str, name: &str) -> Option<&'d Value> {
    let obj = schema_at(doc, url)?;
    let p = obj.get("properties")?.get(name)?;
    Some(follow_ref(doc, p))
}

fn description(schema: &Value) -> Option<&str> {
    schema.get("description").and_then(Value::as_str)
}

/// First letter lower-cased (descriptions are written as sentences).
fn lower(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("\"{}\"", printable(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `s` with control characters escaped (`\n`, `\u{1}`), so that a key of the input document cannot
/// break a one-line message.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn a_type(t: boon::Type) -> &'static str {
    match t {
        boon::Type::Null => "null",
        boon::Type::Boolean => "a boolean",
        boon::Type::Number => "a number",
        boon::Type::Integer => "an integer",
        boon::Type::String => "a string",
        boon::Type::Array => "an array",
        boon::Type::Object => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sweep() -> Value {
        json!({"format": "qasa-sweep", "version": 1,
               "meta": {"source": "simulated", "tool_version": "0"},
               "h": [-0.1, 0.1], "qubits": [0, 1],
               "counts": {"down": [[1, 2], [3, 4]], "reads": {"row_constant": [10, 10]}}})
    }

    fn violation(edit: impl Fn(&mut Value)) -> Violation {
        let mut v = sweep();
        edit(&mut v);
        validate(SWEEP, &v).unwrap_err()
    }

    #[test]
    fn a_key_with_a_newline_gives_a_one_line_message() {
        let v = violation(|v| v["meta"]["bad\nkey"] = json!(1));
        let msg = v.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains("unknown field \"bad\\nkey\""), "{msg}");
        let v = violation(|v| v["counts"]["down"] = json!({"x\ny": 1}));
        assert!(!v.to_string().contains('\n'), "{v}");
    }

    #[test]
    fn a_valid_sweep_passes() {
        assert_eq!(validate(SWEEP, &sweep()), Ok(()));
    }

    #[test]
    fn violations_name_the_field_and_what_was_expected() {
        let v = violation(|v| {
            v.as_object_mut().unwrap().remove("h");
        });
        assert_eq!(v.json_path, "/h");
        assert_eq!(
            v.reason,
            "this required field is missing; expected the h grid (units of the solver's h), strictly increasing."
        );
        let v = violation(|v| v["counts"] = json!([1, 2]));
        assert_eq!(
            (v.json_path.as_str(), v.reason.as_str()),
            ("/counts", "expected an object, found an array")
        );
        let v = violation(|v| v["counts"]["down"] = json!("x"));
        assert_eq!(v.json_path, "/counts/down");
        assert!(
            v.reason.starts_with(
                "matches none of the allowed forms (a matrix of non-negative 32-bit counts"
            ) && v.reason.contains(": plain nested rows; packed: base64"),
            "{}",
            v.reason
        );
        let v = violation(|v| v["counts"]["down"][1][0] = json!(-3));
        assert_eq!(
            (v.json_path.as_str(), v.reason.as_str()),
            ("/counts/down/1/0", "-3 is below the minimum 0")
        );
        let v = violation(|v| v["meta"]["colour"] = json!("red"));
        assert_eq!(v.json_path, "/meta");
        assert!(
            v.reason
                .starts_with("unknown field \"colour\"; the allowed fields are ")
                && v.reason.contains("\"anneal_time_us\""),
            "{}",
            v.reason
        );
        let v = violation(|v| v["h"] = json!([]));
        assert!(
            v.reason
                .starts_with("needs at least 1 items, found 0; expected the h grid"),
            "{}",
            v.reason
        );
        let v = violation(|v| v["meta"]["source"] = json!("guessed"));
        assert!(v.reason.contains("must be one of"), "{}", v.reason);
        assert!(!v.to_string().contains("urn:") && !v.to_string().contains("file:"));
    }
}
