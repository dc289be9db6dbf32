//! The JSON views of the reports: each report's value with its own `format_version` before
//! its fields, and the JSON Schema of each (`schemas/*.schema.json`, generated from the same
//! types, so the two cannot drift). A format's major version changes only when a key is
//! removed or changes meaning; adding keys raises the minor version.

use schemars::JsonSchema;
use serde::Serialize;

use crate::apply::MigrationStatus;
use crate::cutover::Outcome;
use crate::verify::Report;

/// The format of `status --json`.
pub const STATUS_FORMAT_VERSION: &str = "1.0";
/// The format of `verify --json`.
pub const VERIFY_FORMAT_VERSION: &str = "1.0";
/// The format of `cutover --json` and `rollback --json` (one outcome, with its direction).
pub const CUTOVER_FORMAT_VERSION: &str = "1.0";

/// The format of `destroy --json`.
pub const DESTROY_FORMAT_VERSION: &str = "1.0";

/// The format of `init --report --json`.
pub const INIT_REPORT_FORMAT_VERSION: &str = "1.0";

/// A report as its JSON view shows it.
#[derive(Serialize, JsonSchema)]
struct Versioned<T> {
    /// The version of this output's format, "major.minor": a reader of major version N reads
    /// every N.x.
    format_version: &'static str,
    #[serde(flatten)]
    report: T,
}

/// `report` as pretty JSON, with `format_version` first.
pub(super) fn versioned(format_version: &'static str, report: &impl Serialize) -> String {
    let view = Versioned {
        format_version,
        report,
    };
    crate::quote::json_pretty(&view).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The JSON Schema of each report's JSON view, pretty-printed, by file name under `schemas/`.
pub fn report_schemas() -> [(&'static str, String); 9] {
    [
        (
            "status.schema.json",
            schema::<MigrationStatus>(
                "Status",
                "`kafka-migrate status --json`: where a migration stands.",
                None,
            ),
        ),
        (
            "verify.schema.json",
            schema::<Report>(
                "VerifyReport",
                "`kafka-migrate verify --json`: every cutover check and the verdict.",
                None,
            ),
        ),
        (
            "cutover.schema.json",
            schema::<Outcome>(
                "CutoverOutcome",
                "`kafka-migrate cutover --json`: how the cutover ended.",
                Some("cutover"),
            ),
        ),
        (
            "rollback.schema.json",
            schema::<Outcome>(
                "RollbackOutcome",
                "`kafka-migrate rollback --json`: how the rollback ended.",
                Some("rollback"),
            ),
        ),
        ("apply-events.schema.json", super::apply_events_schema()),
        (
            "destroy.schema.json",
            schema::<crate::ops::destroy::Destroyed>(
                "DestroyOutcome",
                "`kafka-migrate destroy --json`: what was removed from the target and what was refused.",
                None,
            ),
        ),
        (
            "init-report.schema.json",
            schema::<crate::ops::report::InitReport>(
                "InitReport",
                "`kafka-migrate init --report --json`: the source's topics, sizes, throughput and clients, and the MSK brokers recommended for them.",
                None,
            ),
        ),
        (
            "offsets-translate.schema.json",
            schema::<crate::ops::offsets::OffsetsReport>(
                "OffsetsTranslation",
                "`kafka-migrate offsets translate --json`: where source positions kept outside Kafka land on the target, and how that was found.",
                None,
            ),
        ),
        (
            "offset-map.schema.json",
            schema::<crate::state::offset_map::MapFile>(
                "OffsetMap",
                "`kafka-migrate export offset-map`: per partition, where each replicated source record landed on the target (runs of consecutive offsets), read back by `offsets translate --map`.",
                None,
            ),
        ),
    ]
}

/// The schema of `Versioned<T>`, titled and described; `direction`, when given, is the only
/// value the outcome's `direction` takes.
fn schema<T: JsonSchema>(title: &str, description: &str, direction: Option<&str>) -> String {
    // What is printed: a key skipped when empty is not required.
    let mut schema = schemars::generate::SchemaSettings::default()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<Versioned<T>>();
    schema.insert("title".into(), title.into());
    schema.insert("description".into(), description.into());
    if let Some(direction) = direction {
        if let Some(properties) = schema
            .get_mut("properties")
            .and_then(serde_json::Value::as_object_mut)
        {
            properties.insert(
                "direction".into(),
                serde_json::json!({
                    "description": "Which way the switch goes.",
                    "const": direction,
                }),
            );
        }
        if let Some(defs) = schema
            .get_mut("$defs")
            .and_then(serde_json::Value::as_object_mut)
        {
            defs.remove("Direction");
        }
    }
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
