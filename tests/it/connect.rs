//! The Connect engine on real clusters: a Kafka Connect distributed worker started from the
//! worker file `export connect` wrote, `apply --engine connect` deploying the MirrorMaker 2
//! connectors that replicate with identical topic names, `verify` READY afterwards, the
//! built-in engine refusing to take over, and a changed topic filter updating the deployed
//! connectors. The source has transactions (one aborted) and a 1.2 MB record (MirrorMaker 2 is
//! sized for the topic's 8 MiB limit): caught up is told by the source
//! offsets MirrorMaker 2 committed, not by offset counts.

use std::path::Path;
use std::time::Duration;

use kafka_harness::connect::ConnectWorker;
use kafka_harness::data;
use kafka_harness::{shared, Cluster};

use crate::support::{assert_identical, kafka_migrate, succeeds, wait_for};

/// A migration of the topics matching `include` (HCL list items) with group `PREFIX-app`.
fn write_migration(
    path: &Path,
    name: &str,
    prefix: &str,
    include: &str,
    source: &Cluster,
    target: &Cluster,
) {
    let text = format!(
        r#"name = "{name}"
cluster "source" {{
  bootstrap_servers = ["{}"]
}}
cluster "target" {{
  bootstrap_servers = ["{}"]
}}
topics {{
  include            = [{include}]
  replication_factor = 1
}}
consumer_groups {{
  include       = ["^{prefix}-"]
  sync_interval = "1s"
}}
replication {{
  tasks = 2
}}
cutover {{
  quiet_period = "2s"
  data_check   = "full"
}}
"#,
        source.bootstrap(),
        target.bootstrap()
    );
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_engine_replicates_with_identical_names_and_follows_filter_changes() {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name("connect").replace('-', "_");
    let orders = format!("{prefix}.orders");
    let extra = format!("{prefix}.extra");
    // Orders allow 8 MiB record batches: MirrorMaker 2's producer, left at Kafka's 1 MiB
    // max.request.size, would refuse the 1.2 MB record written below.
    data::create_topic(
        &source.admin_config(),
        &orders,
        3,
        1,
        &[("max.message.bytes", "8388608")],
    )
    .await
    .unwrap();
    data::create_topic(&source.admin_config(), &extra, 1, 1, &[])
        .await
        .unwrap();
    data::produce(
        &source.admin_config(),
        &orders,
        &data::sample_records(300, 3),
    )
    .await
    .unwrap();
    data::produce(&source.admin_config(), &extra, &data::sample_records(50, 1))
        .await
        .unwrap();
    // Transactions, one aborted: the source's offsets have gaps (aborted records, markers),
    // which MirrorMaker 2's target does not have — it is caught up all the same.
    let (committed_batch, aborted) = (data::sample_records(30, 3), data::sample_records(12, 3));
    data::produce_in_transactions(
        &source.admin_config(),
        &orders,
        &[
            (&committed_batch[..], true),
            (&aborted[..], false),
            (&committed_batch[..], true),
        ],
    )
    .unwrap();
    let mut large = data::sample_records(1, 1);
    large[0].value = Some((0..1_200_000).map(|b| (b % 251) as u8).collect());
    data::produce(
        source.admin_config().set("message.max.bytes", "10000000"),
        &orders,
        &large,
    )
    .await
    .unwrap();
    // A freshly started cluster may still be loading its group coordinator.
    let group = format!("{prefix}-app");
    // Each partition: 10 records, a marker, 4 aborted records, a marker, 10 records and a
    // marker (offset 26, where a consumer that read everything commits).
    let committed = [
        (orders.as_str(), 0, 40),
        (orders.as_str(), 1, 26),
        (orders.as_str(), 2, 0),
    ];
    wait_for(
        Duration::from_secs(60),
        || format!("committing the offsets of group {group} on the source"),
        || data::commit_offsets(&source.admin_config(), &group, &committed).is_ok(),
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migration.hcl");
    let only_orders = format!("\"^{prefix}\\\\.orders$\"");
    write_migration(&config, &prefix, &prefix, &only_orders, source, target);

    // The worker runs from the exported worker file, unchanged.
    let export = dir.path().join("connect");
    kafka_migrate(&config)
        .args(["export", "connect", "--dir"])
        .arg(&export)
        .assert()
        .success();
    let worker_file =
        std::fs::read_to_string(export.join("connect-distributed.properties")).unwrap();
    let worker = ConnectWorker::start(&format!("{prefix}-worker"), &worker_file).unwrap();
    let url = worker.url();

    // `apply --engine connect --until-synced` against the worker; what it printed.
    let apply_connect = || {
        let out = kafka_migrate(&config)
            .args([
                "apply",
                "--auto-approve",
                "--until-synced",
                "--engine",
                "connect",
                "--connect-url",
            ])
            .arg(&url)
            .timeout(std::time::Duration::from_secs(600))
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    };
    let out = apply_connect();
    assert!(
        out.contains(&format!("connector \"{prefix}.mirror-source\" RUNNING")),
        "{out}"
    );
    assert!(out.contains("MirrorMaker 2 caught up"), "{out}");
    assert_eq!(assert_identical(source, target, &orders), 361);
    let deployed_size = reqwest::get(format!("{url}/connectors/{prefix}.mirror-source/config"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        deployed_size["producer.override.max.request.size"], "8389120",
        "{deployed_size}"
    );

    let verify = kafka_migrate(&config)
        .args(["verify", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&verify.stdout)));
    crate::support::schema::assert_valid("verify.schema.json", &report);
    assert_eq!(
        report["verdict"],
        "READY FOR CUTOVER",
        "{}",
        serde_json::to_string_pretty(&report).unwrap()
    );
    assert_eq!(verify.status.code(), Some(0));

    let status = kafka_migrate(&config)
        .args(["status", "--json"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    crate::support::schema::assert_valid("status.schema.json", &status);
    let partitions = status["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 3, "{status}");
    assert!(partitions.iter().all(|p| p["lag"] == 0), "{status}");
    // Offsets count the records under MirrorMaker 2: every record, and at most the source's
    // offsets (aborted records and markers take some).
    let counted: u64 = partitions
        .iter()
        .map(|p| p["records"].as_u64().unwrap())
        .sum();
    let offsets: u64 = partitions
        .iter()
        .map(|p| p["source_end"].as_u64().unwrap())
        .sum();
    assert!((361..=offsets).contains(&counted), "{status}");

    // The built-in engine would copy everything again: it refuses to take over.
    kafka_migrate(&config)
        .args(["apply", "--auto-approve", "--until-synced"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "MirrorMaker 2 has replicated migration",
        ));

    // Widen the filter: plan shows the connector update, apply makes it and replicates the
    // newly selected topic.
    let both = format!("{only_orders}, \"^{prefix}\\\\.extra$\"");
    write_migration(&config, &prefix, &prefix, &both, source, target);
    let shown = succeeds(
        &config,
        &["plan", "--engine", "connect", "--connect-url", &url],
    );
    assert!(
        shown.contains(&format!(
            "connector \"{prefix}.mirror-source\" will be updated"
        )),
        "{shown}"
    );
    assert!(shown.contains("+ topics = "), "{shown}");
    assert!(
        shown.contains(&format!(
            "connector \"{prefix}.mirror-heartbeat\": no changes"
        )),
        "{shown}"
    );

    apply_connect();
    assert_eq!(assert_identical(source, target, &extra), 50);
    let deployed = reqwest::get(format!("{url}/connectors/{prefix}.mirror-source/config"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert!(
        deployed["topics"].as_str().unwrap().contains("extra"),
        "{deployed}"
    );
    drop(worker);
}

#[test]
fn export_connect_writes_the_worker_and_connector_files_without_secrets() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let dir = tempfile::tempdir().unwrap();
    kafka_migrate(&examples.join("scram.hcl"))
        .args(["export", "connect", "--dir"])
        .arg(dir.path())
        .env("SOURCE_USER", "legacy")
        .env("SOURCE_PASSWORD", "very-secret-source")
        .env("TARGET_PASSWORD", "very-secret-target")
        .assert()
        .success();
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "connect-distributed.properties",
            "scram-to-msk.mirror-checkpoint.json",
            "scram-to-msk.mirror-heartbeat.json",
            "scram-to-msk.mirror-source.json",
        ]
    );
    for file in files {
        let text = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        assert!(!text.contains("very-secret"), "{file}:\n{text}");
        assert!(text.contains("${env:"), "{file}:\n{text}");
    }
}

#[test]
fn the_connect_engine_needs_a_connect_url() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    kafka_migrate(&examples.join("plaintext.hcl"))
        .args(["apply", "--engine", "connect"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--connect-url"));
}
