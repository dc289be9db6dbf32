//! `destroy` on real clusters: after a mistaken migration, it removes the migration's
//! progress topic and the topics it created that hold nothing but its records, and refuses —
//! naming each — a topic it selects that only the target has (with a record of its own) and
//! one an application wrote to after the migration's records.

use kafka_harness::{data, shared};

use crate::support::{
    apply_until_synced, kafka_migrate, migration_file, target_topics, topic_with_records,
};

#[tokio::test]
async fn destroy_removes_only_what_holds_nothing_but_the_migrations_records() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("destroy").replace('-', "_");
    let (own, empty, written, before) = (
        format!("{p}.own"),
        format!("{p}.empty"),
        format!("{p}.written"),
        format!("{p}.target_only"),
    );
    topic_with_records(source, &own, 20).await;
    topic_with_records(source, &written, 20).await;
    data::create_topic(&source.admin_config(), &empty, 1, 1, &[])
        .await
        .unwrap();
    // Only on the target, with a record of its own: the migration never wrote to it.
    topic_with_records(target, &before, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "acls { sync = false }");
    apply_until_synced(&config);
    // An application writes to the target after the migration's records.
    data::produce(
        &target.admin_config(),
        &written,
        &data::sample_records(3, 1),
    )
    .await
    .unwrap();
    let progress = format!("kafka-migrate.{p}.progress");
    assert!(target_topics().contains(&progress));

    // Not on a terminal and not approved: nothing removed.
    let out = kafka_migrate(&config).arg("destroy").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("destroy needs confirmation, but standard input is not a terminal"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(target_topics().contains(&own));

    let (code, json) = crate::support::schema::run_json(
        &config,
        &["destroy", "--auto-approve", "--json"],
        "destroy.schema.json",
    );
    assert_eq!(code, Some(2), "{json:#}");
    assert_eq!(json["removed"], true, "{json:#}");
    let refused: Vec<(String, String)> = crate::support::pairs(&json["topics"], "topic", "reason")
        .into_iter()
        .filter(|(t, _)| {
            json["topics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["topic"] == t.as_str() && r["remove"] == false)
        })
        .collect();
    assert_eq!(refused.len(), 2, "{json:#}");
    assert_eq!(
        refused[0],
        (
            before.clone(),
            "holds records the migration did not write: partition 0 holds offsets up to 1 and the migration never wrote to it".to_string()
        ),
        "{json:#}"
    );
    assert_eq!(refused[1].0, written, "{json:#}");
    assert!(
        refused[1]
            .1
            .starts_with("holds records the migration did not write: partition 0 holds offsets ")
            && refused[1]
                .1
                .ends_with("..24 after the migration's last record"),
        "{json:#}"
    );
    let now = target_topics();
    for gone in [&progress, &own, &empty] {
        assert!(!now.contains(gone), "{gone} is still on the target");
    }
    for kept in [&before, &written] {
        assert!(now.contains(kept), "{kept} was removed");
    }
}
