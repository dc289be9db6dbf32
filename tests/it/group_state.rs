//! `status` per consumer group — in sync, behind, pending replication, cut over — and a group
//! that has cut over to the target is never synced again, even after its consumers leave:
//! not by the apply that saw it, nor by a later one (the cut-over is recorded).

use std::time::Duration;

use kafka_harness::{data, shared};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::Value;

use crate::support::*;

fn states(config: &std::path::Path) -> Vec<(String, String)> {
    let out = kafka_migrate(config)
        .args(["status", "--json"])
        .assert()
        .success();
    let status: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    schema::assert_valid("status.schema.json", &status);
    pairs(&status["groups"], "group", "state")
}

/// A consumer of `group` on `cluster`, subscribed to `topic` (it joins as it polls).
fn subscribed(cluster: &kafka_harness::Cluster, group: &str, topic: &str) -> BaseConsumer {
    let member: BaseConsumer = cluster
        .admin_config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    member.subscribe(&[topic]).unwrap();
    member
}

/// A member of `group` on `cluster` that joined and committed `offset` on partition 0 of
/// `topic`, as a consumer that moved there does.
fn consumed_on(
    cluster: &kafka_harness::Cluster,
    group: &str,
    topic: &str,
    offset: i64,
) -> BaseConsumer {
    let member = subscribed(cluster, group, topic);
    wait_for(
        Duration::from_secs(60),
        || "the target consumer to join its group",
        || {
            let _ = member.poll(Duration::from_millis(100));
            member.assignment().map(|a| a.count()).unwrap_or(0) > 0
        },
    );
    let mut read_to = TopicPartitionList::new();
    read_to
        .add_partition_offset(topic, 0, Offset::Offset(offset))
        .unwrap();
    member.commit(&read_to, CommitMode::Sync).unwrap();
    member
}

#[tokio::test]
async fn status_shows_each_group_state_and_a_cut_over_group_is_never_synced_again() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("gstate").replace('-', "_");
    let topic = format!("{p}.events");
    topic_with_records(source, &topic, 10).await;
    let name = |s: &str| format!("{p}-{s}");
    let (in_sync, behind, pending, moved) = (
        name("in-sync"),
        name("behind"),
        name("pending"),
        name("moved"),
    );
    for (group, offset) in [(&in_sync, 5), (&moved, 3)] {
        data::commit_offsets(&source.admin_config(), group, &[(&topic, 0, offset)]).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "acls { sync = false }");
    apply_until_synced(&config);
    assert_eq!(committed_offset(target, &moved, &topic, 0).unwrap(), 3);

    // After the apply: one group stops on the source at a replicated offset, another past
    // what is replicated, and the third moves to the target, where it consumes.
    data::commit_offsets(&source.admin_config(), &behind, &[(&topic, 0, 6)]).unwrap();
    data::produce(&source.admin_config(), &topic, &data::sample_records(5, 1))
        .await
        .unwrap();
    data::commit_offsets(&source.admin_config(), &pending, &[(&topic, 0, 14)]).unwrap();
    let member = consumed_on(target, &moved, &topic, 8);

    let expected = |moved_state: &str| {
        vec![
            (behind.clone(), "behind".to_string()),
            (in_sync.clone(), "in_sync".to_string()),
            (moved.clone(), moved_state.to_string()),
            (pending.clone(), "pending_replication".to_string()),
        ]
    };
    assert_eq!(states(&config), expected("cut_over"));
    let text = kafka_migrate(&config).arg("status").assert().success();
    let text = String::from_utf8_lossy(&text.get_output().stdout).to_string();
    assert!(text.contains("member(s) on the target"), "{text}");
    assert!(
        text.contains("Consumer groups: 1 in sync, 1 behind, 1 pending replication, 1 cut over."),
        "{text}"
    );

    // The consumer leaves the target again; the source group even moves on. The group has cut
    // over: apply leaves its offset alone, and status still says so.
    drop(member);
    data::commit_offsets(&source.admin_config(), &moved, &[(&topic, 0, 6)]).unwrap();
    let out = apply_until_synced(&config);
    assert!(
        out.contains(&format!("group \"{moved}\": cut over")),
        "{out}"
    );
    assert_eq!(committed_offset(target, &moved, &topic, 0).unwrap(), 8);
    assert_eq!(committed_offset(target, &behind, &topic, 0).unwrap(), 6);
    let after = states(&config);
    assert!(
        after.contains(&(moved.clone(), "cut_over".to_string())),
        "{after:?}"
    );
    assert!(
        after
            .iter()
            .filter(|(g, _)| *g != moved)
            .all(|(_, s)| s == "in_sync"),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_group_that_cut_over_while_apply_ran_is_not_synced_when_it_ends() {
    use rdkafka::producer::Producer;
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("gfinal").replace('-', "_");
    let topic = format!("{p}.events");
    let group = format!("{p}-moving");
    topic_with_records(source, &topic, 10).await;
    data::commit_offsets(&source.admin_config(), &group, &[(&topic, 0, 3)]).unwrap();
    // A transaction left open on the source keeps `apply --until-synced` running.
    let open = data::open_transaction(&source.admin_config(), &topic, &data::sample_records(1, 1))
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "acls { sync = false }");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "consumer_groups {\n",
        "consumer_groups {\n  sync_interval = \"1s\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let mut apply = Running::start(
        &config,
        &["-v", "apply", "--auto-approve", "--until-synced"],
        dir.path(),
        |_| {},
    );
    wait_for(
        Duration::from_secs(60),
        || format!("the group synced while apply runs; {}", apply.output()),
        || committed_offset(target, &group, &topic, 0) == Some(3),
    );

    // The group's consumers move to the target while apply runs, and leave again.
    let member = subscribed(target, &group, &topic);
    wait_for(
        Duration::from_secs(60),
        || format!("apply to see the group cut over; {}", apply.output()),
        || {
            let _ = member.poll(Duration::from_millis(100));
            apply.stderr().contains("Group has cut over")
        },
    );
    drop(member);
    // Its source offset moves on; then the source transaction completes and apply ends.
    data::commit_offsets(&source.admin_config(), &group, &[(&topic, 0, 6)]).unwrap();
    open.commit_transaction(Duration::from_secs(30)).unwrap();
    let status = apply.wait_exit(Duration::from_secs(120));
    assert!(status.success(), "{}", apply.output());
    assert!(
        apply
            .stdout()
            .contains(&format!("group \"{group}\": cut over")),
        "{}",
        apply.output()
    );
    assert_eq!(committed_offset(target, &group, &topic, 0), Some(3));

    // A later apply finds the cut-over recorded with the migration, although nothing on the
    // target shows it any more and the source group moved again.
    data::commit_offsets(&source.admin_config(), &group, &[(&topic, 0, 8)]).unwrap();
    let again = apply_until_synced(&config);
    assert!(
        again.contains(&format!(
            "group \"{group}\": cut over (recorded as cut over by an earlier apply"
        )),
        "{again}"
    );
    assert_eq!(committed_offset(target, &group, &topic, 0), Some(3));
    assert!(
        states(&config).contains(&(group.clone(), "cut_over".to_string())),
        "{:?}",
        states(&config)
    );
    // The plan says so too, instead of offering to move the group.
    let text = succeeds(&config, &["plan"]);
    assert!(
        text.contains(&format!(
            "group \"{group}\": the group has cut over (recorded as cut over by an earlier apply"
        )),
        "{text}"
    );
    assert!(text.contains("not synced (cut over)"), "{text}");
}

/// The `consumer groups` check of `verify --json`: status and evidence.
fn groups_check(config: &std::path::Path) -> (String, Vec<String>) {
    let out = kafka_migrate(config)
        .args(["verify", "--json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    schema::assert_valid("verify.schema.json", &report);
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "consumer groups")
        .unwrap()
        .clone();
    let evidence = check["evidence"]
        .as_array()
        .map(|e| e.iter().map(|e| e.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    (check["status"].as_str().unwrap().to_string(), evidence)
}

/// A group reset on the source to reprocess, after its offsets were synced: its target offset
/// is past the new translation, but the sync put it there — the group was rewound, not
/// consumed on the target. `status` and `plan` say so, `verify` fails it with the evidence,
/// and `apply` moves it back. Once a consumer on the target commits, it has cut over.
#[tokio::test]
async fn a_group_rewound_on_the_source_is_synced_back_not_taken_for_cut_over() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("grewind").replace('-', "_");
    let topic = format!("{p}.events");
    let group = format!("{p}-reprocess");
    topic_with_records(source, &topic, 10).await;
    data::commit_offsets(&source.admin_config(), &group, &[(&topic, 0, 8)]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(
        dir.path(),
        &p,
        &p,
        source,
        target,
        "acls { sync = false }\ncutover {\n  quiet_period = \"1s\"\n  data_check = \"none\"\n}\n",
    );
    apply_until_synced(&config);
    assert_eq!(committed_offset(target, &group, &topic, 0), Some(8));
    assert_eq!(groups_check(&config).0, "PASS");

    // Reset on the source to reprocess from offset 2.
    data::commit_offsets(&source.admin_config(), &group, &[(&topic, 0, 2)]).unwrap();
    assert_eq!(
        states(&config),
        vec![(group.clone(), "rewound".to_string())]
    );
    let plan = succeeds(&config, &["plan"]);
    assert!(
        plan.contains("the group was rewound on the source") && plan.contains("0: 8 → 2"),
        "{plan}"
    );
    let (status, evidence) = groups_check(&config);
    assert_eq!(status, "FAIL");
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("committed 8 on the target, 2 is the exact translation")),
        "{evidence:?}"
    );
    apply_until_synced(&config);
    assert_eq!(committed_offset(target, &group, &topic, 0), Some(2));
    assert_eq!(
        states(&config),
        vec![(group.clone(), "in_sync".to_string())]
    );
    assert_eq!(groups_check(&config).0, "PASS");

    // Consumers of the group on the target commit 5 and leave: that is a cut-over, and the
    // source moving on does not move the target any more.
    drop(consumed_on(target, &group, &topic, 5));
    data::commit_offsets(&source.admin_config(), &group, &[(&topic, 0, 9)]).unwrap();
    // Wait for the member to be gone from the target group.
    wait_for(
        Duration::from_secs(60),
        || format!("the group to be empty on the target: {:?}", states(&config)),
        || {
            let out = kafka_migrate(&config)
                .args(["status", "--json"])
                .assert()
                .success();
            let status: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
            schema::assert_valid("status.schema.json", &status);
            status["groups"][0]["members_on_target"] == 0
        },
    );
    assert_eq!(
        states(&config),
        vec![(group.clone(), "cut_over".to_string())]
    );
    apply_until_synced(&config);
    assert_eq!(committed_offset(target, &group, &topic, 0), Some(5));
}
