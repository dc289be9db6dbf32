//! The migration file: valid files and their model, variables, secrets and the examples.
//! `diagnostics` has a test for every error a user can meet, with its line and column;
//! `malformed` feeds broken input. The schema and README reference are tested in `schema.rs`.

mod diagnostics;
mod malformed;
mod secrets;

use std::path::Path;

use super::*;

const BASE: &str = r#"
name = "orders-to-msk"

cluster "source" {
  bootstrap_servers = ["kafka-1:9093"]
}

cluster "target" {
  bootstrap_servers = ["b-1:9098"]
}
"#;

fn env(key: &str) -> Option<String> {
    match key {
        "SOURCE_PASSWORD" => Some("s3cr3t-from-env".into()),
        _ => None,
    }
}

fn parse_text(text: &str) -> Result<Migration, ConfigError> {
    parse_with_env("m.hcl", text, Path::new("/nonexistent"), &[], &env)
}

/// Asserts that `text` fails at `line`:`column` with a message containing `message`.
fn fails_at(text: &str, line: usize, column: usize, message: &str) -> ConfigError {
    let err = parse_text(text).expect_err("the file must be refused");
    assert!(err.help.is_some(), "no help line for {:?}", err.message);
    let mut report = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut report, &err)
        .unwrap();
    assert!(
        report.contains(&format!("[m.hcl:{line}:")) && report.contains("help:"),
        "{report}"
    );
    assert!(
        err.message.contains(message),
        "message {:?} lacks {message:?}",
        err.message
    );
    assert_eq!(
        (err.line, err.column),
        (line, column),
        "position of {:?}",
        err.message
    );
    assert!(
        err.message.starts_with(&format!("m.hcl:{line}:{column}: ")),
        "{}",
        err.message
    );
    err
}

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn a_minimal_file_is_valid_with_defaults() {
    let m = parse_text(BASE).unwrap();
    assert_eq!(m.name, "orders-to-msk");
    assert_eq!(m.source().bootstrap_servers, vec!["kafka-1:9093"]);
    assert_eq!(m.source().security.protocol, Protocol::Plaintext);
    assert_eq!(m.replication.tasks, 4);
    assert_eq!(m.replication.delivery, DeliveryMode::ExactlyOnce);
    assert_eq!(m.cutover.quiet_period.0, std::time::Duration::from_secs(30));
    assert!(m.topics.selects("orders"));
    assert!(!m.topics.selects("__consumer_offsets"));
    assert!(!m.topics.selects("kafka-migrate.x.progress"));
    assert!(m.acls.sync && m.consumer_groups.sync);
}

/// `examples/msk-iam.hcl` is the migration file of the design brief.
#[test]
fn the_msk_iam_example_reads_into_the_model() {
    let text = std::fs::read_to_string(examples_dir().join("msk-iam.hcl")).unwrap();
    let env = |key: &str| match key {
        "SOURCE_USER" => Some("migrator".to_string()),
        other => env(other),
    };
    let m = parse_with_env("msk-iam.hcl", &text, Path::new("/nonexistent"), &[], &env).unwrap();
    assert!(m.topics.selects("orders.eu"));
    assert!(!m.topics.selects("_schemas"));
    assert_eq!(m.topics.replication_factor, Some(3));
    assert!(m.topics.config.excludes("retention.bytes"));
    assert_eq!(m.topics.config.overrides["min.insync.replicas"], "2");
    assert_eq!(m.replication.max_bytes_per_second, Some(ByteSize(50 << 20)));
    assert!(!m.consumer_groups.selects("connect-cluster"));
    assert_eq!(
        m.source().security.sasl.as_ref().unwrap().password.expose(),
        "s3cr3t-from-env"
    );
    assert_eq!(
        m.source().security.tls.as_ref().unwrap().ca_file.as_deref(),
        Some(Path::new("/nonexistent/certs/ca.pem"))
    );
    assert_eq!(
        m.target().security.aws_iam.as_ref().unwrap().region,
        "us-east-1"
    );
    assert_eq!(m.source().properties["client.rack"], "use1-az1");
}

#[test]
fn variables_take_defaults_and_command_line_values() {
    let text =
        format!("variable \"tasks_name\" {{ default = \"x\" }}\nvariable \"region\" {{}}\n{BASE}")
            .replace("name = \"orders-to-msk\"", "name = \"m-${var.tasks_name}\"");
    let vars = [("region".to_string(), "eu-west-1".to_string())];
    let m = parse_with_env("m.hcl", &text, Path::new("."), &vars, &env).unwrap();
    assert_eq!(m.name, "m-x");
    let vars = [("tasks_name".to_string(), "y".to_string())];
    let m = parse_with_env("m.hcl", &text, Path::new("."), &vars, &env).unwrap();
    assert_eq!(m.name, "m-y");
}

#[test]
fn a_command_line_value_for_an_undeclared_variable_is_refused() {
    let vars = [("ghost".to_string(), "1".to_string())];
    let err = parse_with_env("m.hcl", BASE, Path::new("."), &vars, &env).unwrap_err();
    assert_eq!(
        err.message,
        "--var ghost=…: m.hcl declares no variable \"ghost\""
    );
}

#[test]
fn file_reads_relative_to_the_migration_file_into_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "from-a-file\n").unwrap();
    let text = with("").replace(
        "bootstrap_servers = [\"kafka-1:9093\"]",
        "bootstrap_servers = [\"kafka-1:9093\"]\n  security {\n    protocol = \"SASL_SSL\"\n    sasl {\n      mechanism = \"PLAIN\"\n      username = \"u\"\n      password = file(\"pw\")\n    }\n  }",
    );
    let m = parse_with_env("m.hcl", &text, dir.path(), &[], &env).unwrap();
    let sasl = m.source().security.sasl.as_ref().unwrap();
    assert_eq!(sasl.password.expose(), "from-a-file");
    let shown = format!("{m:?}{}", serde_json::to_string(&m).unwrap());
    assert!(!shown.contains("from-a-file"), "a secret leaked: {shown}");
    assert!(shown.contains("**REDACTED**"));
}

#[test]
fn variables_from_the_command_line_take_the_type_of_their_default() {
    let text = format!("variable \"tasks\" {{ default = 4 }}\nvariable \"acls\" {{ default = true }}\n{BASE}replication {{ tasks = var.tasks }}\nacls {{ sync = var.acls }}\n");
    let vars = [
        ("tasks".to_string(), "8".to_string()),
        ("acls".to_string(), "false".to_string()),
    ];
    let m = parse_with_env("m.hcl", &text, Path::new("."), &vars, &env).unwrap();
    assert_eq!(m.replication.tasks, 8);
    assert!(!m.acls.sync);
    let vars = [("tasks".to_string(), "eight".to_string())];
    let err = parse_with_env("m.hcl", &text, Path::new("."), &vars, &env).unwrap_err();
    assert_eq!(
        err.message,
        "--var tasks=…: variable \"tasks\" takes a number (its default is one)"
    );
}

#[test]
fn command_line_variables_are_name_equals_value() {
    let args = ["a=1".to_string(), "b==x=".to_string()];
    assert_eq!(
        parse_vars(&args).unwrap(),
        vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "=x=".to_string())
        ]
    );
    // The argument is not echoed: `--var hunter2` may be a bare secret.
    for bad in ["novalue", "=x"] {
        let err = parse_vars(&[bad.to_string()]).unwrap_err();
        assert!(err.message.contains("is not NAME=VALUE"), "{}", err.message);
        assert!(!err.message.contains(bad), "{}", err.message);
    }
}

#[test]
fn secret_properties_are_redacted_when_shown() {
    let text = with("").replace(
        "bootstrap_servers = [\"kafka-1:9093\"]",
        "bootstrap_servers = [\"kafka-1:9093\"]\n  properties = { \"ssl.keystore.password\" = \"hunter2\", \"client.rack\" = \"az1\" }",
    );
    let m = parse_text(&text).unwrap();
    assert_eq!(m.source().properties["ssl.keystore.password"], "hunter2");
    let shown = format!("{m:?}{}", serde_json::to_string(&m).unwrap());
    assert!(!shown.contains("hunter2"), "a secret leaked: {shown}");
    assert!(shown.contains("az1"));
}

#[test]
fn selections_follow_names_include_and_exclude() {
    let m = parse_text(&with(
        "topics {\n  names = [\"legacy\"]\n}\nconsumer_groups {\n  include = [\"^app-\"]\n  exclude = [\"-test$\"]\n}\n",
    ))
    .unwrap();
    // Naming topics without patterns selects just those.
    assert!(m.topics.selects("legacy"));
    assert!(!m.topics.selects("orders"));
    assert!(m.consumer_groups.selects("app-billing"));
    assert!(!m.consumer_groups.selects("app-billing-test"));
    assert!(!m.consumer_groups.selects("other"));
    let m = parse_text(&with(
        "topics {\n  include = [\"^orders\\\\.\"]\n  names = [\"legacy\"]\n  exclude = [\"legacy|\\\\.tmp$\"]\n}\n",
    ))
    .unwrap();
    assert!(m.topics.selects("orders.eu"));
    assert!(!m.topics.selects("orders.eu.tmp"));
    assert!(!m.topics.selects("legacy"), "exclude wins over names");
    assert_eq!(
        serde_json::to_value(&m.topics.include).unwrap(),
        serde_json::json!(["^orders\\."])
    );
}

#[test]
fn renames_read_into_the_model_and_bad_ones_point_at_their_cause() {
    let m = parse_text(&with(
        "topics {\n  rename {\n    prefix = \"east.\"\n    names  = { payments = \"pay-east\" }\n  }\n}\nconsumer_groups {\n  rename {\n    prefix = \"east-\"\n  }\n}\n",
    ))
    .unwrap();
    assert_eq!(m.topics.rename.target("orders"), "east.orders");
    assert_eq!(m.topics.rename.target("payments"), "pay-east");
    assert_eq!(m.consumer_groups.rename.target("billing"), "east-billing");
    assert!(m.renames());
    assert!(!parse_text(BASE).unwrap().renames());
    // Part of what the plan file is checked against.
    assert_ne!(m.fingerprint(), parse_text(BASE).unwrap().fingerprint());
    let line = BASE.lines().count() + 3;
    fails_at(
        &with("topics {\n  rename {\n    prefix = \"a b\"\n  }\n}\n"),
        line,
        14,
        "cannot start a name",
    );
    fails_at(
        &with("topics {\n  rename {\n    prefix = \"__\"\n  }\n}\n"),
        line,
        14,
        "`__`",
    );
    fails_at(
        &with("topics {\n  rename {\n    names = { a = \"kafka-migrate.x\" }\n  }\n}\n"),
        line,
        15,
        "cannot be a name",
    );
    fails_at(
        &with("topics {\n  rename {\n    names = { a = \"x\", b = \"x\" }\n  }\n}\n"),
        line,
        24,
        "maps both",
    );
    fails_at(
        &with("consumer_groups {\n  rename {\n    names = { a = \"\" }\n  }\n}\n"),
        line,
        15,
        "cannot be a name",
    );
}

#[test]
fn the_summary_names_both_sides() {
    let text = std::fs::read_to_string(examples_dir().join("msk-iam.hcl")).unwrap();
    let fake_env = |_: &str| Some("example-secret".to_string());
    let m = parse_with_env("msk-iam.hcl", &text, &examples_dir(), &[], &fake_env).unwrap();
    assert_eq!(
        m.summary(),
        "\"orders-to-msk\": source 1 broker(s) SASL_SSL/SCRAM-SHA-512 → target 1 broker(s) \
         SASL_SSL/AWS_MSK_IAM; 2 include pattern(s), 0 named topic(s); exactly-once with 4 task(s)"
    );
}

fn examples_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

#[test]
fn every_example_is_valid() {
    let examples = examples_dir();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "hcl") {
            let text = std::fs::read_to_string(&path).unwrap();
            let fake_env = |_: &str| Some("example-secret".to_string());
            parse_with_env(
                &path.display().to_string(),
                &text,
                &examples,
                &[],
                &fake_env,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            found.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    for scheme in [
        "plaintext.hcl",
        "mtls.hcl",
        "scram.hcl",
        "msk-iam.hcl",
        "local.hcl",
    ] {
        assert!(
            found.iter().any(|f| f == scheme),
            "examples/{scheme} is missing"
        );
    }
}

#[test]
fn the_quick_start_example_matches_the_local_clusters() {
    let path = examples_dir().join("local.hcl");
    let text = std::fs::read_to_string(&path).unwrap();
    let m = parse_with_env("local.hcl", &text, &examples_dir(), &[], &env).unwrap();
    assert_eq!(m.name, "local-demo");
    let source = m.source();
    assert_eq!(source.bootstrap_servers, ["127.0.0.1:19092"]);
    assert_eq!(source.security.protocol, Protocol::SaslPlaintext);
    let sasl = source.security.sasl.as_ref().unwrap();
    assert_eq!(sasl.mechanism, SaslMechanism::ScramSha512);
    assert_eq!(sasl.username, "admin");
    assert_eq!(sasl.password.expose(), "s3cr3t-from-env");
    assert_eq!(m.target().bootstrap_servers, ["127.0.0.1:29092"]);
    assert_eq!(m.target().security.protocol, Protocol::Plaintext);
    assert!(m.topics.selects("demo.orders") && !m.topics.selects("__consumer_offsets"));
    assert_eq!(m.topics.replication_factor, Some(1));
    assert!(m.acls.sync);
    assert!(m.consumer_groups.selects("demo-app") && !m.consumer_groups.selects("other"));
    assert_eq!(m.replication.tasks, 2);
    assert_eq!(m.replication.delivery, DeliveryMode::ExactlyOnce);
    assert_eq!(m.cutover.quiet_period.to_string(), "5s");
    assert_eq!(m.cutover.data_check, DataCheck::Full);
}

#[test]
fn an_empty_selection_names_its_patterns_and_the_closest_topics() {
    let m = parse_text(&with(
        "topics {\n  include = [\"^ordrs\\\\..*\", \"payments\"]\n  exclude = [\"^payments$\"]\n}\n",
    ))
    .unwrap();
    let topics: Vec<String> = [
        "__consumer_offsets",
        "orders.created",
        "orders.paid",
        "payments",
        "web.clicks",
    ]
    .map(String::from)
    .to_vec();
    let empty = m.topics.empty_selection(&topics);
    assert_eq!(
        empty.to_string(),
        r#"no topic matches topics { include = ["^ordrs\\..*", "payments"], exclude = ["^payments$"] }; exclude leaves out each of the 1 topic(s) include selects: payments"#
    );
    assert_eq!(empty.closest, ["payments", "orders.created", "orders.paid"]);
    assert_eq!(
        empty.help("source"),
        "the closest topic names on the source: payments, orders.created, orders.paid; change `topics` in the migration file"
    );
}

#[test]
fn the_schema_registry_topic_defaults_to_schemas_and_can_be_named() {
    assert_eq!(parse_text(BASE).unwrap().schema_registry.topic, "_schemas");
    let m = parse_text(&with(
        "schema_registry {\n  topic = \"karapace.schemas\"\n}\n",
    ))
    .unwrap();
    assert_eq!(m.schema_registry.topic, "karapace.schemas");
}
