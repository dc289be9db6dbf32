//! One test per diagnostic a user can meet: each asserts the line and column the caret points
//! at, the message and (through `fails_at`) that a help line is given and the report renders.

use super::*;

/// A file whose source cluster has a security block of `security` (from line 5) and, after it,
/// `properties` if any:
///
/// ```text
/// 1  name = "x"
/// 2  cluster "source" {
/// 3    bootstrap_servers = ["a:1"]
/// 4    security {
/// 5  {security}
///      }
///      properties = { {properties} }
///    }
///    cluster "target" { bootstrap_servers = ["b:1"] }
/// ```
fn source(security: &str, properties: &str) -> String {
    let properties = match properties {
        "" => String::new(),
        p => format!("  properties = {{ {p} }}\n"),
    };
    format!(
        "name = \"x\"\ncluster \"source\" {{\n  bootstrap_servers = [\"a:1\"]\n  security {{\n{security}  }}\n{properties}}}\ncluster \"target\" {{ bootstrap_servers = [\"b:1\"] }}\n"
    )
}

/// Security lines 5 to 10: `protocol`, then a sasl block with `password = {password}` on line 9
/// (column 19).
fn sasl(protocol: &str, mechanism: &str, password: &str) -> String {
    format!(
        "    protocol = \"{protocol}\"\n    sasl {{\n      mechanism = \"{mechanism}\"\n      username  = \"u\"\n      password  = {password}\n    }}\n"
    )
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
fn a_label_where_none_belongs_is_refused() {
    let err = fails_at(
        &with("topics \"orders\" {\n}\n"),
        11,
        8,
        "block `topics` takes no label",
    );
    assert_eq!(err.help.as_deref(), Some("remove the label \"orders\""));
    fails_at(
        &BASE.replace("cluster \"target\"", "cluster \"target\" \"msk\""),
        8,
        18,
        "block `cluster` takes one label",
    );
}

#[test]
fn a_cluster_label_other_than_source_or_target_is_refused() {
    let err = fails_at(
        &BASE.replace("cluster \"target\"", "cluster \"traget\""),
        8,
        9,
        "unknown cluster \"traget\"",
    );
    assert_eq!(err.help.as_deref(), Some("did you mean `target`?"));
}

#[test]
fn a_missing_cluster_is_named() {
    let text = "name = \"x\"\ncluster \"source\" { bootstrap_servers = [\"a:1\"] }\n";
    let err = fails_at(text, 1, 1, "missing cluster \"target\" block");
    assert!(err.help.unwrap().contains("cluster \"target\" {"));
}

#[test]
fn a_block_given_twice_is_refused() {
    fails_at(
        &with("acls { sync = true }\nacls { sync = false }\n"),
        12,
        1,
        "block `acls` appears twice in the migration file",
    );
}

#[test]
fn a_broker_without_a_port_is_refused() {
    fails_at(
        &BASE.replace("kafka-1:9093", "kafka-1"),
        5,
        24,
        "bootstrap server \"kafka-1\" of cluster \"source\" is not host:port",
    );
}

#[test]
fn a_topic_name_kafka_would_refuse_is_refused() {
    fails_at(
        &with("topics {\n  names = [\"orders\", \"bad name\"]\n}\n"),
        12,
        22,
        "\"bad name\" in `names` of the topics block is not a topic name",
    );
}

#[test]
fn an_invalid_migration_name_is_refused() {
    fails_at(
        &BASE.replace("orders-to-msk", "orders to msk"),
        2,
        8,
        "name \"orders to msk\" cannot name the migration's topics",
    );
}

#[test]
fn a_misspelt_choice_suggests_the_near_one() {
    let err = fails_at(
        &with("replication {\n  delivery = \"exactly_once\"\n}\n"),
        12,
        14,
        "`delivery` in the replication block cannot be \"exactly_once\"",
    );
    assert_eq!(err.help.as_deref(), Some("did you mean `exactly-once`?"));
    let err = fails_at(
        &with("cutover {\n  data_check = \"everything\"\n}\n"),
        12,
        16,
        "`data_check` in the cutover block cannot be \"everything\"",
    );
    assert_eq!(err.help.as_deref(), Some("use one of: none, sample, full"));
}

#[test]
fn a_number_out_of_range_is_refused() {
    fails_at(
        &with("replication {\n  tasks = 0\n}\n"),
        12,
        11,
        "`tasks` in the replication block must be a whole number from 1 to 256",
    );
}

#[test]
fn an_unknown_function_suggests_the_near_one() {
    let err = fails_at(
        &BASE.replace("[\"kafka-1:9093\"]", "[envv(\"BROKER\")]"),
        5,
        24,
        "unknown function `envv`",
    );
    assert_eq!(err.help.as_deref(), Some("did you mean `env`?"));
}

#[test]
fn an_undeclared_or_unset_variable_is_refused() {
    let err = fails_at(
        &BASE.replace("\"orders-to-msk\"", "var.nmae"),
        2,
        8,
        "variable `nmae` is not declared",
    );
    assert!(err.help.unwrap().contains("variable \"nmae\""));
    let text = format!("variable \"who\" {{}}\n{BASE}").replace("\"orders-to-msk\"", "var.who");
    let err = fails_at(&text, 3, 8, "variable `who` has no value");
    assert_eq!(
        err.help.as_deref(),
        Some("give it a default, or pass --var who=VALUE")
    );
}

#[test]
fn a_syntax_error_after_non_ascii_text_counts_characters() {
    // The second `é` follows `name = "é" `: eleven characters, twelve bytes.
    fails_at("name = \"é\" é\n", 1, 12, "syntax error");
}

#[test]
fn a_pattern_too_large_to_compile_is_pointed_at() {
    let err = fails_at(
        &with("topics {\n  include = [\"ok\", \"\\\\w{1000}{1000}\"]\n}\n"),
        12,
        20,
        "`include` of the topics block cannot be compiled",
    );
    assert!(err.help.unwrap().contains("fewer or simpler patterns"));
}

#[test]
fn an_unset_environment_variable_is_named() {
    let text = source(
        &sasl(
            "SASL_PLAINTEXT",
            "SCRAM-SHA-512",
            "env(\"NOT_SET_ANYWHERE\")",
        ),
        "",
    );
    let err = fails_at(
        &text,
        9,
        23,
        "environment variable NOT_SET_ANYWHERE is not set",
    );
    assert!(err.help.unwrap().contains("export NOT_SET_ANYWHERE"));
}

#[test]
fn a_missing_file_is_named() {
    let text = source(
        &sasl(
            "SASL_SSL",
            "SCRAM-SHA-256",
            "file(\"secrets/password.txt\")",
        ),
        "",
    );
    let err = fails_at(&text, 9, 24, "file(\"secrets/password.txt\")");
    assert!(err
        .message
        .contains("/nonexistent/secrets/password.txt cannot be read"));
}

#[test]
fn a_wrongly_typed_password_is_not_echoed() {
    let text = source(&sasl("SASL_SSL", "PLAIN", "[\"hunter2\"]"), "");
    let err = fails_at(&text, 9, 19, "must be a string, not a list");
    assert!(!err.message.contains("hunter2") && !err.help.unwrap_or_default().contains("hunter2"));
}

#[test]
fn a_typed_setting_repeated_in_properties_is_refused() {
    let tls = "    protocol = \"SSL\"\n    tls { ca_file = \"ca.pem\" }\n";
    let with_tls = |key: &str| source(tls, &format!("\"client.id\" = \"m\", \"{key}\" = \"v\""));
    for (key, setting) in [
        ("security.protocol", "security { protocol }"),
        ("ssl.ca.location", "security { tls { ca_file } }"),
        (
            "ssl.endpoint.identification.algorithm",
            "security { tls { verify_hostname } }",
        ),
        ("bootstrap.servers", "bootstrap_servers"),
    ] {
        let err = fails_at(
            &with_tls(key),
            8,
            37,
            &format!("property \"{key}\" of cluster \"source\" is also set by a typed setting: {setting}"),
        );
        assert!(err
            .help
            .unwrap()
            .contains(&format!("remove \"{key}\" from `properties`")));
    }
    // A property no typed setting sets passes through.
    let m = parse_text(&with_tls("ssl.certificate.location")).unwrap();
    assert_eq!(m.source().properties["ssl.certificate.location"], "v");
    fails_at(
        &source(&sasl("SASL_SSL", "PLAIN", "\"p\""), "\"sasl.username\" = \"other\""),
        12,
        18,
        "property \"sasl.username\" of cluster \"source\" is also set by a typed setting: security { sasl { username } }",
    );
    // The protocol is always a typed setting, with or without a security block.
    fails_at(
        &BASE.replace(
            "[\"kafka-1:9093\"]",
            "[\"kafka-1:9093\"]\n  properties = { \"security.protocol\" = \"SSL\" }",
        ),
        6,
        18,
        "property \"security.protocol\" of cluster \"source\" is also set by a typed setting",
    );
}

#[test]
fn aws_iam_needs_sasl_ssl() {
    let text = source(
        "    protocol = \"SSL\"\n    aws_iam { region = \"us-east-1\" }\n",
        "",
    );
    fails_at(
        &text,
        6,
        5,
        "MSK IAM authentication needs protocol SASL_SSL, but cluster \"source\" uses SSL",
    );
}

#[test]
fn aws_iam_and_sasl_are_one_or_the_other() {
    let security = format!(
        "{}    aws_iam {{ region = \"us-east-1\" }}\n",
        sasl("SASL_SSL", "PLAIN", "\"p\"")
    );
    fails_at(
        &source(&security, ""),
        11,
        5,
        "cluster \"source\" has both a sasl block and an aws_iam block",
    );
}

#[test]
fn mtls_needs_both_certificate_and_key() {
    let text = source(
        "    protocol = \"SSL\"\n    tls {\n      cert_file = \"client.pem\"\n    }\n",
        "",
    );
    fails_at(&text, 7, 7, "mTLS needs both cert_file and key_file");
    fails_at(
        &text.replace("cert_file", "key_file"),
        7,
        7,
        "cluster \"source\" sets key_file without cert_file",
    );
}

#[test]
fn scram_needs_a_username() {
    let text = source(
        &sasl("SASL_SSL", "SCRAM-SHA-512", "\"p\"").replace("      username  = \"u\"\n", ""),
        "",
    );
    let err = fails_at(
        &text,
        6,
        5,
        "missing required attribute `username` in the sasl block of cluster \"source\"",
    );
    assert_eq!(err.help.as_deref(), Some("add username = \"migrator\""));
}

#[test]
fn a_sasl_block_needs_a_sasl_protocol() {
    fails_at(
        &source(&sasl("SSL", "PLAIN", "\"p\""), ""),
        6,
        5,
        "a sasl block needs protocol SASL_PLAINTEXT or SASL_SSL, but cluster \"source\" uses SSL",
    );
}

#[test]
fn a_tls_block_needs_a_tls_protocol() {
    fails_at(
        &source("    tls { ca_file = \"ca.pem\" }\n", ""),
        5,
        5,
        "a tls block needs protocol SSL or SASL_SSL, but cluster \"source\" uses PLAINTEXT",
    );
}

#[test]
fn a_sasl_protocol_needs_credentials() {
    fails_at(
        &source("    protocol = \"SASL_SSL\"\n", ""),
        5,
        5,
        "protocol SASL_SSL of cluster \"source\" needs a sasl block (or aws_iam)",
    );
}

#[test]
fn a_registry_topic_kafka_would_refuse_is_refused() {
    fails_at(
        &with("schema_registry {\n  topic = \"bad name\"\n}\n"),
        12,
        11,
        "\"bad name\" in the schema_registry block is not a topic name",
    );
}
