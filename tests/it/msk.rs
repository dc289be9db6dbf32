//! MSK-aware planning on real brokers: a target whose brokers refuse, through a create-topic
//! and alter-config policy, what an MSK cluster of each type refuses. Without the type in the
//! migration file `apply` fails on the broker; with it, `plan` shows the type's leave-outs,
//! replication factor and blockers, `apply` makes no refused request, `verify` says READY and
//! the next plan changes nothing.

use std::path::Path;
use std::sync::OnceLock;

use kafka_harness::data;
use kafka_harness::{Cluster, ClusterSpec, Flavour};
use serde_json::Value;

use crate::plan::plan_json;
use crate::support::{apply_until_synced, check, kafka_migrate, pairs, verify};

/// A two-broker source (for replication factor 2) and a three-broker target with the MSK
/// topic policy. The policy imitates one MSK type at a time: the tests take turns.
fn clusters() -> &'static (Cluster, Cluster) {
    static CLUSTERS: OnceLock<(Cluster, Cluster)> = OnceLock::new();
    CLUSTERS.get_or_init(|| {
        let source = Cluster::start(ClusterSpec::new("msk-source", Flavour::Plain).nodes(2))
            .expect("starting the source");
        let target = Cluster::start(
            ClusterSpec::new("msk-target", Flavour::Plain)
                .nodes(3)
                .msk_topic_policy(),
        )
        .expect("starting the target");
        (source, target)
    })
}

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Source topics `P.locked` (a locked config and an allowed one), `P.segments` (a config
/// Express and Serverless do not take), `P.compacted` and `P.big` (a record of 8.5 MiB, above
/// Serverless's limit), all with replication factor 2 and a few records.
async fn source_topics(source: &Cluster, p: &str) {
    let admin = source.admin_config();
    for (topic, configs) in [
        (
            "locked",
            vec![("min.insync.replicas", "2"), ("retention.ms", "3600000")],
        ),
        ("segments", vec![("segment.bytes", "10485760")]),
        ("compacted", vec![("cleanup.policy", "compact")]),
        ("big", vec![("max.message.bytes", "9437184")]),
    ] {
        let name = format!("{p}.{topic}");
        data::create_topic(&admin, &name, 2, 2, &configs)
            .await
            .unwrap();
        // Keyed: a compacted topic refuses records without a key.
        let mut records = data::sample_records(10, 2);
        for (i, r) in records.iter_mut().enumerate() {
            r.key = Some(format!("k{i}").into_bytes());
        }
        data::produce(&admin, &name, &records).await.unwrap();
    }
    let mut big = data::sample_records(1, 1);
    big[0].value = Some((0..8_704 * 1024).map(|b| (b % 251) as u8).collect());
    let producer = admin.clone().set("message.max.bytes", "10000000").clone();
    data::produce(&producer, &format!("{p}.big"), &big)
        .await
        .unwrap();
}

/// The migration file of prefix `p`, with `msk` in the target (none when empty).
fn migration(dir: &Path, p: &str, msk: &str, exclude: &str) -> std::path::PathBuf {
    let (source, target) = clusters();
    let text = format!(
        r#"name = "{p}"
cluster "source" {{
  bootstrap_servers = ["{}"]
}}
cluster "target" {{
  bootstrap_servers = ["{}"]
  {msk}
}}
topics {{
  include = ["^{p}\\..*"]
  exclude = [{exclude}]
}}
consumer_groups {{
  include = ["^{p}-"]
}}
cutover {{
  quiet_period = "1s"
  data_check   = "full"
}}
"#,
        source.bootstrap(),
        target.bootstrap()
    );
    let path = dir.join("migration.hcl");
    std::fs::write(&path, text).unwrap();
    path
}

/// The topics the plan creates (besides the progress topic): name without the prefix,
/// replication factor and configs.
fn creates(plan: &Value, p: &str) -> Vec<String> {
    let mut out: Vec<String> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "create_topic")
        .filter_map(|a| {
            let topic = a["topic"].as_str()?.strip_prefix(&format!("{p}."))?;
            Some(format!(
                "{topic} rf={} {}",
                a["replication_factor"], a["configs"]
            ))
        })
        .collect();
    out.sort();
    out
}

/// The config leave-outs of the plan: topic (without the prefix) and config name.
fn left_out(plan: &Value, p: &str) -> Vec<String> {
    let mut out: Vec<String> = plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "config_left_out")
        .map(|w| {
            let topic = w["subject"].as_str().unwrap().replace(&format!("{p}."), "");
            let message = w["message"].as_str().unwrap();
            let key = message
                .strip_prefix("config ")
                .and_then(|m| m.split_once('='))
                .map_or("", |(k, _)| k);
            format!("{topic} {key}")
        })
        .collect();
    out.sort();
    out
}

/// `apply` of the migration without the MSK type: the brokers refuse its topics.
fn apply_is_refused_without_the_type(dir: &Path, p: &str) {
    let config = migration(dir, p, "", "");
    let out = kafka_migrate(&config)
        .args(["apply", "--auto-approve", "--until-synced"])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("must have replication factor 3"), "{said}");
}

/// `apply`, then `verify` READY with the configs and topics checks passed, then a plan with
/// no change.
fn apply_and_verify(config: &Path) {
    apply_until_synced(config);
    let (code, report) = verify(config);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "READY FOR CUTOVER", "{report:#}");
    for name in ["configs", "topics", "data parity"] {
        assert_eq!(check(&report, name)["status"], "PASS", "{report:#}");
    }
    let again = plan_json(config);
    assert_eq!(again["actions"], Value::Array(vec![]), "{again:#}");
    assert_eq!(again["blockers"], Value::Array(vec![]), "{again:#}");
}

/// This test's turn on the target, imitating MSK `kind`: the lock, a prefix for its topics
/// (created on the source) and a folder for its migration file.
async fn turn(
    kind: &str,
) -> (
    tokio::sync::MutexGuard<'static, ()>,
    String,
    tempfile::TempDir,
) {
    let (source, target) = clusters();
    let turn = TURN.lock().await;
    target.imitate_msk(Some(kind)).unwrap();
    let p = data::unique_name(kind).replace('-', "_");
    source_topics(source, &p).await;
    (turn, p, tempfile::tempdir().unwrap())
}

/// `plan` has no blocker, creates `creates` and leaves out `left`; then
/// [`apply_and_verify`].
fn plan_apply_verify(config: &Path, p: &str, creates_: &[&str], left: &[&str]) {
    let plan = plan_json(config);
    assert_eq!(plan["blockers"], Value::Array(vec![]), "{plan:#}");
    assert_eq!(creates(&plan, p), creates_, "{plan:#}");
    assert_eq!(left_out(&plan, p), left, "{plan:#}");
    apply_and_verify(config);
}

#[tokio::test]
async fn msk_standard_keeps_the_source_replication_factor_and_configs() {
    let (_turn, p, dir) = turn("standard").await;
    let config = migration(dir.path(), &p, "msk { type = \"standard\" }", "");
    plan_apply_verify(
        &config,
        &p,
        &[
            r#"big rf=2 {"max.message.bytes":"9437184"}"#,
            r#"compacted rf=2 {"cleanup.policy":"compact"}"#,
            r#"locked rf=2 {"retention.ms":"3600000"}"#,
            r#"segments rf=2 {"segment.bytes":"10485760"}"#,
        ],
        &[],
    );
}

#[tokio::test]
async fn msk_express_gets_three_replicas_and_only_the_configs_it_takes() {
    let (_turn, p, dir) = turn("express").await;
    apply_is_refused_without_the_type(dir.path(), &p);
    let config = migration(
        dir.path(),
        &p,
        "msk {\n    type        = \"express\"\n    broker_type = \"express.m7g.large\"\n    brokers     = 3\n  }",
        "",
    );
    plan_apply_verify(
        &config,
        &p,
        &[
            r#"big rf=3 {"max.message.bytes":"9437184"}"#,
            r#"compacted rf=3 {"cleanup.policy":"compact"}"#,
            r#"locked rf=3 {"retention.ms":"3600000"}"#,
            r#"segments rf=3 {}"#,
        ],
        &["topic \"segments\" segment.bytes"],
    );
}

#[tokio::test]
async fn msk_serverless_blocks_records_above_8_mib_and_takes_only_its_configs() {
    let (_turn, p, dir) = turn("serverless").await;
    apply_is_refused_without_the_type(dir.path(), &p);
    let msk = "msk { type = \"serverless\" }";
    let plan = plan_json(&migration(dir.path(), &p, msk, ""));
    assert_eq!(
        pairs(&plan["blockers"], "kind", "subject"),
        [(
            "record_limit_too_low".to_string(),
            format!("topic \"{p}.big\"")
        )],
        "{plan:#}"
    );
    let reason = plan["blockers"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("9437184") && reason.contains("8388608"),
        "{reason}"
    );
    assert!(
        plan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["kind"] == "msk_target"
                && w["message"].as_str().unwrap().contains("200 MiB/s")),
        "{plan:#}"
    );
    // Without the topic whose records Serverless cannot take.
    let config = migration(dir.path(), &p, msk, "\"\\\\.big$\"");
    plan_apply_verify(
        &config,
        &p,
        &[
            r#"compacted rf=3 {"cleanup.policy":"compact"}"#,
            r#"locked rf=3 {"retention.ms":"3600000"}"#,
            r#"segments rf=3 {}"#,
        ],
        &["topic \"segments\" segment.bytes"],
    );
}

/// The SCRAM users of a SCRAM source, read with DescribeUserScramCredentials, and
/// `export scram-secrets` writing them as Terraform (HCL) with no password.
#[tokio::test]
async fn export_scram_secrets_lists_the_source_users_as_msk_secrets() {
    use kafka_migrate::cluster::native::AdminExt;
    use rdkafka::admin::AdminClient;
    use rdkafka::client::DefaultClientContext;

    let source = kafka_harness::shared::secure_source();
    let admin: AdminClient<DefaultClientContext> = source.admin_config().create().unwrap();
    let users = AdminExt::new(std::sync::Arc::new(admin))
        .describe_user_scram_credentials()
        .await
        .unwrap();
    let listed: Vec<String> = users
        .iter()
        .map(|u| {
            format!(
                "{} {:?}",
                u.name,
                u.mechanisms
                    .iter()
                    .map(|m| (m.mechanism.as_str(), m.iterations))
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            "admin [(\"SCRAM-SHA-512\", 4096)]",
            "alice [(\"SCRAM-SHA-512\", 4096)]",
            "bob [(\"SCRAM-SHA-512\", 4096)]"
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migration.hcl");
    std::fs::write(
        &config,
        format!(
            r#"name = "scram"
cluster "source" {{
  bootstrap_servers = ["{}"]
  security {{
    protocol = "SASL_PLAINTEXT"
    sasl {{
      mechanism = "SCRAM-SHA-512"
      username  = "admin"
      password  = env("MSK_TEST_SOURCE_PASSWORD")
    }}
  }}
}}
cluster "target" {{
  bootstrap_servers = ["b-1.orders.kafka.eu-west-1.amazonaws.com:9096"]
}}
"#,
            source.bootstrap()
        ),
    )
    .unwrap();
    let out = kafka_migrate(&config)
        .args(["export", "scram-secrets"])
        .env("MSK_TEST_SOURCE_PASSWORD", "admin-secret")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text,
        kafka_migrate::plan::scram_secrets::terraform(&users),
        "the file is the pinned renderer's output for the users listed"
    );
    let body: hcl::Body = hcl::from_str(&text).expect("HCL");
    assert_eq!(
        body.blocks()
            .filter(|b| b.labels().first().map(|l| l.as_str()) == Some("aws_secretsmanager_secret"))
            .count(),
        3
    );
    assert!(!text.contains("admin-secret") && !text.contains("alice-secret"));
}

/// `plan` lists the source's SCRAM users with their mechanisms (never a credential) and what
/// the target needs: on MSK with SCRAM, `AmazonMSK_` secrets with SCRAM-SHA-512 through
/// `export scram-secrets`; on Serverless (IAM only), IAM instead, pointing at
/// `export iam-policy`.
#[tokio::test]
async fn plan_lists_the_source_scram_users_and_what_the_target_needs() {
    let (source, target) = (
        kafka_harness::shared::secure_source(),
        kafka_harness::shared::target(),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = data::unique_name("scram_plan").replace('-', "_");
    // A topic to select: a selection of nothing is an error.
    data::create_topic(&source.admin_config(), &format!("{p}.a"), 1, 1, &[])
        .await
        .unwrap();
    let config = dir.path().join("migration.hcl");
    let write = |msk: &str| {
        std::fs::write(
            &config,
            format!(
                r#"name = "{p}"
cluster "source" {{
  bootstrap_servers = ["{}"]
  security {{
    protocol = "SASL_PLAINTEXT"
    sasl {{
      mechanism = "SCRAM-SHA-512"
      username  = "admin"
      password  = env("MSK_TEST_SOURCE_PASSWORD")
    }}
  }}
}}
cluster "target" {{
  bootstrap_servers = ["{}"]
  msk {{ type = "{msk}" }}
}}
topics {{
  include = ["^{p}\\..*"]
}}
"#,
                source.bootstrap(),
                target.bootstrap()
            ),
        )
        .unwrap();
    };
    let plan = |msk: &str| -> (Value, String) {
        write(msk);
        let json = kafka_migrate(&config)
            .args(["plan", "--json"])
            .env("MSK_TEST_SOURCE_PASSWORD", "admin-secret")
            .output()
            .unwrap();
        let human = kafka_migrate(&config)
            .args(["plan"])
            .env("MSK_TEST_SOURCE_PASSWORD", "admin-secret")
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&human.stdout),
            String::from_utf8_lossy(&human.stderr)
        );
        let json: Value = serde_json::from_slice(&json.stdout)
            .unwrap_or_else(|e| panic!("plan --json ({e}): {said}"));
        (json, said)
    };
    let scram_notes = |plan: &Value| -> Vec<String> {
        plan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["kind"] == "scram_users")
            .map(|w| w["message"].as_str().unwrap().to_string())
            .collect()
    };
    let (standard, said) = plan("standard");
    let notes = scram_notes(&standard);
    assert_eq!(notes.len(), 1, "{standard:#}");
    assert!(
        notes[0].starts_with(
            "3 user(s): admin (SCRAM-SHA-512), alice (SCRAM-SHA-512), bob (SCRAM-SHA-512); \
             MSK takes SCRAM users as Secrets Manager secrets named AmazonMSK_<user>, \
             SCRAM-SHA-512 only, at most 1000 per cluster: `kafka-migrate export scram-secrets`"
        ),
        "{}",
        notes[0]
    );
    assert!(said.contains("source SCRAM users: 3 user(s)"), "{said}");
    assert!(!said.contains("admin-secret") && !said.contains("alice-secret"));
    let (serverless, _) = plan("serverless");
    let notes = scram_notes(&serverless);
    assert_eq!(notes.len(), 1, "{serverless:#}");
    assert!(
        notes[0].contains("IAM access control") && notes[0].contains("export iam-policy"),
        "{}",
        notes[0]
    );
}

/// With `aws_iam.cluster_arn` and AWS credentials, `plan` asks MSK's API (DescribeClusterV2,
/// SigV4-signed, here a local stand-in at `KAFKA_MIGRATE_MSK_ENDPOINT` answering as AWS
/// documents) what the target is: a declared type it confirms is noted with what it said,
/// one it contradicts is a blocker naming the attribute; no answer leaves the declared values,
/// and `plan` says so.
#[tokio::test]
async fn plan_checks_the_declared_type_against_msks_api() {
    use crate::auth::{aws_environment, cluster_block, Scheme};
    use crate::support::http::{Reply, StandIn};
    use crate::support::kafka_migrate_process;

    const ARN: &str = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/abcd-1234-5";
    let stand_in = StandIn::serve(|_| {
        Reply::json(
            r#"{"clusterInfo":{"clusterArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/orders/abcd-1234-5",
            "clusterName":"orders","clusterType":"PROVISIONED","state":"ACTIVE","currentVersion":"K1",
            "provisioned":{"brokerNodeGroupInfo":{"instanceType":"kafka.m5.large","clientSubnets":["subnet-1"]},
            "currentBrokerSoftwareInfo":{"kafkaVersion":"3.6.0"},"numberOfBrokerNodes":3,"storageMode":"LOCAL"}}}"#
                .to_string(),
        )
    });
    let (source, target) = (
        kafka_harness::shared::plain_source(),
        kafka_harness::shared::tls_target(),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = data::unique_name("msk_api").replace('-', "_");
    // A topic to select (a selection of nothing is an error), on the target already: its
    // creation would be refused with Express's replication factor on this one broker.
    for cluster in [source, target] {
        data::create_topic(&cluster.admin_config(), &format!("{p}.a"), 1, 1, &[])
            .await
            .unwrap();
    }
    let config = dir.path().join("migration.hcl");
    let block = cluster_block(target, Scheme::MskIam);
    let with_arn = block.replace(
        "aws_iam { region = \"eu-west-1\" }",
        &format!(
            "aws_iam {{\n      region      = \"eu-west-1\"\n      cluster_arn = \"{ARN}\"\n    }}"
        ),
    );
    assert_ne!(block, with_arn, "{block}");
    let plan = |msk: &str, endpoint: &str| -> Value {
        std::fs::write(
            &config,
            format!(
                "name = \"{p}\"\ncluster \"source\" {{\n  bootstrap_servers = [\"{}\"]\n}}\ncluster \"target\" {{\n{with_arn}\n  msk {{ type = \"{msk}\" }}\n}}\ntopics {{\n  include = [\"^{p}\\\\..*\"]\n}}\n",
                source.bootstrap()
            ),
        )
        .unwrap();
        let mut cmd = kafka_migrate_process(Some(&config));
        cmd.args(["plan", "--json"]);
        aws_environment(
            &mut cmd,
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAKAFKAMIGRATETEST"),
                (
                    "AWS_SECRET_ACCESS_KEY",
                    "kafka-migrate-test-secret-access-key",
                ),
            ],
        );
        cmd.env("KAFKA_MIGRATE_MSK_ENDPOINT", endpoint);
        let out = cmd.output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "plan --json ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    let msk_notes = |plan: &Value| -> Vec<String> {
        plan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["kind"] == "msk_target")
            .map(|w| w["message"].as_str().unwrap().to_string())
            .collect()
    };

    let confirmed = plan("standard", stand_in.url());
    assert_eq!(confirmed["blockers"], Value::Array(vec![]), "{confirmed:#}");
    assert!(
        msk_notes(&confirmed).contains(
            &"MSK's API (DescribeClusterV2) describes the target as MSK Standard, Kafka 3.6.0, \
              3 kafka.m5.large broker(s), local storage"
                .to_string()
        ),
        "{confirmed:#}"
    );
    let request = stand_in.requests().pop().expect("a request to MSK's API");
    assert_eq!(
        request.path,
        "/api/v2/clusters/arn%3Aaws%3Akafka%3Aeu-west-1%3A123456789012%3Acluster%2Forders%2Fabcd-1234-5"
    );
    let authorization = request.header("authorization").unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIAKAFKAMIGRATETEST/")
            && authorization.contains("/eu-west-1/kafka/aws4_request"),
        "{authorization}"
    );

    let contradicted = plan("express", stand_in.url());
    assert_eq!(
        pairs(&contradicted["blockers"], "kind", "subject"),
        [(
            "msk_mismatch".to_string(),
            "cluster \"target\" msk.type".to_string()
        )],
        "{contradicted:#}"
    );

    // Nobody answers at the endpoint: the declared values stand, and plan says why.
    let unanswered = plan("express", "http://127.0.0.1:9");
    assert_eq!(
        unanswered["blockers"],
        Value::Array(vec![]),
        "{unanswered:#}"
    );
    assert!(
        msk_notes(&unanswered)
            .iter()
            .any(|m| m.starts_with("planned with the values declared")
                && m.contains("did not answer")),
        "{unanswered:#}"
    );
}
