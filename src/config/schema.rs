//! The JSON Schema of the migration file and the README's HCL reference, both generated from
//! the model's types and their docs, so they cannot drift from the code.

use std::fmt::Write as _;

use serde_json::Value;

use super::Migration;

/// The JSON Schema of a migration file, pretty-printed.
pub fn migration_schema() -> String {
    let schema = schemars::schema_for!(Migration);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// The HCL reference: one table per block, generated from the JSON Schema.
pub fn hcl_reference() -> String {
    let schema: Value =
        serde_json::to_value(schemars::schema_for!(Migration)).unwrap_or(Value::Null);
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    let mut out = String::new();
    let mut queue: Vec<(String, Value)> = vec![("top level".to_string(), schema.clone())];
    let mut seen = std::collections::BTreeSet::<String>::new();
    while let Some((title, node)) = queue.pop() {
        let Some(props) = node.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let required: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "### {}\n",
            title.replace("cluster.source", "cluster \"source\" / \"target\"")
        );
        if let Some(d) = node.get("description").and_then(Value::as_str) {
            let _ = writeln!(out, "{}\n", one_line(d));
        }
        let _ = writeln!(
            out,
            "| attribute | type | default | meaning |\n|---|---|---|---|"
        );
        let mut nested = Vec::new();
        for (name, prop) in props {
            let (kind, target) = type_of(prop, &defs);
            let default = match prop.get("default") {
                Some(Value::Null) | None if required.contains(&name.as_str()) => {
                    "required".to_string()
                }
                // A block's defaults are those of its attributes, in its own table.
                Some(_) | None if kind == "block" => "optional".to_string(),
                Some(v) => format!("`{}`", compact(v)),
                None => "—".to_string(),
            };
            let meaning = prop
                .get("description")
                .and_then(Value::as_str)
                .or_else(|| {
                    target
                        .as_ref()
                        .and_then(|t| t.get("description"))
                        .and_then(Value::as_str)
                })
                .map(one_line)
                .unwrap_or_default();
            let _ = writeln!(out, "| `{name}` | {kind} | {default} | {meaning} |");
            if let Some(t) = target {
                // Each block type is documented once (cluster "target" is shaped like "source").
                if t.get("properties").is_some() && seen.insert(compact(&t)) {
                    let child = if title == "top level" {
                        name.clone()
                    } else {
                        format!("{title}.{name}")
                    };
                    nested.push((child, t));
                }
            }
        }
        out.push('\n');
        queue.extend(nested.into_iter().rev());
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A property's type for the table, and the definition it refers to (for nested blocks).
fn type_of(prop: &Value, defs: &Value) -> (String, Option<Value>) {
    let resolve = |r: &str| defs.get(r.trim_start_matches("#/$defs/")).cloned();
    if let Some(r) = prop.get("$ref").and_then(Value::as_str) {
        let target = resolve(r);
        return (describe(target.as_ref(), r), target);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = prop.get(key).and_then(Value::as_array) {
            for o in options {
                if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                    let target = resolve(r);
                    return (describe(target.as_ref(), r), target);
                }
            }
        }
    }
    let ty = match prop.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("any")
            .to_string(),
        Some(Value::String(t)) => t.clone(),
        _ => "any".to_string(),
    };
    let ty = match ty.as_str() {
        "array" => {
            let item = prop
                .get("items")
                .map(|i| type_of(i, defs).0)
                .unwrap_or_else(|| "any".into());
            format!("list of {item}")
        }
        "object" => "map of string".to_string(),
        other => other.to_string(),
    };
    (ty, None)
}

fn describe(target: Option<&Value>, reference: &str) -> String {
    let name = reference.rsplit('/').next().unwrap_or(reference);
    match target {
        Some(t) if t.get("properties").is_some() => "block".to_string(),
        Some(t) => {
            if let Some(values) = t.get("enum").and_then(Value::as_array) {
                return values
                    .iter()
                    .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(" \\| ");
            }
            if let Some(values) = t.get("oneOf").and_then(Value::as_array) {
                let names: Vec<String> = values
                    .iter()
                    .filter_map(|v| {
                        v.get("const")
                            .or_else(|| v.get("enum").and_then(|e| e.get(0)))
                            .and_then(Value::as_str)
                    })
                    .map(|s| format!("`{s}`"))
                    .collect();
                if !names.is_empty() {
                    return names.join(" \\| ");
                }
            }
            match name {
                "Duration" => "duration".into(),
                "ByteSize" => "size".into(),
                "Regex" => "regex".into(),
                "Secret" => "string (secret)".into(),
                other => other.to_string(),
            }
        }
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const START: &str = "<!-- hcl-reference:start -->\n";
    const END: &str = "<!-- hcl-reference:end -->";

    /// `readme` with the text between the reference markers replaced by `reference`.
    fn with_reference(readme: &str, reference: &str) -> String {
        let (before, rest) = readme
            .split_once(START)
            .expect("README.md has the line <!-- hcl-reference:start -->");
        let (_, after) = rest
            .split_once(END)
            .expect("README.md has the line <!-- hcl-reference:end -->");
        format!("{before}{START}{reference}{END}{after}")
    }

    /// The checked-in schema and README reference are what the code generates;
    /// `UPDATE_SCHEMAS=1 cargo test --lib config` rewrites them.
    #[test]
    fn the_schema_and_readme_reference_are_up_to_date() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let schema_path = root.join("schemas/migration.schema.json");
        let readme_path = root.join("README.md");
        let schema = super::migration_schema();
        let readme = std::fs::read_to_string(&readme_path).expect("README.md is readable");
        let wanted_readme = with_reference(&readme, &super::hcl_reference());
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(&schema_path, &schema).expect("schema written");
            if readme != wanted_readme {
                std::fs::write(&readme_path, &wanted_readme).expect("README written");
            }
            return;
        }
        let checked_in = std::fs::read_to_string(&schema_path).unwrap_or_default();
        assert!(
            checked_in == schema,
            "schemas/migration.schema.json is stale: run UPDATE_SCHEMAS=1 cargo test --lib config"
        );
        assert!(
            readme == wanted_readme,
            "README's HCL reference is stale: run UPDATE_SCHEMAS=1 cargo test --lib config"
        );
    }

    #[test]
    fn the_reference_documents_every_block_and_attribute() {
        let reference = super::hcl_reference();
        for heading in [
            "### top level",
            "### cluster \"source\" / \"target\"",
            "### cluster \"source\" / \"target\".security.sasl",
            "### cluster \"source\" / \"target\".security.tls",
            "### cluster \"source\" / \"target\".security.aws_iam",
            "### topics",
            "### topics.config",
            "### acls",
            "### consumer_groups",
            "### replication",
            "### cutover",
        ] {
            assert!(
                reference.contains(&format!("{heading}\n")),
                "{heading} missing"
            );
        }
        for row in [
            "| `name` | string | required |",
            "| `password` | string (secret) | required |",
            "| `quiet_period` | duration | `\"30s\"` |",
            "| `max_bytes_per_second` | size | — |",
            "| `delivery` | `exactly-once` \\| `at-least-once` | `\"exactly-once\"` |",
        ] {
            assert!(reference.contains(row), "{row} missing:\n{reference}");
        }
        // Every documented attribute has a meaning.
        assert!(
            !reference.contains("|  |"),
            "an attribute lacks a doc:\n{reference}"
        );
    }
}
