//! `kafka-migrate init` on a live source: a dedicated SASL/SCRAM cluster with ACLs holding 300
//! topics of mixed prefixes, Kafka Streams and schema-registry internal topics, 40 consumer
//! groups and ACLs. The file it writes names the source's SCRAM users (never a password) and
//! the release its brokers are at least; it is accepted by `validate`, its `plan` creates
//! exactly the non-internal topics, and its text is pinned by `tests/golden/init-source.hcl`.
//! (A cluster of its own: the golden text names every topic and group the source holds.)

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kafka_harness::{data, shared, Cluster, ClusterSpec, Flavour, ADMIN, ALICE, BOB};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::support::{kafka_migrate, wait_for};

/// The topics to migrate: four prefix families, a small one, and names of their own.
fn migrated_topics() -> Vec<String> {
    let mut topics = Vec::new();
    topics.extend((0..100).map(|i| format!("orders.{i:03}")));
    topics.extend((0..80).map(|i| format!("payments-{i:02}")));
    topics.extend((0..60).map(|i| format!("inventory_{i:02}")));
    topics.extend((0..40).map(|i| format!("analytics.eu.{i:02}")));
    topics.extend(["app-clicks", "app-views"].map(String::from));
    topics.extend(
        [
            "audit",
            "billing",
            "customers",
            "ledger",
            "notifications",
            "profiles",
            "reviews",
            "search",
            "sessions",
            "shipments",
            "stock",
            "tax",
            "tickets",
            "users",
            "vendors",
            "web",
            "wishlists",
            "zones",
        ]
        .map(String::from),
    );
    topics
}

/// Topics the file must leave out.
const INTERNAL: [&str; 3] = ["_schemas", "app-store-changelog", "app-agg-repartition"];

async fn fill(source: &Cluster) {
    let admin: AdminClient<DefaultClientContext> = source.admin_config().create().unwrap();
    let names: Vec<String> = migrated_topics()
        .into_iter()
        .chain(INTERNAL.map(String::from))
        .collect();
    let new_topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| {
            let topic = NewTopic::new(name, 1, TopicReplication::Fixed(1));
            match name {
                n if n.starts_with("inventory_") || n.ends_with("-changelog") => {
                    topic.set("cleanup.policy", "compact")
                }
                n if n.starts_with("orders.") => topic.set("retention.ms", "604800000"),
                _ => topic,
            }
        })
        .collect();
    // One request for all of them.
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(60)));
    for result in admin.create_topics(&new_topics, &opts).await.unwrap() {
        result.unwrap();
    }
    let consumer: BaseConsumer = source.admin_config().create().unwrap();
    wait_for(
        Duration::from_secs(60),
        || "every topic with a leader",
        || {
            consumer
                .fetch_metadata(None, Duration::from_secs(5))
                .is_ok_and(|md| {
                    let led = md
                        .topics()
                        .iter()
                        .filter(|t| t.partitions().iter().all(|p| p.leader() >= 0))
                        .count();
                    led >= names.len()
                })
        },
    );
    // 40 consumer groups: two families and names of their own.
    let groups: Vec<String> = (0..20)
        .map(|i| format!("billing-{i:02}"))
        .chain((0..15).map(|i| format!("reporting.{i:02}")))
        .chain(
            [
                "etl",
                "fraud-check",
                "mailer",
                "search-indexer",
                "warehouse",
            ]
            .map(String::from),
        )
        .collect();
    let commits: Vec<_> = groups
        .into_iter()
        .enumerate()
        .map(|(i, group)| {
            let config = source.admin_config();
            let topic = migrated_topics()[i].clone();
            tokio::task::spawn_blocking(move || {
                data::commit_offsets(&config, &group, &[(&topic, 0, 0)]).unwrap()
            })
        })
        .collect();
    for commit in commits {
        commit.await.unwrap();
    }
    let acls = {
        use kafka_migrate::cluster::native::*;
        let binding = |resource_type, name: &str, pattern_type, operation| AclBinding {
            resource_type,
            name: name.to_string(),
            pattern_type,
            principal: "User:alice".into(),
            host: "*".into(),
            operation,
            permission: AclPermission::Allow,
        };
        vec![
            binding(
                ResourceType::Topic,
                "orders.",
                PatternType::Prefixed,
                AclOperation::Read,
            ),
            binding(
                ResourceType::Group,
                "billing-",
                PatternType::Prefixed,
                AclOperation::Read,
            ),
            binding(
                ResourceType::Topic,
                "audit",
                PatternType::Literal,
                AclOperation::Write,
            ),
        ]
    };
    kafka_migrate::cluster::native::AdminExt::new(Arc::new(admin))
        .create_acls(acls)
        .await
        .unwrap();
}

fn run(dir: &Path, config: &Path, args: &[&str]) -> std::process::Output {
    kafka_migrate(config)
        .current_dir(dir)
        .env("SOURCE_PASSWORD", ADMIN.password)
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn init_writes_a_file_from_a_live_source_that_validates_and_plans_exactly_its_topics() {
    let source = Cluster::start(ClusterSpec::new("init-source", Flavour::Secure)).unwrap();
    let target = shared::target();
    fill(&source).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migration.hcl");
    let out = run(
        dir.path(),
        &config,
        &[
            "init",
            "--source",
            &source.bootstrap(),
            "--source-sasl-mechanism",
            "scram-sha-512",
            "--source-sasl-username",
            ADMIN.name,
            "--target",
            &target.bootstrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("from the source: 1 broker(s)"),
        "{}",
        text(&out)
    );
    let written = std::fs::read_to_string(&config).unwrap();
    // Without --name, the migration is named after the source's broker (host and port).
    let port = source.bootstrap().rsplit_once(':').unwrap().1.to_string();
    let name = format!("127.0.0.1-{port}");
    assert!(written.contains(&format!("name = \"{name}\"")), "{written}");
    // The SCRAM users are named (with the golden text below), their passwords never.
    for user in [ADMIN, ALICE, BOB] {
        assert!(written.contains(&format!("#   {} (SCRAM-SHA-512)", user.name)));
        assert!(!written.contains(user.password), "{written}");
    }

    // The text, with the brokers' ports masked.
    let masked = written
        .replace(&source.bootstrap(), "SOURCE:PORT")
        .replace(&format!("\"{name}\""), "\"SOURCE-PORT\"")
        .replace(&target.bootstrap(), "TARGET:PORT");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/init-source.hcl");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &masked).unwrap();
    }
    assert_eq!(
        masked,
        std::fs::read_to_string(&golden).unwrap(),
        "tests/golden/init-source.hcl (UPDATE_GOLDEN=1 rewrites it)"
    );

    // validate needs no secret value.
    let out = kafka_migrate(&config).arg("validate").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));

    // plan creates exactly the topics to migrate.
    let out = run(dir.path(), &config, &["plan", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let created: BTreeSet<String> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "create_topic")
        .map(|a| a["topic"].as_str().unwrap().to_string())
        // The migration's own progress topic.
        .filter(|t| *t != kafka_migrate::config::names::progress_topic(&name))
        .collect();
    let wanted: BTreeSet<String> = migrated_topics().into_iter().collect();
    assert_eq!(wanted.len(), 300);
    assert_eq!(created, wanted, "{}", text(&out));

    // An existing file is left alone without --force.
    let again = run(
        dir.path(),
        &config,
        &["init", "--source", &source.bootstrap()],
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("--force"), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), written);
}

#[tokio::test]
async fn init_report_measures_a_live_topic_names_its_clients_and_recommends_brokers() {
    let source = shared::secure_source();
    let p = data::unique_name("report");
    let (topic, group, client) = (
        format!("{p}-orders"),
        format!("{p}-billing"),
        format!("{p}-billing-reader"),
    );
    data::create_topic(&source.admin_config(), &topic, 3, 1, &[])
        .await
        .unwrap();
    let live = crate::support::live::Live::start(source, &topic, &group, &client, None);
    wait_for(
        Duration::from_secs(60),
        || format!("a member of {group} assigned {topic}"),
        || live.assigned(),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migration.hcl");
    let bootstrap = source.bootstrap();
    let report = |json: bool| {
        let mut args = vec![
            "init",
            "--report",
            "--sample",
            "3s",
            "--source",
            &bootstrap,
            "--source-sasl-mechanism",
            "scram-sha-512",
            "--source-sasl-username",
            ADMIN.name,
        ];
        if json {
            args.push("--json");
        }
        run(dir.path(), &config, &args)
    };

    let out = report(true);
    assert!(out.status.success(), "{}", text(&out));
    // init --report writes no file.
    assert!(!config.exists());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::support::schema::assert_valid("init-report.schema.json", &json);
    let topics = json["source"]["topics"].as_array().unwrap();
    let t = topics
        .iter()
        .find(|t| t["topic"] == topic.as_str())
        .unwrap_or_else(|| panic!("{topic} not reported: {json:#}"));
    assert_eq!(t["partitions"], 3, "{t:#}");
    assert!(t["records_per_second"].as_f64().unwrap() > 0.0, "{t:#}");
    assert!(t["bytes_per_second"].as_f64().unwrap() > 0.0, "{t:#}");
    assert_eq!(t["bytes_rate_from"], "log_size_change", "{t:#}");
    assert!(t["size_bytes"].as_u64().unwrap() > 0, "{t:#}");
    // The live producer, seen writing during the window.
    let producers = t["producers"].as_array().unwrap();
    assert!(
        producers.iter().any(|p| p["wrote_during_sample"] == true),
        "{t:#}"
    );
    // The live consumer, by its client id, in its group.
    let g = t["consumer_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group.as_str())
        .unwrap_or_else(|| panic!("{group} not reported: {t:#}"));
    assert!(
        g["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["client_id"] == client.as_str()),
        "{g:#}"
    );
    // Internal topics are left out, as init leaves them out.
    assert!(!topics.iter().any(|t| t["topic"] == "__consumer_offsets"));
    // The totals add up the topics reported.
    let partitions: u64 = topics
        .iter()
        .map(|t| t["partitions"].as_u64().unwrap())
        .sum();
    assert_eq!(json["totals"]["partitions"], partitions);
    assert!(json["totals"]["records_per_second"].as_f64().unwrap() > 0.0);
    // A recommendation with the figures it sized by.
    let r = &json["recommendation"];
    assert_eq!(r["partition_replicas"], partitions * 3);
    assert!(r["express"]["brokers"].as_u64().unwrap() >= 3, "{r:#}");
    assert!(
        r["express"]["broker_type"]
            .as_str()
            .unwrap()
            .starts_with("express.m7g."),
        "{r:#}"
    );
    assert!(r["standard"]["broker_type"]
        .as_str()
        .unwrap()
        .starts_with("kafka.m7g."));
    assert!(r["ingress_mb_per_second"].as_f64().unwrap() > 0.0, "{r:#}");

    // The text says the same.
    let out = report(false);
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    for wanted in [
        format!("│ {topic} "),
        format!("consumer group \"{group}\""),
        format!("client \"{client}\""),
        "wrote during the window".to_string(),
        // (Other tests may add topics to the shared source meanwhile.)
        "Totals: ".to_string(),
        "Recommended MSK brokers sized for".to_string(),
        "Express:  ".to_string(),
        " × express.m7g.".to_string(),
        "Standard: ".to_string(),
        "Sized by:".to_string(),
    ] {
        assert!(said.contains(&wanted), "no {wanted:?} in:\n{said}");
    }
    drop(live);
}
