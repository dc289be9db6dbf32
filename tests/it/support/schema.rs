//! The JSON a command printed, checked against its JSON Schema in `schemas/` (the schemas
//! users are pointed to).

use std::path::Path;

/// Asserts that `json` is valid under `schemas/{file}`, naming every violation.
pub fn assert_valid(file: &str, json: &serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{file} is not a valid schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(json)
        .map(|e| format!("{e} (at {})", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "output not valid under schemas/{file}: {errors:#?}\n{json:#}"
    );
}

/// Runs `kafka-migrate -c config ARGS` (a command with `--json`): its exit code and the JSON it
/// printed, checked against `schemas/{file}`.
pub fn run_json(config: &Path, args: &[&str], file: &str) -> (Option<i32>, serde_json::Value) {
    let out = super::kafka_migrate(config).args(args).output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_valid(file, &json);
    (out.status.code(), json)
}
