//! Turning values into output: terraform-style text and JSON, rendered from the same structure
//! so the two cannot disagree. Never computes what changes; only shows it.

mod apply;
mod apply_events;
mod connect;
mod cutover;
mod destroy;
mod json;
mod live;
mod offsets;
mod paint;
mod plan;
mod report;
mod status;
mod units;
mod verify;

pub use apply::{applied_line, group_synced_line, ApplyView};
pub use apply_events::{apply_events_schema, ApplyEvent, ApplyEvents};
pub use connect::{connect_step, connector_diffs};
pub use cutover::{cutover_json, cutover_text, step_line, CutoverDisplay};
pub use destroy::{destroy_json, destroy_plan_text, destroyed_line};
pub use json::{
    report_schemas, CUTOVER_FORMAT_VERSION, STATUS_FORMAT_VERSION, VERIFY_FORMAT_VERSION,
};
pub use live::{describe, note_line, summary, Display};
pub use offsets::{
    offset_map_json, offsets_in_form, offsets_json, offsets_not_translated, offsets_text,
    OFFSETS_FORMAT_VERSION,
};
pub use paint::{stderr_text, stdout_text, Paint};
pub use plan::{plan_json, plan_text, saved_plan_text, PlanView};
pub use report::{init_report_json, init_report_text};
pub use status::{status_json, status_text};
pub use verify::{
    evidence_lines, fact_line, not_ready_line, verify_json, verify_start_line, verify_text,
};

#[cfg(test)]
mod tests;
