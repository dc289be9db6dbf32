//! `plan` and `apply` (metadata) through the CLI on real clusters: the JSON plan holds exactly
//! the expected actions, apply carries them out and the next plan is empty; blockers and stale
//! plans are refused with their reason; an interrupted apply converges when run again.

use std::path::Path;

use kafka_harness::data;
use kafka_harness::shared;
use kafka_harness::tools::Tool;
use serde_json::Value;

use crate::support::{
    apply_until_synced, committed_offset, kafka_migrate, migration_file, pairs, topic_with_records,
    wait_for, Running,
};

pub fn plan_json(config: &Path) -> Value {
    let out = kafka_migrate(config)
        .args(["plan", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "plan --json printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Each action as one comparable line.
fn actions(plan: &Value) -> Vec<String> {
    let mut out: Vec<String> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match a["type"].as_str().unwrap() {
            "create_topic" => format!(
                "create {} p={} rf={} {}",
                a["topic"].as_str().unwrap(),
                a["partitions"],
                a["replication_factor"],
                a["configs"]
            ),
            "create_partitions" => format!(
                "partitions {} {}->{}",
                a["topic"].as_str().unwrap(),
                a["before"],
                a["after"]
            ),
            "update_topic_config" => {
                format!("configs {} {}", a["topic"].as_str().unwrap(), a["changes"])
            }
            "create_acl" => {
                let b = &a["binding"];
                format!(
                    "acl {} {} {} {} {} {}",
                    b["permission"].as_str().unwrap(),
                    b["principal"].as_str().unwrap(),
                    b["operation"].as_str().unwrap(),
                    b["resource_type"].as_str().unwrap(),
                    b["name"].as_str().unwrap(),
                    b["pattern_type"].as_str().unwrap()
                )
            }
            other => panic!("unexpected action {other}"),
        })
        .collect();
    out.sort();
    out
}

fn blockers(plan: &Value) -> Vec<(String, String)> {
    pairs(&plan["blockers"], "kind", "subject")
}

#[tokio::test]
async fn plan_lists_exactly_the_changes_and_apply_makes_them() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("plan").replace('-', "_");
    let admin = source.admin_config();
    // 20 topics: varied partition counts, compacted and delete, some with topic configs.
    for i in 0..20 {
        let topic = format!("{p}.t{i:02}");
        let configs: Vec<(&str, &str)> = match i % 4 {
            0 => vec![("cleanup.policy", "compact")],
            1 => vec![
                ("retention.ms", "86400000"),
                ("max.message.bytes", "2000000"),
            ],
            2 => vec![("min.insync.replicas", "1")], // excluded by default: never copied
            _ => vec![],
        };
        data::create_topic(&admin, &topic, 1 + (i % 5), 1, &configs)
            .await
            .unwrap();
    }
    data::produce(&admin, &format!("{p}.t03"), &data::sample_records(30, 1))
        .await
        .unwrap();
    // A topic outside the selection is left alone.
    data::create_topic(&admin, &format!("other_{p}"), 1, 1, &[])
        .await
        .unwrap();
    // ACLs: literal and prefixed on topics, a group, a transactional id, the cluster.
    for args in [
        vec![
            "--add",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Read",
            "--topic",
            &format!("{p}.t01"),
        ],
        vec![
            "--add",
            "--allow-principal",
            "User:bob",
            "--operation",
            "Write",
            "--topic",
            &format!("{p}."),
            "--resource-pattern-type",
            "prefixed",
        ],
        vec![
            "--add",
            "--deny-principal",
            "User:bob",
            "--operation",
            "Read",
            "--topic",
            &format!("{p}.t02"),
        ],
        vec![
            "--add",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Read",
            "--group",
            &format!("{p}-app"),
        ],
        vec![
            "--add",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Write",
            "--transactional-id",
            &format!("{p}-tx"),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
        source.tool(Tool::Acls, &args).unwrap();
    }
    data::commit_offsets(&admin, &format!("{p}-app"), &[(&format!("{p}.t03"), 0, 20)]).unwrap();
    // The target already has two of the topics: one with fewer partitions, one whose config drifted.
    data::create_topic(
        &target.admin_config(),
        &format!("{p}.t04"),
        1,
        1,
        &[("cleanup.policy", "compact")],
    )
    .await
    .unwrap();
    data::create_topic(
        &target.admin_config(),
        &format!("{p}.t05"),
        1,
        1,
        &[("retention.ms", "1000"), ("segment.bytes", "10485760")],
    )
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "");
    let plan = plan_json(&config);
    assert_eq!(plan["format_version"], "1.3");
    assert!(blockers(&plan).is_empty(), "{:?}", blockers(&plan));
    let mut expected = vec![format!(
        "create kafka-migrate.{p}.progress p=1 rf=1 {{\"cleanup.policy\":\"compact\"}}"
    )];
    for i in 0..20 {
        if i == 4 || i == 5 {
            continue;
        }
        let configs = match i % 4 {
            0 => "{\"cleanup.policy\":\"compact\"}",
            1 => "{\"max.message.bytes\":\"2000000\",\"retention.ms\":\"86400000\"}",
            _ => "{}",
        };
        expected.push(format!(
            "create {p}.t{i:02} p={} rf=1 {configs}",
            1 + (i % 5)
        ));
    }
    // t04 has 5 partitions on the source; t05's configs drifted on the target.
    expected.push(format!("partitions {p}.t04 1->5"));
    expected.push(format!(
        "configs {p}.t05 [{{\"after\":\"2000000\",\"before\":\"1048588\",\"key\":\"max.message.bytes\"}},{{\"after\":\"86400000\",\"before\":\"1000\",\"key\":\"retention.ms\"}},{{\"after\":null,\"before\":\"10485760\",\"key\":\"segment.bytes\"}}]"
    ));
    expected.push(format!("acl ALLOW User:alice READ TOPIC {p}.t01 LITERAL"));
    expected.push(format!("acl ALLOW User:bob WRITE TOPIC {p}. PREFIXED"));
    expected.push(format!("acl DENY User:bob READ TOPIC {p}.t02 LITERAL"));
    expected.push(format!("acl ALLOW User:alice READ GROUP {p}-app LITERAL"));
    expected.push(format!(
        "acl ALLOW User:alice WRITE TRANSACTIONAL_ID {p}-tx LITERAL"
    ));
    expected.sort();
    let got = actions(&plan);
    // ACLs of other tests on the shared cluster may appear (cluster-wide); keep ours.
    let got: Vec<String> = got
        .into_iter()
        .filter(|a| !a.starts_with("acl") || a.contains(&p))
        .collect();
    assert_eq!(got, expected);
    let group = &plan["group_offsets"][0];
    assert_eq!(group["group"], format!("{p}-app"));
    assert_eq!(group["partitions"][0]["source_offset"], 20);
    assert_eq!(
        group["partitions"][0]["target"]["status"],
        "pending_replication"
    );

    apply_until_synced(&config);
    let after = plan_json(&config);
    let remaining: Vec<String> = actions(&after)
        .into_iter()
        .filter(|a| !a.starts_with("acl") || a.contains(&p))
        .collect();
    assert!(
        remaining.is_empty(),
        "the plan after apply still has {remaining:?}"
    );
    assert!(blockers(&after).is_empty(), "{:?}", blockers(&after));
    // status: nothing left to replicate, and t03's 30 records counted.
    let out = kafka_migrate(&config)
        .args(["status", "--json"])
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::support::schema::assert_valid("status.schema.json", &status);
    let partitions = status["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 60, "one entry per source partition");
    assert!(partitions.iter().all(|e| e["lag"] == 0), "{partitions:?}");
    let t03 = partitions
        .iter()
        .find(|e| e["topic"] == format!("{p}.t03"))
        .unwrap();
    assert_eq!(t03["records"], 30);
    // The group's offset was translated exactly and committed on the target.
    let group = &after["group_offsets"][0]["partitions"][0];
    assert_eq!(
        group["target"],
        serde_json::json!({"status": "translated", "offset": 20})
    );
    assert_eq!(group["target_current"], 20);
    // The records of t03 arrived.
    let copied = data::read_all(&target.admin_config(), &format!("{p}.t03")).unwrap();
    assert_eq!(copied.values().map(Vec::len).sum::<usize>(), 30);
}

#[tokio::test]
async fn each_blocker_is_refused_with_its_reason() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("block").replace('-', "_");
    let (s, t) = (source.admin_config(), target.admin_config());
    // More partitions on the target than on the source.
    data::create_topic(&s, &format!("{p}.wide"), 2, 1, &[])
        .await
        .unwrap();
    data::create_topic(&t, &format!("{p}.wide"), 4, 1, &[])
        .await
        .unwrap();
    // cleanup.policy differs.
    data::create_topic(
        &s,
        &format!("{p}.policy"),
        1,
        1,
        &[("cleanup.policy", "compact")],
    )
    .await
    .unwrap();
    data::create_topic(&t, &format!("{p}.policy"), 1, 1, &[])
        .await
        .unwrap();
    // The target topic holds records nobody migrated.
    data::create_topic(&s, &format!("{p}.dirty"), 1, 1, &[])
        .await
        .unwrap();
    data::create_topic(&t, &format!("{p}.dirty"), 1, 1, &[])
        .await
        .unwrap();
    data::produce(&t, &format!("{p}.dirty"), &data::sample_records(3, 1))
        .await
        .unwrap();
    // A config value the target refuses (checked in validate-only mode).
    data::create_topic(&s, &format!("{p}.bad"), 1, 1, &[])
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("  replication_factor = 1\n", &format!("  replication_factor = 1\n  names = [\"{p}.missing\"]\n  config {{\n    override = {{ \"cleanup.policy\" = \"compact,delete\", \"retention.ms\" = \"not-a-number\" }}\n  }}\n"));
    std::fs::write(&config, text).unwrap();
    let plan = plan_json(&config);
    let found = blockers(&plan);
    for (kind, subject) in [
        ("target_has_more_partitions", format!("topic \"{p}.wide\"")),
        ("cleanup_policy_mismatch", format!("topic \"{p}.policy\"")),
        (
            "target_topic_has_foreign_records",
            format!("topic \"{p}.dirty\""),
        ),
        ("source_topic_unreadable", format!("topic \"{p}.missing\"")),
        ("config_rejected", format!("topic \"{p}.bad\"")),
    ] {
        assert!(
            found.contains(&(kind.to_string(), subject.clone())),
            "no {kind} blocker for {subject} in {found:?}"
        );
    }
    // plan exits 1 and apply refuses, changing nothing.
    kafka_migrate(&config)
        .arg("plan")
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "Blockers (apply refuses this plan)",
        ));
    kafka_migrate(&config)
        .args(["apply", "--auto-approve"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("blocker"));
    let md_consumer: rdkafka::consumer::BaseConsumer = target.admin_config().create().unwrap();
    let md = rdkafka::consumer::Consumer::fetch_metadata(
        &md_consumer,
        Some(&format!("{p}.bad")),
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    assert!(
        md.topics()[0].error().is_some(),
        "apply created a topic despite the blockers"
    );

    // A replication factor above the target's broker count.
    let config = migration_file(dir.path(), &p, &p, source, target, "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("replication_factor = 1", "replication_factor = 3");
    std::fs::write(&config, text).unwrap();
    let found = blockers(&plan_json(&config));
    assert!(
        found.contains(&(
            "replication_factor_too_high".to_string(),
            format!("topic \"{p}.bad\"")
        )),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_stale_plan_is_refused_and_an_interrupted_apply_converges() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("stale").replace('-', "_");
    for i in 0..3 {
        data::create_topic(&source.admin_config(), &format!("{p}.t{i}"), 2, 1, &[])
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "acls { sync = false }");
    let plan_file = dir.path().join("plan.json");
    kafka_migrate(&config)
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(2);
    kafka_migrate(&config)
        .args(["plan", "--out"])
        .arg(&plan_file)
        .assert()
        .success();

    // An apply interrupted after its first topic: the rest of the saved plan still applies.
    data::create_topic(&target.admin_config(), &format!("{p}.t0"), 2, 1, &[])
        .await
        .unwrap();
    kafka_migrate(&config)
        .arg("apply")
        .arg(&plan_file)
        .arg("--until-synced")
        .assert()
        .success();
    let after = plan_json(&config);
    assert!(actions(&after).is_empty(), "{:?}", actions(&after));

    kafka_migrate(&config)
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0);

    // A change on the source makes the saved plan stale.
    kafka_migrate(&config)
        .args(["plan", "--out"])
        .arg(&plan_file)
        .assert()
        .success();
    data::create_topic(&source.admin_config(), &format!("{p}.late"), 1, 1, &[])
        .await
        .unwrap();
    kafka_migrate(&config)
        .arg("apply")
        .arg(&plan_file)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("Saved plan is stale"))
        .stderr(predicates::str::contains(format!(
            "create topic \"{p}.late\""
        )));
}

#[tokio::test]
async fn an_apply_killed_midway_converges_when_run_again() {
    use std::io::{BufRead, BufReader};
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("killed").replace('-', "_");
    // Apply creates topics a hundred to a request: four hundred leave several requests to
    // interrupt.
    let names: Vec<String> = (0..400).map(|i| format!("{p}.t{i:03}")).collect();
    data::create_topics(&source.admin_config(), &names, 1, 1)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "acls { sync = false }");
    let mut apply = Running::start(
        &config,
        &["apply", "--auto-approve", "--until-synced"],
        dir.path(),
        |cmd| {
            cmd.stdout(std::process::Stdio::piped());
        },
    );
    // Kill it (SIGKILL) as soon as the first change is reported.
    let mut lines = BufReader::new(apply.take_stdout()).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.starts_with('✓') {
            break;
        }
    }
    apply.kill();
    let interrupted = plan_json(&config);
    assert!(
        !actions(&interrupted).is_empty(),
        "the apply finished before it could be interrupted"
    );

    apply_until_synced(&config);
    assert!(actions(&plan_json(&config)).is_empty());
}

#[tokio::test]
async fn group_sync_moves_idle_groups_forward_only_and_leaves_active_ones_alone() {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("groups").replace('-', "_");
    let topic = format!("{p}.events");
    topic_with_records(source, &topic, 10).await;
    let (idle, ahead, active) = (
        format!("{p}-idle"),
        format!("{p}-ahead"),
        format!("{p}-active"),
    );
    for (group, offset) in [(&idle, 5), (&ahead, 8), (&active, 3)] {
        data::commit_offsets(&source.admin_config(), group, &[(&topic, 0, offset)]).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "acls { sync = false }");
    apply_until_synced(&config);
    let committed = |group: &str| -> i64 {
        let c: BaseConsumer = target
            .admin_config()
            .set("group.id", group)
            .create()
            .unwrap();
        let mut tpl = rdkafka::TopicPartitionList::new();
        tpl.add_partition(&topic, 0);
        let got = c
            .committed_offsets(tpl, std::time::Duration::from_secs(10))
            .unwrap();
        got.elements()[0].offset().to_raw().unwrap_or(-1)
    };
    assert_eq!(
        (committed(&idle), committed(&ahead), committed(&active)),
        (5, 8, 3)
    );

    // On the target, one group moved on past the source, another is consuming now.
    data::commit_offsets(&target.admin_config(), &ahead, &[(&topic, 0, 9)]).unwrap();
    let member: BaseConsumer = target
        .admin_config()
        .set("group.id", &active)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    member.subscribe(&[&topic]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while member.assignment().map(|a| a.count()).unwrap_or(0) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the target consumer never joined its group"
        );
        let _ = member.poll(std::time::Duration::from_millis(200));
    }
    for (group, offset) in [(&idle, 7), (&ahead, 8), (&active, 6)] {
        data::commit_offsets(&source.admin_config(), group, &[(&topic, 0, offset)]).unwrap();
    }
    let plan = plan_json(&config);
    let warned = plan["warnings"].as_array().unwrap().iter().any(|w| {
        w["kind"] == "group_active_on_target" && w["subject"] == format!("group \"{active}\"")
    });
    assert!(warned, "{}", plan["warnings"]);
    apply_until_synced(&config);
    // Forward for the idle group, never backwards, and the active group untouched.
    assert_eq!((committed(&idle), committed(&ahead)), (7, 9));
    drop(member);
    assert_eq!(committed(&active), 3);
}

#[tokio::test]
async fn group_offsets_are_synced_while_apply_runs() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("live").replace('-', "_");
    let topic = format!("{p}.events");
    topic_with_records(source, &topic, 10).await;
    let group = format!("{p}-app");
    data::commit_offsets(&source.admin_config(), &group, &[(&topic, 0, 4)]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "acls { sync = false }");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        &format!("consumer_groups {{\n  include = [\"^{p}-\"]\n}}"),
        &format!("consumer_groups {{\n  include = [\"^{p}-\"]\n  sync_interval = \"1s\"\n}}"),
    );
    std::fs::write(&config, text).unwrap();
    // apply without --until-synced keeps running; the group moves on the source meanwhile.
    let mut apply = Running::start(&config, &["apply", "--auto-approve"], dir.path(), |_| {});
    let reached = |wanted: i64| {
        wait_for(
            std::time::Duration::from_secs(90),
            || format!("the target group to reach {wanted}; {}", apply.output()),
            || committed_offset(target, &group, &topic, 0) == Some(wanted),
        )
    };
    reached(4);
    data::commit_offsets(&source.admin_config(), &group, &[(&topic, 0, 9)]).unwrap();
    reached(9);
    apply.kill();
}
