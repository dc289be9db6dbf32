//! `offsets translate` on real clusters: source positions kept outside Kafka translate to the
//! same target offsets the group sync commits for groups at those positions — inside aborted
//! transactions, on markers and in compaction gaps — and, once the source cluster is stopped,
//! the offset map recorded at cutover (and its export) gives the same answers.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_harness::data::{self, Record};
use kafka_harness::{shared, Cluster, ClusterSpec, Flavour};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;

use crate::support::schema::{assert_valid, run_json};
use crate::support::{
    apply_until_synced, committed_offset, kafka_migrate, migration_file, poll_until,
    write_until_compacted,
};

/// `(topic, partition, offset)` → the target offset (`None`: not translated), and the status.
type Answers = BTreeMap<(String, i32, i64), (Option<i64>, String)>;

fn answers(report: &serde_json::Value) -> Answers {
    report["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                (
                    o["topic"].as_str().unwrap().to_string(),
                    o["partition"].as_i64().unwrap() as i32,
                    o["source_offset"].as_i64().unwrap(),
                ),
                (
                    o["target_offset"].as_i64(),
                    o["status"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

/// A topic whose log has aborted transactions and markers: records 0..20 committed (marker
/// at 20), 21..31 aborted (marker at 31), 32..47 committed (marker at 47), then 48..53 written
/// outside any transaction.
fn transactional_topic(source: &Cluster, topic: &str) {
    let batch = |n: usize| -> Vec<Record> { data::sample_records(n, 1) };
    let (first, aborted, second) = (batch(20), batch(10), batch(15));
    data::produce_in_transactions(
        &source.admin_config(),
        topic,
        &[
            (&first[..], true),
            (&aborted[..], false),
            (&second[..], true),
        ],
    )
    .unwrap();
}

/// A compacted topic with gaps in its log; cleaning is then switched off (the source log
/// stays as the translations were computed on).
async fn compacted_topic(source: &Cluster, topic: &str) {
    let configs: &[(&str, &str)] = &[
        ("cleanup.policy", "compact"),
        ("segment.ms", "100"),
        ("min.cleanable.dirty.ratio", "0.01"),
        ("min.compaction.lag.ms", "0"),
    ];
    data::create_topic(&source.admin_config(), topic, 1, 1, configs)
        .await
        .unwrap();
    write_until_compacted(source, topic).await;
    // No more cleaning: the log keeps its gaps as they are.
    let admin: AdminClient<DefaultClientContext> = source.admin_config().create().unwrap();
    let config = AlterConfig::new(ResourceSpecifier::Topic(topic))
        .set("cleanup.policy", "delete")
        .set("retention.ms", "-1");
    let altered = admin
        .alter_configs([&config], &AdminOptions::new())
        .await
        .unwrap();
    assert!(altered.iter().all(Result::is_ok), "{altered:?}");
    // A clean under way ends: the log reads the same twice.
    let offsets = || -> Vec<i64> {
        data::read_all(&source.admin_config(), topic).unwrap()[&0]
            .iter()
            .map(|s| s.offset)
            .collect()
    };
    let mut last = offsets();
    let settled = poll_until(Duration::from_secs(60), || {
        std::thread::sleep(Duration::from_secs(1));
        let now = offsets();
        std::mem::replace(&mut last, now.clone()) == now
    });
    assert!(settled, "{topic} kept changing");
}

#[tokio::test]
async fn external_offsets_translate_as_groups_do_and_from_the_map_once_the_source_is_gone() {
    // A source of its own: the test stops it.
    let source = Cluster::start(ClusterSpec::new("offsets-source", Flavour::Plain)).unwrap();
    let target = shared::target();
    let prefix = data::unique_name("xoffsets").replace('-', "_");
    let (tx, compacted) = (format!("{prefix}.tx"), format!("{prefix}.compacted"));
    data::create_topic(&source.admin_config(), &tx, 1, 1, &[])
        .await
        .unwrap();
    transactional_topic(&source, &tx);
    data::produce(&source.admin_config(), &tx, &data::sample_records(5, 1))
        .await
        .unwrap();
    compacted_topic(&source, &compacted).await;
    let log = data::read_all(&source.admin_config(), &compacted).unwrap()[&0].clone();
    let present: Vec<i64> = log.iter().map(|s| s.offset).collect();
    let compacted_end = present.last().unwrap() + 1;
    let gap = (0..compacted_end)
        .find(|o| !present.contains(o))
        .expect("a compaction gap");

    // Positions: at the start, inside a transaction, on a marker, inside the aborted
    // transaction, on its marker, after it, at the end — and in a compaction gap.
    let tx_positions = [0, 5, 20, 21, 25, 31, 32, 40, 47, 48, 53];
    let compacted_positions = [0, gap, present[present.len() / 2], compacted_end];
    // One group per position pair: the group sync translates what each committed.
    let groups: Vec<String> = (0..tx_positions.len())
        .map(|i| format!("{prefix}-g{i}"))
        .collect();
    for (i, group) in groups.iter().enumerate() {
        let c = compacted_positions[i % compacted_positions.len()];
        data::commit_offsets(
            &source.admin_config(),
            group,
            &[
                (tx.as_str(), 0, tx_positions[i]),
                (compacted.as_str(), 0, c),
            ],
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(
        dir.path(),
        &prefix,
        &prefix,
        &source,
        target,
        "cutover {\n  quiet_period = \"1s\"\n}",
    );
    apply_until_synced(&config);

    // What the group sync committed on the target, per position.
    let mut by_groups: BTreeMap<(String, i32, i64), i64> = BTreeMap::new();
    for (i, group) in groups.iter().enumerate() {
        let c = compacted_positions[i % compacted_positions.len()];
        for (topic, s) in [(&tx, tx_positions[i]), (&compacted, c)] {
            let t = committed_offset(target, group, topic, 0)
                .unwrap_or_else(|| panic!("group {group} has no offset for {topic} on the target"));
            by_groups.insert((topic.clone(), 0, s), t);
        }
    }
    let mut args: Vec<String> = vec!["offsets".into(), "translate".into(), "--json".into()];
    for (topic, partition, offset) in by_groups.keys() {
        args.extend(["--position".into(), format!("{topic}:{partition}:{offset}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, walked) = run_json(&config, &args, "offsets-translate.schema.json");
    assert_eq!(walked["method"]["kind"], "walked", "{walked:#}");
    assert_eq!(code, Some(0), "{walked:#}");
    let translated: BTreeMap<(String, i32, i64), i64> = answers(&walked)
        .into_iter()
        .map(|(k, (t, _))| (k, t.unwrap()))
        .collect();
    assert_eq!(translated, by_groups);
    // The aborted transaction and the gap do not translate as "offset + constant".
    assert_eq!(
        translated[&(tx.clone(), 0, 25)],
        translated[&(tx.clone(), 0, 32)]
    );

    // Every offset of both partitions, and one past the end and an unknown partition.
    let sweep = dir.path().join("sweep.csv");
    let mut csv = String::from("topic,partition,offset\n");
    for o in 0..=54 {
        csv.push_str(&format!("{tx},0,{o}\n"));
    }
    for o in 0..=compacted_end + 1 {
        csv.push_str(&format!("{compacted},0,{o}\n"));
    }
    csv.push_str(&format!("{tx},7,3\n"));
    std::fs::write(&sweep, csv).unwrap();
    let sweep_args = [
        "offsets",
        "translate",
        "--json",
        "--file",
        sweep.to_str().unwrap(),
    ];
    let (code, walked) = run_json(&config, &sweep_args, "offsets-translate.schema.json");
    assert_eq!(code, Some(2), "pending and unknown positions: {walked:#}");
    let walked = answers(&walked);
    assert_eq!(walked[&(tx.clone(), 0, 54)], (None, "pending".to_string()));
    assert_eq!(walked[&(tx.clone(), 7, 3)], (None, "unknown".to_string()));
    assert_eq!(walked[&(tx.clone(), 0, 53)].1, "exact");

    // The cutover records the map; the export writes it.
    let out = kafka_migrate(&config)
        .args(["cutover", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let map_path = dir.path().join("offset-map.json");
    kafka_migrate(&config)
        .args([
            "export",
            "offset-map",
            "--output",
            map_path.to_str().unwrap(),
        ])
        .assert()
        .success();
    let map: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&map_path).unwrap()).unwrap();
    assert_valid("offset-map.schema.json", &map);
    let tx_map = map["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["topic"] == tx.as_str())
        .unwrap();
    // Compact: a run per stretch of consecutive offsets (the aborted transaction and the
    // markers break them), not a pair per record.
    let runs = tx_map["runs"].as_array().unwrap();
    let records: i64 = runs.iter().map(|r| r[2].as_i64().unwrap()).sum();
    assert_eq!(records, 40, "{tx_map:#}");
    assert!(runs.len() >= 3 && runs.len() < 20, "{tx_map:#}");

    // The source is gone: the recorded map answers, and the exported one, as the walk did.
    drop(source);
    let (code, from_map) = run_json(&config, &sweep_args, "offsets-translate.schema.json");
    assert_eq!(code, Some(2));
    assert_eq!(from_map["method"]["kind"], "recorded_map", "{from_map:#}");
    assert_eq!(from_map["method"]["current"], true);
    assert!(from_map["method"]["why"]
        .as_str()
        .unwrap()
        .starts_with("the source cannot be reached"));
    assert_eq!(answers(&from_map), walked);
    let mut file_args = sweep_args.to_vec();
    file_args.extend(["--map", map_path.to_str().unwrap()]);
    let (_, from_file) = run_json(&config, &file_args, "offsets-translate.schema.json");
    assert_eq!(from_file["method"]["kind"], "map_file");
    assert_eq!(answers(&from_file), walked);

    // Spark's form, back in Spark's form.
    let spark = dir.path().join("offsets.json");
    std::fs::write(
        &spark,
        format!(r#"{{"{tx}":{{"0":25}},"{compacted}":{{"0":{gap}}}}}"#),
    )
    .unwrap();
    let out = kafka_migrate(&config)
        .args(["offsets", "translate", "--format", "spark", "--file"])
        .arg(&spark)
        .assert()
        .success();
    let printed: BTreeMap<String, BTreeMap<String, i64>> =
        serde_json::from_slice(&out.get_output().stdout).unwrap();
    let expected = |topic: &String, s: i64| {
        (
            topic.clone(),
            BTreeMap::from([("0".to_string(), by_groups[&(topic.clone(), 0, s)])]),
        )
    };
    assert_eq!(
        printed,
        BTreeMap::from([expected(&tx, 25), expected(&compacted, gap)])
    );
}

/// An exported map translates with no cluster at all (the migration file's brokers answer
/// nothing); what it cannot translate is said, not guessed, and a map of another migration or
/// format is refused.
#[test]
fn an_exported_map_translates_with_no_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migration.hcl");
    std::fs::write(
        &config,
        "name = \"gone\"\ncluster \"source\" { bootstrap_servers = [\"127.0.0.1:1\"] }\ncluster \"target\" { bootstrap_servers = [\"127.0.0.1:1\"] }\n",
    )
    .unwrap();
    // Source 0..10 on target 0..10 (marker at 10), 15..20 (10..15 aborted) on 11..16, end
    // (20, 17).
    let map = |migration: &str, version: &str| {
        format!(
            r#"{{"format_version":"{version}","migration":"{migration}","at_ms":0,"partitions":[{{"topic":"orders","partition":0,"alignments":[[0,0],[20,17]],"runs":[[0,0,10],[15,11,5]]}}]}}"#
        )
    };
    let map_file = dir.path().join("map.json");
    std::fs::write(&map_file, map("gone", "1.0")).unwrap();
    let positions = dir.path().join("positions.csv");
    std::fs::write(
        &positions,
        "topic,partition,offset\norders,0,3\norders,0,12\norders,0,20\norders,0,21\norders,1,0\n",
    )
    .unwrap();
    let translate = |extra: &[&str]| {
        let mut cmd = kafka_migrate(&config);
        cmd.args(["offsets", "translate", "--map"])
            .arg(&map_file)
            .arg("--file")
            .arg(&positions)
            .args(extra);
        cmd.output().unwrap()
    };
    let out = translate(&[]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Translated 5 position(s) of migration \"gone\" with the offset map in "),
        "{text}"
    );
    for line in [
        "orders partition 0: 3 → 3",
        "orders partition 0: 12 → 11",
        "orders partition 0: 20 → 17",
        "orders partition 0: 21 → pending: past what was replicated",
        "orders partition 1: 0 → unknown: the offset map does not hold this partition",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    let out = translate(&["--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "topic,partition,offset\norders,0,3\norders,0,11\norders,0,17\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not translated: orders partition 0: 21 → pending"),
        "{stderr}"
    );

    std::fs::write(&map_file, map("other", "1.0")).unwrap();
    let out = translate(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("offset map of migration \"other\""));
    std::fs::write(&map_file, map("gone", "2.0")).unwrap();
    let out = translate(&[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("format version 2.0"));
    std::fs::write(&map_file, map("gone", "1.0")).unwrap();
    std::fs::write(&positions, "orders,0,3\norders,x,1\n").unwrap();
    let out = translate(&[]);
    let stderr = crate::support::flat(&String::from_utf8_lossy(&out.stderr));
    assert!(
        stderr.contains("positions.csv: line 2: orders: \"x\" is not a partition number"),
        "{stderr}"
    );
}
