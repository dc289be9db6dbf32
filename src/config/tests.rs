//! The migration file: every diagnostic with its line and column, variables, secrets, the
//! checked-in schema and README reference, the examples, and malformed input.

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

#[test]
fn the_design_example_is_valid() {
    let text = r#"
name = "orders-to-msk"
cluster "source" {
  bootstrap_servers = ["kafka-1.internal:9093"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "migrator"
      password  = env("SOURCE_PASSWORD")
    }
    tls { ca_file = "ca.pem" }
  }
  properties = { "client.rack" = "use1-az1" }
}
cluster "target" {
  bootstrap_servers = ["b-1.example.kafka.us-east-1.amazonaws.com:9098"]
  security {
    protocol = "SASL_SSL"
    aws_iam { region = "us-east-1" }
  }
}
topics {
  include            = ["^orders\\..*", "payments"]
  exclude            = ["^__.*", "^_schemas$"]
  replication_factor = 3
  config {
    exclude  = ["retention.bytes"]
    override = { "min.insync.replicas" = "2" }
  }
}
acls { sync = true }
consumer_groups {
  include = [".*"]
  exclude = ["^connect-.*"]
}
replication {
  tasks                = 4
  delivery             = "exactly-once"
  max_bytes_per_second = "50MiB"
}
cutover {
  quiet_period = "30s"
  data_check   = "sample"
}
"#;
    let m = parse_text(text).unwrap();
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
        Some(Path::new("/nonexistent/ca.pem"))
    );
    assert_eq!(
        m.target().security.aws_iam.as_ref().unwrap().region,
        "us-east-1"
    );
    assert_eq!(m.source().properties["client.rack"], "use1-az1");
}

#[test]
fn a_syntax_error_points_at_the_problem() {
    fails_at(
        "name = \"x\"\ncluster \"source\" {\n  bootstrap_servers = [\"a:1\"\n}\n",
        4,
        1,
        "syntax error",
    );
}

#[test]
fn an_unknown_attribute_suggests_the_near_one() {
    let err = fails_at(
        &with("replication {\n  taks = 4\n}\n"),
        12,
        3,
        "unknown attribute `taks` in the replication block",
    );
    assert_eq!(err.help.as_deref(), Some("did you mean `tasks`?"));
}

#[test]
fn an_unknown_block_suggests_the_near_one() {
    let err = fails_at(
        &with("topic {\n  include = [\"a\"]\n}\n"),
        11,
        1,
        "unknown block `topic`",
    );
    assert_eq!(err.help.as_deref(), Some("did you mean `topics`?"));
}

#[test]
fn a_wrong_type_names_what_was_expected() {
    fails_at(
        &with("replication {\n  tasks = \"four\"\n}\n"),
        12,
        11,
        "`tasks` in the replication block must be a number, not a string",
    );
}

#[test]
fn a_missing_required_attribute_points_at_its_block() {
    let text = "name = \"x\"\ncluster \"source\" {\n}\ncluster \"target\" {\n  bootstrap_servers = [\"b:1\"]\n}\n";
    let err = fails_at(
        text,
        2,
        1,
        "missing required attribute `bootstrap_servers` in cluster \"source\"",
    );
    assert!(err.help.unwrap().contains("bootstrap_servers = ["));
}

#[test]
fn an_invalid_regex_is_pointed_into() {
    // The unclosed group starts at the `(` after `orders\\.`: column 25 of line 12.
    fails_at(
        &with("topics {\n  include = [\"^orders\\\\.(eu\"]\n}\n"),
        12,
        25,
        "invalid regular expression in `include`",
    );
}

#[test]
fn a_bad_duration_is_refused() {
    let err = fails_at(
        &with("cutover {\n  quiet_period = \"30\"\n}\n"),
        12,
        18,
        "quiet_period",
    );
    assert!(err.message.contains("no unit"));
}

#[test]
fn a_bad_size_is_refused() {
    fails_at(
        &with("replication {\n  max_bytes_per_second = \"50 parsecs\"\n}\n"),
        12,
        26,
        "unknown size unit",
    );
}

#[test]
fn a_setting_given_twice_is_refused() {
    let text = r#"name = "x"
cluster "source" {
  bootstrap_servers = ["a:1"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "PLAIN"
      username  = "u"
      password  = "p"
    }
  }
  properties = { "sasl.username" = "other" }
}
cluster "target" { bootstrap_servers = ["b:1"] }
"#;
    fails_at(
        text,
        12,
        18,
        "property \"sasl.username\" of cluster \"source\" is also set by a typed setting",
    );
}

#[test]
fn an_unset_environment_variable_is_named() {
    let text = r#"name = "x"
cluster "source" {
  bootstrap_servers = ["a:1"]
  security {
    protocol = "SASL_PLAINTEXT"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "u"
      password  = env("NOT_SET_ANYWHERE")
    }
  }
}
cluster "target" { bootstrap_servers = ["b:1"] }
"#;
    let err = fails_at(
        text,
        9,
        23,
        "environment variable NOT_SET_ANYWHERE is not set",
    );
    assert!(err.help.unwrap().contains("export NOT_SET_ANYWHERE"));
}

#[test]
fn a_missing_file_is_named() {
    let text = r#"name = "x"
cluster "source" {
  bootstrap_servers = ["a:1"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-256"
      username  = "u"
      password  = file("secrets/password.txt")
    }
  }
}
cluster "target" { bootstrap_servers = ["b:1"] }
"#;
    fails_at(text, 9, 24, "file(\"secrets/password.txt\")");
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
fn aws_iam_needs_sasl_ssl() {
    let text = "name = \"x\"\ncluster \"source\" { bootstrap_servers = [\"a:1\"] }\ncluster \"target\" {\n  bootstrap_servers = [\"b:1\"]\n  security {\n    protocol = \"SSL\"\n    aws_iam { region = \"us-east-1\" }\n  }\n}\n";
    fails_at(text, 7, 5, "MSK IAM authentication needs protocol SASL_SSL");
}

#[test]
fn mtls_needs_both_certificate_and_key() {
    let text = "name = \"x\"\ncluster \"source\" {\n  bootstrap_servers = [\"a:1\"]\n  security {\n    protocol = \"SSL\"\n    tls {\n      cert_file = \"client.pem\"\n    }\n  }\n}\ncluster \"target\" { bootstrap_servers = [\"b:1\"] }\n";
    fails_at(text, 7, 7, "mTLS needs both cert_file and key_file");
}

#[test]
fn scram_needs_a_username() {
    let text = "name = \"x\"\ncluster \"source\" {\n  bootstrap_servers = [\"a:1\"]\n  security {\n    protocol = \"SASL_SSL\"\n    sasl {\n      mechanism = \"SCRAM-SHA-512\"\n      password = \"p\"\n    }\n  }\n}\ncluster \"target\" { bootstrap_servers = [\"b:1\"] }\n";
    fails_at(
        text,
        6,
        5,
        "missing required attribute `username` in the sasl block",
    );
}

#[test]
fn a_wrongly_typed_password_is_not_echoed() {
    let text = "name = \"x\"\ncluster \"source\" {\n  bootstrap_servers = [\"a:1\"]\n  security {\n    protocol = \"SASL_SSL\"\n    sasl {\n      mechanism = \"PLAIN\"\n      username = \"u\"\n      password = [\"hunter2\"]\n    }\n  }\n}\ncluster \"target\" { bootstrap_servers = [\"b:1\"] }\n";
    let err = fails_at(text, 9, 18, "must be a string, not a list");
    assert!(!err.message.contains("hunter2") && !err.help.unwrap_or_default().contains("hunter2"));
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
fn an_unset_or_undeclared_variable_is_refused() {
    let text = format!("variable \"who\" {{}}\n{BASE}")
        .replace("name = \"orders-to-msk\"", "name = var.who");
    let err = parse_text(&text).unwrap_err();
    assert!(
        err.message.contains("variable `who` has no value"),
        "{}",
        err.message
    );
    let text = BASE.replace("name = \"orders-to-msk\"", "name = var.nope");
    let err = parse_text(&text).unwrap_err();
    assert!(
        err.message.contains("variable `nope` is not declared"),
        "{}",
        err.message
    );
    let vars = [("ghost".to_string(), "1".to_string())];
    let err = parse_with_env("m.hcl", BASE, Path::new("."), &vars, &env).unwrap_err();
    assert!(err.message.contains("declares no variable \"ghost\""));
}

/// The checked-in schema and README reference are what the code generates
/// (`UPDATE_SCHEMAS=1 cargo test` rewrites them).
#[test]
fn the_schema_and_readme_reference_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema_path = root.join("schemas/migration.schema.json");
    let schema = schema::migration_schema();
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (start, end) = (
        "<!-- hcl-reference:start -->\n",
        "<!-- hcl-reference:end -->",
    );
    let (before, rest) = readme
        .split_once(start)
        .expect("README has the reference markers");
    let (_, after) = rest.split_once(end).expect("README has the end marker");
    let wanted_readme = format!("{before}{start}{}{end}{after}", schema::hcl_reference());
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&schema_path, &schema).unwrap();
        std::fs::write(&readme_path, &wanted_readme).unwrap();
    }
    let checked_in = std::fs::read_to_string(&schema_path).unwrap_or_default();
    assert!(
        checked_in == schema,
        "schemas/migration.schema.json is stale: run UPDATE_SCHEMAS=1 cargo test"
    );
    assert!(
        readme == wanted_readme,
        "README's HCL reference is stale: run UPDATE_SCHEMAS=1 cargo test"
    );
}

#[test]
fn every_example_is_valid() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut count = 0;
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
            count += 1;
        }
    }
    assert!(
        count >= 5,
        "expected an example per authentication scheme and local.hcl"
    );
}

mod malformed {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn truncated_files_never_panic(cut in 0usize..600) {
            let text = with("topics {\n  include = [\"^a\"]\n  config { override = { \"x\" = 1 } }\n}\nreplication { tasks = 2 }\n");
            let end = cut.min(text.len());
            let _ = parse_text(&text[..end]);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_text(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn arbitrary_values_never_panic(value in ".{0,40}") {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            for attr in ["tasks", "delivery", "max_bytes_per_second", "linger"] {
                let _ = parse_text(&with(&format!("replication {{ {attr} = \"{escaped}\" }}\n")));
            }
            let _ = parse_text(&with(&format!("topics {{ include = [\"{escaped}\"] }}\n")));
        }
    }

    #[test]
    fn deep_nesting_and_huge_strings_are_refused_without_panic() {
        let deep = format!("{}{}", "[".repeat(2_000), "]".repeat(2_000));
        let _ = parse_text(&with(&format!("topics {{ include = {deep} }}\n")));
        let huge = "x".repeat(2_000_000);
        let _ = parse_text(&with(&format!("topics {{ names = [\"{huge}\"] }}\n")));
    }
}
