//! Client quotas (`quotas { sync = true }`) on real brokers: quotas set on the source with
//! Kafka's own kafka-configs (a user, a client id, a user with a client id, the default client
//! id) are planned, created on the target (and one the target had changed, a key only the
//! target had removed), read back on the target with kafka-configs, `verify`'s quotas check
//! passes and the next plan changes nothing. The source is read over SASL_SSL with SCRAM-SHA-512 and the target written over
//! SASL_SSL with MSK IAM tokens, so the tool's own protocol connection is exercised with TLS,
//! SCRAM and OAUTHBEARER.

use kafka_harness::tools::Tool;
use kafka_harness::{data, shared};
use serde_json::Value;

use crate::auth::{cluster_block, migration, run, text, Scheme};
use crate::support::check;

/// Each `set_client_quotas` action of `plan` whose entity names `p` (or is a default), as
/// `entity: key before->after, …`.
fn quota_actions(plan: &Value, p: &str) -> Vec<String> {
    let mut out: Vec<String> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "set_client_quotas")
        .map(|a| {
            let changes: Vec<String> = a["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    format!(
                        "{} {}->{}",
                        c["key"].as_str().unwrap(),
                        c["before"],
                        c["after"]
                    )
                })
                .collect();
            format!("{}: {}", a["entity"], changes.join(", "))
        })
        .filter(|line| line.contains(p) || !line.contains("named"))
        .map(|line| line.replace(p, "P"))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn client_quotas_round_trip_from_source_to_target() {
    let (source, target) = (shared::tls_source(), shared::tls_target());
    let p = data::unique_name("quotas").replace('-', "_");
    let topic = format!("{p}.orders");
    data::create_topic(&source.admin_config(), &topic, 1, 1, &[])
        .await
        .unwrap();
    data::produce(&source.admin_config(), &topic, &data::sample_records(5, 1))
        .await
        .unwrap();
    let (alice, bob, app, svc) = (
        format!("{p}-alice"),
        format!("{p}-bob"),
        format!("{p}-app"),
        format!("{p}-svc"),
    );
    let configs = |cluster: &kafka_harness::Cluster, args: &[&str]| {
        cluster
            .tool(Tool::Configs, args)
            .unwrap_or_else(|e| panic!("kafka-configs {args:?}: {e}"))
    };
    let alter = ["--alter", "--add-config"];
    configs(
        source,
        &[
            &alter[..],
            &["producer_byte_rate=1048576,consumer_byte_rate=2097152"],
            &["--entity-type", "users", "--entity-name", &alice],
        ]
        .concat(),
    );
    configs(
        source,
        &[
            &alter[..],
            &["request_percentage=150"],
            &["--entity-type", "users", "--entity-name", &bob],
            &["--entity-type", "clients", "--entity-name", &app],
        ]
        .concat(),
    );
    configs(
        source,
        &[
            &alter[..],
            &["producer_byte_rate=4096"],
            &["--entity-type", "clients", "--entity-name", &svc],
        ]
        .concat(),
    );
    // A default large enough to throttle no other test of the shared clusters.
    configs(
        source,
        &[
            &alter[..],
            &["controller_mutation_rate=1000000"],
            &["--entity-type", "clients", "--entity-default"],
        ]
        .concat(),
    );
    // The target already has alice with another rate and a key the source lacks.
    configs(
        target,
        &[
            &alter[..],
            &["producer_byte_rate=1024,request_percentage=50"],
            &["--entity-type", "users", "--entity-name", &alice],
        ]
        .concat(),
    );

    let dir = tempfile::tempdir().unwrap();
    let config = migration(
        dir.path(),
        &p,
        &p,
        &cluster_block(source, Scheme::ScramSsl),
        &cluster_block(target, Scheme::MskIam),
    );
    let mut text_ = std::fs::read_to_string(&config).unwrap();
    text_.push_str("quotas {\n  sync = true\n}\n");
    std::fs::write(&config, text_).unwrap();

    let out = run(&config, &["plan", "--json"], "admin-secret");
    let plan: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("plan --json ({e}): {}", text(&out)));
    assert_eq!(
        quota_actions(&plan, &p),
        [
            r#"{"client_id":"default"}: controller_mutation_rate null->1000000.0"#,
            r#"{"client_id":{"named":"P-app"},"user":{"named":"P-bob"}}: request_percentage null->150.0"#,
            r#"{"client_id":{"named":"P-svc"}}: producer_byte_rate null->4096.0"#,
            r#"{"user":{"named":"P-alice"}}: consumer_byte_rate null->2097152.0, producer_byte_rate 1024.0->1048576.0, request_percentage 50.0->null"#,
        ],
        "{plan:#}"
    );
    let human = run(&config, &["plan"], "admin-secret");
    let said = text(&human);
    assert!(
        said.contains(&format!("~ client quotas of user \"{alice}\""))
            && said.contains(&format!(
                "+ client quotas of user \"{bob}\", client-id \"{app}\""
            ))
            && said.contains("- request_percentage = \"50\""),
        "{said}"
    );

    let applied = run(
        &config,
        &["apply", "--auto-approve", "--until-synced"],
        "admin-secret",
    );
    assert!(applied.status.success(), "{}", text(&applied));

    // Kafka's own tool reads them back from the target.
    let describe = |args: &[&str]| configs(target, &[&["--describe"][..], args].concat());
    let alice_now = describe(&["--entity-type", "users", "--entity-name", &alice]);
    assert!(
        alice_now.contains("producer_byte_rate=1048576.0")
            && alice_now.contains("consumer_byte_rate=2097152.0")
            && !alice_now.contains("request_percentage"),
        "{alice_now}"
    );
    let bob_app = describe(&[
        "--entity-type",
        "users",
        "--entity-name",
        &bob,
        "--entity-type",
        "clients",
        "--entity-name",
        &app,
    ]);
    assert!(bob_app.contains("request_percentage=150.0"), "{bob_app}");
    let svc_now = describe(&["--entity-type", "clients", "--entity-name", &svc]);
    assert!(svc_now.contains("producer_byte_rate=4096.0"), "{svc_now}");
    let default = describe(&["--entity-type", "clients", "--entity-default"]);
    assert!(
        default.contains("controller_mutation_rate=1000000.0"),
        "{default}"
    );

    // verify's quotas check finds every quota on the target.
    let verified = run(&config, &["verify", "--json"], "admin-secret");
    let report: Value = serde_json::from_slice(&verified.stdout)
        .unwrap_or_else(|e| panic!("verify --json ({e}): {}", text(&verified)));
    crate::support::schema::assert_valid("verify.schema.json", &report);
    assert_eq!(check(&report, "quotas")["status"], "PASS", "{report:#}");

    let again = run(&config, &["plan", "--json"], "admin-secret");
    let again: Value = serde_json::from_slice(&again.stdout)
        .unwrap_or_else(|e| panic!("plan --json ({e}): {}", text(&again)));
    assert_eq!(again["actions"], Value::Array(vec![]), "{again:#}");
    assert_eq!(again["blockers"], Value::Array(vec![]), "{again:#}");
}
