//! The harness itself, on real brokers: clusters start, clients produce and consume, SCRAM and
//! ACLs are enforced, the Kafka runtime is cached, and no JVM outlives the process that
//! started it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kafka_harness::data::{self, is_authorization_error, Record};
use kafka_harness::tools::Tool;
use kafka_harness::{process, shared, Runtime, ALICE, BOB};
use std::sync::Mutex;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;

#[tokio::test]
async fn records_round_trip_on_a_plain_cluster() {
    let cluster = shared::plain_source();
    let topic = data::unique_name("roundtrip");
    data::create_topic(&cluster.admin_config(), &topic, 3, 1, &[])
        .await
        .unwrap();
    let records = data::sample_records(300, 3);
    data::produce(&cluster.admin_config(), &topic, &records)
        .await
        .unwrap();

    let read = data::read_all(&cluster.admin_config(), &topic).unwrap();
    assert_eq!(read.len(), 3);
    for (partition, stored) in &read {
        let expected: Vec<&Record> = records
            .iter()
            .filter(|r| r.partition == *partition)
            .collect();
        let got: Vec<&Record> = stored.iter().map(|s| &s.record).collect();
        assert_eq!(got, expected, "partition {partition}");
        let offsets: Vec<i64> = stored.iter().map(|s| s.offset).collect();
        assert_eq!(offsets, (0..expected.len() as i64).collect::<Vec<_>>());
    }
    // Null keys, null values and a null header survived the trip.
    let all: Vec<&Record> = read.values().flatten().map(|s| &s.record).collect();
    assert!(all.iter().any(|r| r.key.is_none()));
    assert!(all.iter().any(|r| r.value.is_none()));
    assert!(all
        .iter()
        .all(|r| r.headers.iter().any(|(k, v)| k == "nothing" && v.is_none())));
}

#[tokio::test]
async fn scram_login_and_acls_are_enforced_on_the_secure_cluster() {
    let cluster = shared::secure_source();
    let topic = data::unique_name("secured");
    data::create_topic(&cluster.admin_config(), &topic, 1, 1, &[])
        .await
        .unwrap();
    data::produce(
        &cluster.admin_config(),
        &topic,
        &data::sample_records(10, 1),
    )
    .await
    .unwrap();

    // The right password logs in: metadata answers.
    let consumer: BaseConsumer = cluster.client_config(ALICE).create().unwrap();
    consumer
        .fetch_metadata(None, Duration::from_secs(20))
        .expect("alice logs in with her password");

    // A wrong password fails, and says it is an authentication failure.
    let wrong = kafka_harness::User {
        name: "alice",
        password: "not-her-password",
    };
    let consumer: BaseConsumer<ErrorRecorder> = cluster
        .client_config(wrong)
        .create_with_context(ErrorRecorder::default())
        .unwrap();
    consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .expect_err("a wrong password must not log in");
    // Error events reach the context when the client is polled.
    let errors = wait_for(|| {
        let _ = consumer.poll(Duration::from_millis(100));
        let errors = consumer.context().errors.lock().unwrap().join("\n");
        (!errors.is_empty()).then_some(errors)
    });
    assert!(
        errors.contains("Authentication failed") && errors.contains("invalid credentials"),
        "the client was not told why: {errors}"
    );

    // Bob has no ACL on the topic: reading is refused with an authorization error.
    let denied = data::read_all(&cluster.client_config(BOB), &topic).expect_err("bob may not read");
    match &denied {
        kafka_harness::HarnessError::Kafka(e) => assert!(is_authorization_error(e), "{e}"),
        other => panic!("expected an authorization error, got {other}"),
    }

    // Granting bob READ/DESCRIBE on the topic and his group prefix lets him read.
    cluster
        .tool(
            Tool::Acls,
            &[
                "--add",
                "--allow-principal",
                "User:bob",
                "--operation",
                "Read",
                "--operation",
                "Describe",
                "--topic",
                &topic,
            ],
        )
        .unwrap();
    cluster
        .tool(
            Tool::Acls,
            &[
                "--add",
                "--allow-principal",
                "User:bob",
                "--operation",
                "Read",
                "--group",
                "harness-reader",
                "--resource-pattern-type",
                "prefixed",
            ],
        )
        .unwrap();
    let read = wait_for(|| data::read_all(&cluster.client_config(BOB), &topic).ok());
    assert_eq!(read.values().map(Vec::len).sum::<usize>(), 10);
}

#[test]
fn a_second_resolution_downloads_nothing() {
    let first = Runtime::resolve().unwrap();
    assert!(first
        .libs
        .join(format!("kafka_2.13-{}.jar", kafka_harness::KAFKA_VERSION))
        .exists());
    // With a Maven that always fails, resolution must still succeed from the cache.
    let again = Runtime::resolve_in(
        &kafka_harness::runtime::cache_root(),
        std::path::Path::new("/bin/false"),
    )
    .unwrap();
    assert!(!again.downloaded);
    assert_eq!(again.libs, first.libs);
}

#[test]
fn a_download_is_announced_with_what_it_fetches_and_roughly_how_big_it_is() {
    // The size said is the cached closure's, give or take a fifth.
    let cached = Runtime::resolve().unwrap();
    let bytes: u64 = std::fs::read_dir(&cached.libs)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let said = u64::from(kafka_harness::Release::Current.download_megabytes());
    let measured = bytes / 1_000_000;
    assert!(
        measured * 5 >= said * 4 && measured * 5 <= said * 6,
        "{measured} MB cached, {said} MB said"
    );
    // An empty cache and a Maven that fails at once: the line comes before Maven runs.
    let dir = std::env::temp_dir().join(data::unique_name("empty-cache"));
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let mvn = bin.join("mvn");
    std::fs::write(&mvn, "#!/bin/sh\necho 'no network here'\nexit 1\n").unwrap();
    let mut permissions = std::fs::metadata(&mvn).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&mvn, permissions).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_kafka-up"))
        .env("KAFKA_MIGRATE_CACHE", dir.join("cache"))
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let announced = format!(
        "Downloading Apache Kafka {} from Maven Central with Maven (about {said} MB of jars",
        kafka_harness::KAFKA_VERSION
    );
    let at = stderr
        .find(&announced)
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(stderr[at..].contains("no network here"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A client context that keeps the error events librdkafka reports (such as SASL failures).
#[derive(Default)]
struct ErrorRecorder {
    errors: Mutex<Vec<String>>,
}

impl ClientContext for ErrorRecorder {
    fn error(&self, error: KafkaError, reason: &str) {
        self.errors
            .lock()
            .unwrap()
            .push(format!("{error}: {reason}"));
    }
}

impl ConsumerContext for ErrorRecorder {}

/// Starts `kafka-up` as a child, returns it with the JVM pids it reported.
fn kafka_up(extra: &[&str]) -> (std::process::Child, Vec<u32>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafka-up"))
        .args(["--name", &data::unique_name("lifecycle")])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let pids = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("pids="))
        .unwrap_or_else(|| panic!("kafka-up did not report ready: {line:?}"))
        .split(',')
        .map(|p| p.parse().unwrap())
        .collect::<Vec<u32>>();
    assert!(!pids.is_empty());
    assert!(pids.iter().all(|p| process::is_alive(*p)));
    (child, pids)
}

fn assert_all_gone(pids: &[u32]) {
    wait_for(|| pids.iter().all(|p| !process::is_alive(*p)).then_some(()));
}

#[test]
fn jvms_die_when_their_parent_is_killed_with_sigkill() {
    let (mut child, pids) = kafka_up(&[]);
    child.kill().unwrap(); // SIGKILL: no destructor, no handler runs.
    child.wait().unwrap();
    assert_all_gone(&pids);
}

#[test]
fn jvms_die_when_their_parent_panics() {
    let (mut child, pids) = kafka_up(&["--panic-when-ready"]);
    // Told to panic only now that its JVMs were seen running.
    child.stdin.take().unwrap().write_all(b"panic\n").unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_all_gone(&pids);
}

/// Polls `probe` until it answers, for at most 60 seconds.
fn wait_for<T>(mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "condition not met within 60s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn a_three_node_cluster_survives_losing_a_node() {
    use kafka_harness::{Cluster, ClusterSpec, Flavour};
    let cluster =
        Cluster::start(ClusterSpec::new(&data::unique_name("three"), Flavour::Plain).nodes(3))
            .unwrap();
    let consumer: BaseConsumer = cluster.admin_config().create().unwrap();
    let md = consumer
        .fetch_metadata(None, Duration::from_secs(20))
        .unwrap();
    assert_eq!(md.brokers().len(), 3);
    let topic = data::unique_name("replicated");
    data::create_topic(
        &cluster.admin_config(),
        &topic,
        3,
        3,
        &[("min.insync.replicas", "2")],
    )
    .await
    .unwrap();
    cluster.kill_node(2);
    // Two of three replicas remain: records are still accepted and read back.
    data::produce(
        &cluster.admin_config(),
        &topic,
        &data::sample_records(30, 3),
    )
    .await
    .unwrap();
    let read = data::read_all(&cluster.admin_config(), &topic).unwrap();
    assert_eq!(read.values().map(Vec::len).sum::<usize>(), 30);
    cluster.start_node(2).unwrap();
    cluster.wait_ready(3).unwrap();
}
