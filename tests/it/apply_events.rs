//! `apply --json` as a scheduler reads it: one JSON object per line, each valid under
//! `schemas/apply-events.schema.json`, from the plan to the group sync; a fresh plan it cannot
//! ask about is refused before anything is done.

use kafka_harness::{data, shared};

use crate::support::schema::assert_valid;
use crate::support::{kafka_migrate, migration_file};

/// The events `apply ARGS` printed, each checked against the schema: exit code and events.
fn events(config: &std::path::Path, args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>) {
    let out = kafka_migrate(config).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let events = stdout
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!(
                    "a line of apply --json is not JSON ({e}): {line}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
            assert_valid("apply-events.schema.json", &event);
            event
        })
        .collect();
    (out.status.code(), events)
}

fn kinds(events: &[serde_json::Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["event"].as_str()).collect()
}

#[tokio::test]
async fn apply_json_writes_one_valid_event_per_line_from_the_plan_to_the_group_sync() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("events").replace('-', "_");
    let topic = format!("{p}.orders");
    data::create_topic(&source.admin_config(), &topic, 2, 1, &[])
        .await
        .unwrap();
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(100, 2),
    )
    .await
    .unwrap();
    let group = format!("{p}-app");
    data::commit_offsets(
        &source.admin_config(),
        &group,
        &[(topic.as_str(), 0, 10), (topic.as_str(), 1, 20)],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "");

    // A fresh plan with changes needs --auto-approve: refused after the plan, nothing applied.
    let (code, refused) = events(&config, &["apply", "--json"]);
    assert_eq!(code, Some(1));
    assert_eq!(kinds(&refused), ["planned"]);
    let (_, plan) =
        crate::support::schema::run_json(&config, &["plan", "--json"], "plan.schema.json");
    assert!(
        plan["actions"].as_array().is_some_and(|a| !a.is_empty()),
        "the refused apply changed the target: {plan:#}"
    );

    let (code, events) = events(
        &config,
        &["apply", "--json", "--auto-approve", "--until-synced"],
    );
    assert_eq!(code, Some(0));
    let kinds = kinds(&events);
    for e in &events {
        assert_eq!(e["format_version"], "1.0");
    }
    // In order: the plan, each action, the metadata, the engine, its end, the groups.
    let at = |kind: &str| {
        kinds
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_else(|| panic!("no {kind} event in {kinds:?}"))
    };
    assert_eq!(at("planned"), 0);
    assert!(at("applied") < at("metadata"));
    assert!(at("metadata") < at("started"));
    assert!(at("started") < at("stopped"));
    assert!(at("stopped") < at("group_sync"));
    let created = events.iter().any(|e| {
        e["event"] == "applied"
            && e["type"] == "create_topic"
            && e["description"]
                .as_str()
                .is_some_and(|d| d.contains(&topic))
    });
    assert!(created, "no create_topic event for {topic}: {events:#?}");
    let started = &events[at("started")];
    assert_eq!(started["engine"], "replicate");
    assert_eq!(started["partitions"], 2);
    let stopped = &events[at("stopped")];
    assert_eq!(stopped["caught_up"], true);
    assert_eq!(stopped["records"], 100);
    let synced = &events[at("group_sync")];
    assert_eq!(synced["group"], group.as_str());
    assert_eq!(synced["committed"], 2);
}
