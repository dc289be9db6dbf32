//! `verify`'s `schema ids` check on real clusters. No schema registry server runs here: the
//! registry is its storage topic, written in the documented format Confluent Schema Registry
//! and Karapace read (JSON keys `{"keytype":"SCHEMA","subject":…,"version":…,"magic":1}`,
//! JSON values with `subject`, `version`, `id`, `schema`, `deleted`; `CONFIG` and `NOOP`
//! records; tombstones), and records are framed as their serializers frame them (magic byte 0,
//! a 4-byte big-endian schema id, then the body).
//!
//! READY when every framed key and value resolves on the target with the source's schema;
//! NOT READY naming topic, partition, offset and id when one does not; naming the id and
//! subject when the target's registry holds another schema under it; and when the registry
//! topic is left out of the migration while records need it. A registry topic still written
//! holds `cutover` at its quiet gate like any other selected topic.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_harness::data::{self, Record};
use kafka_harness::{shared, Cluster};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::Value;

use crate::support::{apply_until_synced, check, kafka_migrate, migration_file, verify};

fn record(partition: i32, key: Option<Vec<u8>>, value: Option<Vec<u8>>) -> Record {
    Record {
        partition,
        key,
        value,
        headers: Vec::new(),
        timestamp: None,
    }
}

/// A `SCHEMA` record of the registry's storage topic.
fn schema(subject: &str, version: i32, id: i32, text: &str, deleted: bool) -> Record {
    let key = serde_json::json!({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1});
    let value = serde_json::json!({
        "subject": subject, "version": version, "id": id, "schema": text, "deleted": deleted
    });
    record(
        0,
        Some(key.to_string().into_bytes()),
        Some(value.to_string().into_bytes()),
    )
}

/// A tombstone of a subject's version: a hard delete.
fn hard_delete(subject: &str, version: i32) -> Record {
    let key = serde_json::json!({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1});
    record(0, Some(key.to_string().into_bytes()), None)
}

/// A key or value as a registry serializer frames it.
fn framed(id: i32, body: &str) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

const ORDER: &str = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}"#;

/// A registry for `orders` (subjects `TOPIC-value` id 1, `TOPIC-key` id 2, a soft-deleted
/// version id 3, a hard-deleted one id 4), with the records a registry also writes.
fn registry_records(orders: &str) -> Vec<Record> {
    vec![
        record(
            0,
            Some(br#"{"keytype":"CONFIG","subject":null,"magic":0}"#.to_vec()),
            Some(br#"{"compatibilityLevel":"BACKWARD"}"#.to_vec()),
        ),
        schema(&format!("{orders}-value"), 1, 1, ORDER, false),
        schema(&format!("{orders}-key"), 1, 2, "\"string\"", false),
        schema(&format!("{orders}-value"), 2, 3, "\"bytes\"", true),
        schema(&format!("{orders}-value"), 3, 4, "\"int\"", false),
        hard_delete(&format!("{orders}-value"), 3),
        record(0, Some(br#"{"keytype":"NOOP","magic":0}"#.to_vec()), None),
    ]
}

/// `orders` (2 partitions): framed keys and values, a value of the soft-deleted schema, and
/// plain records.
fn order_records() -> Vec<Record> {
    let mut out = Vec::new();
    for i in 0..20 {
        out.push(record(
            i % 2,
            Some(framed(2, &format!("k{i}"))),
            Some(framed(1, &format!("order {i}"))),
        ));
    }
    out.push(record(0, None, Some(framed(3, "old"))));
    out.push(record(
        1,
        Some(b"plain".to_vec()),
        Some(b"{\"json\":true}".to_vec()),
    ));
    out
}

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    orders: String,
    registry: String,
}

/// A fresh prefix: the registry topic (named `registry(prefix)`, compacted, one partition)
/// and `PREFIX.orders` on the source, and a migration file naming the registry topic.
async fn setup(name: &str, registry: impl Fn(&str) -> String) -> Setup {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name(name).replace('-', "_");
    let orders = format!("{prefix}.orders");
    let registry = registry(&prefix);
    let admin = source.admin_config();
    data::create_topic(&admin, &registry, 1, 1, &[("cleanup.policy", "compact")])
        .await
        .unwrap();
    data::produce(&admin, &registry, &registry_records(&orders))
        .await
        .unwrap();
    data::create_topic(&admin, &orders, 2, 1, &[])
        .await
        .unwrap();
    data::produce(&admin, &orders, &order_records())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(
        dir.path(),
        &prefix,
        &prefix,
        source,
        target,
        &format!(
            "schema_registry {{\n  topic = \"{registry}\"\n}}\ncutover {{\n  quiet_period = \"1s\"\n  data_check   = \"full\"\n}}"
        ),
    );
    Setup {
        _dir: dir,
        config,
        orders,
        registry,
    }
}

fn evidence(report: &Value, name: &str) -> Vec<String> {
    check(report, name)["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

fn has(lines: &[String], text: &str) -> bool {
    lines.iter().any(|l| l.contains(text))
}

/// NOT READY (exit 2) with `schema ids` failed; the other checks' statuses are returned.
fn assert_schema_ids_fail(config: &Path) -> Value {
    let (code, report) = verify(config);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["verdict"], "NOT READY");
    assert_eq!(check(&report, "schema ids")["status"], "FAIL", "{report:#}");
    report
}

#[tokio::test]
async fn ready_when_every_id_resolves_and_not_ready_naming_the_record_whose_id_does_not() {
    let s = setup("schemas", |prefix| format!("{prefix}._schemas")).await;
    apply_until_synced(&s.config);
    let (code, report) = verify(&s.config);
    assert_eq!(code, 0, "{report:#}");
    for c in report["checks"].as_array().unwrap() {
        assert!(c["status"] == "PASS" || c["name"] == "quotas", "{report:#}");
    }
    let lines = evidence(&report, "schema ids");
    let orders = &s.orders;
    for line in [
        format!("schema id 1 (subject \"{orders}-value\"): 20 record(s)"),
        format!("schema id 2 (subject \"{orders}-key\"): 20 record(s)"),
        // Soft-deleted: still resolves, as it does for the registries' readers.
        format!("schema id 3 (subject \"{orders}-value\"): 1 record(s)"),
        "22 record(s) read on the target: 20 key(s) and 21 value(s) framed with a schema id, 1 record(s) with neither (skipped)".to_string(),
    ] {
        assert!(has(&lines, &line), "{line:?} missing: {lines:#?}");
    }
    let findings = check(&report, "schema ids")["findings"]
        .as_array()
        .unwrap()
        .clone();
    assert!(findings
        .iter()
        .any(|f| f["kind"] == "schema_id_records" && f["id"] == 1 && f["records"] == 20));

    // A record of a schema that was hard-deleted (id 4), and one of an id never registered.
    let source = shared::plain_source();
    data::produce(
        &source.admin_config(),
        orders,
        &[
            record(1, None, Some(framed(4, "gone"))),
            record(1, Some(framed(77, "k")), Some(framed(1, "ok"))),
        ],
    )
    .await
    .unwrap();
    apply_until_synced(&s.config);
    let report = assert_schema_ids_fail(&s.config);
    let lines = evidence(&report, "schema ids");
    // Named by their offsets on the target (where commit markers take offsets too).
    let on_target = data::read_all(&shared::target().admin_config(), orders).unwrap();
    let offset_of = |value: Vec<u8>| {
        on_target[&1]
            .iter()
            .find(|s| s.record.value.as_ref() == Some(&value))
            .map(|s| s.offset)
            .unwrap()
    };
    let (gone, unknown) = (offset_of(framed(4, "gone")), offset_of(framed(1, "ok")));
    for line in [
        format!("{orders} partition 1 target offset {gone}: the value references schema id 4, which the target's registry does not hold (nor does the source's)"),
        format!("{orders} partition 1 target offset {unknown}: the key references schema id 77, which the target's registry does not hold (nor does the source's)"),
    ] {
        assert!(has(&lines, &line), "{line:?} missing: {lines:#?}");
    }
    let missing: Vec<&Value> = check(&report, "schema ids")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "schema_id_missing")
        .collect();
    assert_eq!(missing.len(), 2, "{missing:#?}");
    assert_eq!(missing[0]["topic"], orders.as_str());
    assert_eq!(missing[0]["partition"], 1);
    for c in report["checks"].as_array().unwrap() {
        if c["name"] != "schema ids" {
            assert_ne!(c["status"], "FAIL", "{report:#}");
        }
    }
}

#[tokio::test]
async fn a_registry_left_out_fails_and_a_target_registry_differing_under_an_id_is_named() {
    // `_schemas_PREFIX` is not selected by `^PREFIX\.`.
    let s = setup("schemas_out", |prefix| format!("_schemas_{prefix}")).await;
    apply_until_synced(&s.config);
    let report = assert_schema_ids_fail(&s.config);
    let lines = evidence(&report, "schema ids");
    let (orders, registry) = (&s.orders, &s.registry);
    for line in [
        format!("the registry topic \"{registry}\" is not migrated"),
        format!("{orders} partition 0 target offset 0: the key references schema id 2, which the target's registry does not hold (the source's does)"),
    ] {
        assert!(has(&lines, &line), "{line:?} missing: {lines:#?}");
    }

    // The target's own registry holds the same schemas (registered there by other means):
    // a warning that the migration does not move the registry, READY.
    let target = shared::target();
    data::create_topic(
        &target.admin_config(),
        registry,
        1,
        1,
        &[("cleanup.policy", "compact")],
    )
    .await
    .unwrap();
    data::produce(&target.admin_config(), registry, &registry_records(orders))
        .await
        .unwrap();
    let (code, report) = verify(&s.config);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(check(&report, "schema ids")["status"], "WARN", "{report:#}");

    // Then another schema under id 1 on the target only.
    data::produce(
        &target.admin_config(),
        registry,
        &[schema(
            &format!("{orders}-value"),
            1,
            1,
            "\"string\"",
            false,
        )],
    )
    .await
    .unwrap();
    let report = assert_schema_ids_fail(&s.config);
    let lines = evidence(&report, "schema ids");
    let line = format!(
        "schema id 1 (subject \"{orders}-value\"): the target's registry holds another schema under it (differing: schema)"
    );
    assert!(has(&lines, &line), "{line:?} missing: {lines:#?}");
    let differs: Vec<&Value> = check(&report, "schema ids")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "schema_differs")
        .collect();
    assert_eq!(differs.len(), 1, "{differs:#?}");
    assert_eq!(differs[0]["id"], 1);
}

/// Writes registry records (`NOOP`, as a registry does) to `topic` until stopped.
fn registry_writer(
    cluster: &Cluster,
    topic: &str,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let producer: BaseProducer = cluster
        .admin_config()
        .set("linger.ms", "0")
        .create()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (flag, topic) = (stop.clone(), topic.to_string());
    let handle = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            let _ = producer.send(
                BaseRecord::<[u8], [u8]>::to(&topic)
                    .partition(0)
                    .key(br#"{"keytype":"NOOP","magic":0}"#),
            );
            producer.poll(Duration::from_millis(50));
        }
        let _ = producer.flush(Duration::from_secs(10));
    });
    (stop, handle)
}

#[tokio::test]
async fn a_registry_topic_still_written_holds_cutover_at_the_quiet_gate() {
    let s = setup("schemas_quiet", |prefix| format!("{prefix}._schemas")).await;
    apply_until_synced(&s.config);
    let (stop, writing) = registry_writer(shared::plain_source(), &s.registry);
    let out = kafka_migrate(&s.config)
        .args(["cutover", "--dry-run", "--timeout", "8s"])
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    writing.join().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("written: {} partition 0", s.registry)),
        "{text}"
    );
    assert!(
        !text.contains(&format!("written: {} partition", s.orders)),
        "{text}"
    );
}
