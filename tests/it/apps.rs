//! Applications move with their state. A Kafka Streams word count (exactly-once, a state store
//! and a repartition topic) and a Kafka Connect cluster (a file source connector) run on the
//! source and stop mid-stream, with input left for them there. A migration file names only
//! their own topics and groups; `plan` recognises both units and carries their internal
//! topics; after `apply --until-synced`, the word count (a fresh state directory) and the
//! worker started against the target carry on exactly: every word's counts on the target run
//! 1, 2, 3, … to its total (none restarted, none doubled), every line of the file is there
//! once.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use kafka_harness::apps::StreamsApp;
use kafka_harness::connect::ConnectWorker;
use kafka_harness::data::{self, Record};
use kafka_harness::{shared, Cluster};

use crate::support::{apply_until_synced, kafka_migrate, wait_for};

const WAIT: Duration = Duration::from_secs(180);
const VOCABULARY: [&str; 7] = ["kafka", "stream", "state", "store", "topic", "group", "log"];

/// `count` lines of words from the vocabulary, numbered from `first` so that each batch
/// differs.
fn sentences(first: usize, count: usize) -> Vec<String> {
    (first..first + count)
        .map(|i| {
            (0..1 + i % 4)
                .map(|j| VOCABULARY[(i * 3 + j * 5) % VOCABULARY.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// How many times each word occurs in `lines`.
fn totals(lines: &[String]) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    for word in lines.iter().flat_map(|l| l.split(' ')) {
        *totals.entry(word.to_string()).or_insert(0) += 1;
    }
    totals
}

async fn produce_lines(cluster: &Cluster, topic: &str, lines: &[String]) {
    let records: Vec<Record> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| Record {
            partition: (i % 2) as i32,
            key: None,
            value: Some(line.clone().into_bytes()),
            headers: Vec::new(),
            timestamp: None,
        })
        .collect();
    data::produce(&cluster.admin_config(), topic, &records)
        .await
        .unwrap();
}

/// Every value of `topic` on `cluster` (read_committed), by key, in the order written.
fn values_by_key(cluster: &Cluster, topic: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Ok(partitions) = data::read_all(&cluster.admin_config(), topic) else {
        return by_key;
    };
    for stored in partitions.into_values().flatten() {
        let text = |b: Option<Vec<u8>>| String::from_utf8(b.unwrap_or_default()).unwrap();
        by_key
            .entry(text(stored.record.key))
            .or_default()
            .push(text(stored.record.value));
    }
    by_key
}

/// Each word's counts as the word count wrote them: 1, 2, … up to its total.
fn counted(cluster: &Cluster, topic: &str) -> BTreeMap<String, Vec<u64>> {
    values_by_key(cluster, topic)
        .into_iter()
        .map(|(word, counts)| (word, counts.iter().map(|c| c.parse().unwrap()).collect()))
        .collect()
}

fn runs_to_totals(expected: &BTreeMap<String, u64>) -> BTreeMap<String, Vec<u64>> {
    expected
        .iter()
        .map(|(word, n)| (word.clone(), (1..=*n).collect()))
        .collect()
}

/// The values of `topic` on `cluster` (read_committed), in the order written.
fn lines_of(cluster: &Cluster, topic: &str) -> Vec<String> {
    values_by_key(cluster, topic)
        .into_values()
        .flatten()
        .collect()
}

fn append(file: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    for line in lines {
        writeln!(f, "{line}").unwrap();
    }
    f.sync_all().unwrap();
}

/// A distributed worker's properties, its topics named after `group`.
fn worker_properties(cluster: &Cluster, group: &str) -> String {
    format!(
        "bootstrap.servers={}\ngroup.id={group}\n\
         config.storage.topic={group}-configs\noffset.storage.topic={group}-offsets\nstatus.storage.topic={group}-status\n\
         config.storage.replication.factor=1\noffset.storage.replication.factor=1\nstatus.storage.replication.factor=1\n\
         offset.storage.partitions=3\nstatus.storage.partitions=2\noffset.flush.interval.ms=500\n\
         key.converter=org.apache.kafka.connect.storage.StringConverter\n\
         value.converter=org.apache.kafka.connect.storage.StringConverter\n",
        cluster.bootstrap()
    )
}

/// Submits the file source connector `name` (reading `file` into `topic`) to the worker at
/// `url`, asking again while the worker's group settles.
async fn submit_file_source(url: &str, name: &str, file: &Path, topic: &str) {
    let config = serde_json::json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": file.display().to_string(),
        "topic": topic,
    });
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let reply = client
            .put(format!("{url}/connectors/{name}/config"))
            .json(&config)
            .send()
            .await;
        match reply {
            Ok(r) if r.status().is_success() => return,
            // The worker answers 409 while its group rebalances: asked again shortly.
            _ if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(500)).await
            }
            other => panic!("submitting {name}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_and_connect_applications_carry_on_exactly_on_the_target() {
    let source = shared::plain_source();
    let target = shared::target();
    let id = data::unique_name("apps");
    let (words, counts, lines) = (
        format!("{id}.words"),
        format!("{id}.counts"),
        format!("{id}.lines"),
    );
    let app = format!("{id}-wc");
    let workers = format!("{id}-connect");
    for (topic, partitions) in [(&words, 2), (&counts, 2), (&lines, 1)] {
        data::create_topic(&source.admin_config(), topic, partitions, 1, &[])
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.txt");
    append(&input, &[]);

    // On the source: the word count counts a first batch, the worker reads a first batch of
    // lines; both stop once their output is committed.
    let source_state = tempfile::tempdir().unwrap();
    let mut word_count = StreamsApp::word_count(
        &format!("{id}-wc-source"),
        &source.bootstrap(),
        &app,
        &words,
        &counts,
        source_state.path(),
    )
    .unwrap();
    let first = sentences(0, 40);
    produce_lines(source, &words, &first).await;
    wait_for(
        WAIT,
        || {
            format!(
                "the word count of the first batch; see {}",
                word_count.log().display()
            )
        },
        || counted(source, &counts) == runs_to_totals(&totals(&first)),
    );
    let mut worker = ConnectWorker::start(
        &format!("{id}-worker-source"),
        &worker_properties(source, &workers),
    )
    .unwrap();
    let file_lines: Vec<String> = (0..60).map(|i| format!("line {i:03}")).collect();
    append(&input, &file_lines[..20]);
    submit_file_source(&worker.url(), &format!("{id}-file"), &input, &lines).await;
    wait_for(
        WAIT,
        || {
            format!(
                "the first 20 lines on the source; see {}",
                worker.dir().display()
            )
        },
        || lines_of(source, &lines) == file_lines[..20],
    );
    word_count.stop();
    worker.stop();
    // Mid-stream: input arrives while they are stopped.
    let second = sentences(40, 30);
    produce_lines(source, &words, &second).await;
    append(&input, &file_lines[20..40]);

    // A migration file that names only the applications' own topics and groups.
    let config = dir.path().join("migration.hcl");
    std::fs::write(
        &config,
        format!(
            r#"name = "{id}"
cluster "source" {{
  bootstrap_servers = ["{}"]
}}
cluster "target" {{
  bootstrap_servers = ["{}"]
}}
topics {{
  names              = ["{words}", "{counts}", "{lines}"]
  replication_factor = 1
}}
consumer_groups {{
  include = ["^{app}$", "^{workers}$"]
}}
"#,
            source.bootstrap(),
            target.bootstrap()
        ),
    )
    .unwrap();
    let (code, plan) =
        crate::support::schema::run_json(&config, &["plan", "--json"], "plan.schema.json");
    assert_eq!(code, Some(0), "{plan:#}");
    let unit = |name: &str| {
        plan["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == name)
            .unwrap_or_else(|| panic!("no unit {name} in {plan:#}"))
            .clone()
    };
    let carried = |unit: &serde_json::Value| -> Vec<(String, String, String)> {
        unit["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let s = |k: &str| t[k].as_str().unwrap().to_string();
                (s("topic"), s("role"), s("carriage"))
            })
            .collect()
    };
    let streams = unit(&app);
    assert_eq!(streams["kind"], "streams_application");
    assert_eq!(streams["moves"], true);
    assert_eq!(streams["group_carried"], true);
    assert_eq!(
        carried(&streams),
        vec![
            (
                format!("{app}-counts-changelog"),
                "changelog".into(),
                "added".into()
            ),
            (
                format!("{app}-words-repartition"),
                "repartition".into(),
                "added".into()
            ),
        ]
    );
    let connect = unit(&workers);
    assert_eq!(connect["kind"], "connect_cluster");
    assert_eq!(connect["moves"], true);
    assert_eq!(
        carried(&connect),
        vec![
            (
                format!("{workers}-configs"),
                "connect_configs".into(),
                "added".into()
            ),
            (
                format!("{workers}-offsets"),
                "connect_offsets".into(),
                "added".into()
            ),
            (
                format!("{workers}-status"),
                "connect_status".into(),
                "added".into()
            ),
        ]
    );
    let text =
        String::from_utf8(kafka_migrate(&config).arg("plan").output().unwrap().stdout).unwrap();
    assert!(text.contains("Applications on the source:"), "{text}");
    assert!(
        text.contains(&format!(
            "streams application \"{app}\": moves with the migration"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{app}-counts-changelog (added: carried with its application)"
        )),
        "{text}"
    );

    apply_until_synced(&config);

    // On the target: the word count with a fresh state directory, the worker with the same
    // settings (its connector came along in its topics).
    let target_state = tempfile::tempdir().unwrap();
    let mut word_count = StreamsApp::word_count(
        &format!("{id}-wc-target"),
        &target.bootstrap(),
        &app,
        &words,
        &counts,
        target_state.path(),
    )
    .unwrap();
    let worker = ConnectWorker::start(
        &format!("{id}-worker-target"),
        &worker_properties(target, &workers),
    )
    .unwrap();
    let third = sentences(70, 30);
    produce_lines(target, &words, &third).await;
    append(&input, &file_lines[40..]);
    let all: Vec<String> = first.iter().chain(&second).chain(&third).cloned().collect();
    let expected = runs_to_totals(&totals(&all));
    wait_for(
        WAIT,
        || {
            format!(
                "every count on the target: {:?} (want {expected:?}); see {}",
                counted(target, &counts),
                word_count.log().display()
            )
        },
        || {
            let now = counted(target, &counts);
            // A count restarted or doubled never turns into the expected runs: fail at once.
            assert!(
                now.iter()
                    .all(|(w, c)| expected.get(w).is_some_and(|e| e.starts_with(c))),
                "counts on the target went wrong: {now:?}, want {expected:?}"
            );
            now == expected
        },
    );
    wait_for(
        WAIT,
        || {
            format!(
                "every line on the target once: {:?}; see {}",
                lines_of(target, &lines),
                worker.dir().display()
            )
        },
        || {
            let now = lines_of(target, &lines);
            assert!(
                file_lines.starts_with(&now),
                "lines on the target went wrong: {now:?}"
            );
            now == file_lines
        },
    );
    word_count.stop();
    assert!(!word_count.running());
}
