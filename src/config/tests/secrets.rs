//! No diagnostic and no `validate --json` output shows a secret. Each test sweeps every
//! string of a file that uses every block: each in turn is given a secret (from `env()`, from
//! a `sensitive` variable, or written where a secret goes) that makes it invalid, and the whole
//! rendered report (message, help, snippet) and the JSON forms are searched for it. A new
//! message that quotes a value fails here.

use miette::GraphicalReportHandler;

use super::*;

const MARKER: &str = "SECRET-MARKER";

/// Every block and string attribute; `{}` is replaced by one string position at a time.
const EVERYTHING: &str = r#"variable "pw" {
  sensitive = true
  default   = "SECRET-MARKER-default"
}
name = "orders"
cluster "source" {
  bootstrap_servers = ["kafka-1:9093"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "migrator"
      password  = "SECRET-MARKER-literal"
    }
    tls {
      ca_file         = "ca.pem"
      verify_hostname = true
    }
  }
  properties = { "client.rack" = "use1-az1", "ssl.key.password" = "SECRET-MARKER-prop" }
}
cluster "target" {
  bootstrap_servers = ["b-1:9098"]
  security {
    protocol = "SASL_SSL"
    aws_iam {
      region      = "eu-west-1"
      profile     = "migration"
      role_arn    = "arn:aws:iam::123456789012:role/migrator"
      cluster_arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/abcd1234-5678-90ab-cdef-1234567890ab-1"
    }
  }
}
topics {
  include = ["^orders\\..*"]
  exclude = ["^tmp"]
  names   = ["legacy"]
  config {
    exclude  = ["retention.bytes"]
    override = { "min.insync.replicas" = "2" }
  }
}
acls {
  principal_map = { "User:a" = "User:b" }
}
consumer_groups {
  include       = [".*"]
  exclude       = ["^connect-"]
  sync_interval = "5s"
}
replication {
  delivery             = "at-least-once"
  max_bytes_per_second = "50MiB"
  commit_interval      = "1s"
  transaction_bytes    = "8MiB"
  batch_size           = "64KiB"
  linger               = "10ms"
  compression          = "zstd"
  fetch_max_bytes      = "50MiB"
  refresh_interval     = "1m"
}
cutover {
  quiet_period = "30s"
  data_check   = "sample"
}
"#;

/// A value no attribute takes: a space, a bracket, a control character.
const BAD: &str = "SECRET-MARKER-env (\u{1}x";

fn hostile_env(key: &str) -> Option<String> {
    (key == "HOSTILE").then(|| BAD.to_string())
}

/// The byte ranges of every string literal's contents, outside the variable block.
fn string_positions(text: &str) -> Vec<std::ops::Range<usize>> {
    let body = text.find("name = ").expect("a name");
    let mut out = Vec::new();
    let mut at = body;
    let bytes = text.as_bytes();
    while let Some(open) = text[at..].find('"').map(|i| at + i) {
        let mut end = open + 1;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        out.push(open..end + 1);
        at = end + 1;
    }
    out
}

/// Everything a user can see of `result`: the rendered report and the JSON forms.
fn shown(result: &Result<Migration, ConfigError>) -> String {
    match result {
        Ok(m) => format!("{}\n{}", m.to_json(), m.summary()),
        Err(e) => {
            let mut report = String::new();
            GraphicalReportHandler::new()
                .render_report(&mut report, e)
                .expect("renders");
            format!("{report}\n{}\n{e:?}", e.to_json())
        }
    }
}

/// Replaces each string position of `EVERYTHING` in turn with `replacement` and checks that
/// nothing shown holds the marker. Returns how many files were refused.
fn sweep(replacement: &str) -> usize {
    let dir = tempfile::tempdir().expect("a folder");
    std::fs::write(dir.path().join("secret.txt"), BAD).expect("written");
    let mut refused = 0;
    for range in string_positions(EVERYTHING) {
        let mut text = EVERYTHING.to_string();
        text.replace_range(range.clone(), replacement);
        let result = parse_with_env("m.hcl", &text, dir.path(), &[], &hostile_env);
        let out = shown(&result);
        assert!(
            !out.contains(MARKER),
            "{replacement} at {:?} is shown:\n{out}",
            &EVERYTHING[range]
        );
        refused += usize::from(result.is_err());
    }
    refused
}

#[test]
fn the_sweep_file_is_valid_and_its_json_shows_no_secret() {
    let m = parse_with_env("m.hcl", EVERYTHING, Path::new("/x"), &[], &hostile_env).unwrap();
    let json = m.to_json().to_string();
    assert!(!json.contains(MARKER), "{json}");
    assert!(json.contains("use1-az1"), "{json}");
    assert!(string_positions(EVERYTHING).len() > 30);
}

#[test]
fn values_from_the_environment_are_never_shown() {
    // Most positions refuse the value; each refusal must hide it.
    assert!(sweep("env(\"HOSTILE\")") > 25);
}

#[test]
fn values_from_files_are_never_shown() {
    assert!(sweep("file(\"secret.txt\")") > 25);
}

#[test]
fn values_from_sensitive_variables_are_never_shown() {
    assert!(sweep("\"${var.pw} (\"") > 25);
    assert!(sweep("var.pw") > 0);
}

#[test]
fn a_literal_secret_is_masked_in_any_broken_form() {
    for password in [
        "\"SECRET-MARKER-a\" \"again\"",
        "[\"SECRET-MARKER-b\"]",
        "<<EOT\nSECRET-MARKER-c\nEOT",
        "\"%{ if true }SECRET-MARKER-d%{ endif }\"",
        "nope(\"SECRET-MARKER-e\")",
        "\"SECRET-MARKER-f",
        "42\n      passwrd = \"SECRET-MARKER-g\"",
    ] {
        let text = EVERYTHING.replace("\"SECRET-MARKER-literal\"", password);
        let result = parse_with_env("m.hcl", &text, Path::new("/x"), &[], &hostile_env);
        assert!(result.is_err(), "{password}");
        let out = shown(&result);
        assert!(!out.contains(MARKER), "{password}:\n{out}");
    }
}

#[test]
fn a_long_line_is_cut_around_the_caret() {
    let text = format!("name = \"x\" {} \"y\"\n", " ".repeat(400_000));
    let err = parse_text(&text).unwrap_err();
    let header = format!("[m.hcl:{}:{}]", err.line, err.column);
    let out = shown(&Err(err));
    assert!(out.contains(&header), "{header} in {out}");
    assert!(out.len() < 4_000, "{} bytes", out.len());
    assert!(out.contains('…'), "{out}");
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let m = parse_text(&format!("\u{feff}{BASE}")).unwrap();
    assert_eq!(m.name, "orders-to-msk");
}

#[test]
fn files_that_are_not_regular_are_refused() {
    for path in ["/dev/zero", "/"] {
        let text = BASE.replace("\"orders-to-msk\"", &format!("file(\"{path}\")"));
        let err = parse_text(&text).unwrap_err();
        assert!(
            err.message.contains("not a regular file") || err.message.contains("a folder"),
            "{}",
            err.message
        );
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big"), vec![b'x'; (1 << 20) + 1]).unwrap();
    let text = BASE.replace("\"orders-to-msk\"", "file(\"big\")");
    let err = parse_with_env("m.hcl", &text, dir.path(), &[], &env).unwrap_err();
    assert!(err.message.contains("larger than 1 MiB"), "{}", err.message);
}

#[test]
fn a_control_character_in_a_name_is_refused_with_its_position() {
    let text = BASE.replace("\"kafka-1:9093\"", "\"kafka-1\\n:9093\"");
    let err = parse_text(&text).unwrap_err();
    assert!(
        err.message.contains("control character (U+000A)"),
        "{}",
        err.message
    );
    assert_eq!((err.line, err.column), (5, 24));
}

#[test]
fn an_error_as_json_has_its_position() {
    let err = parse_text("name = 1\n").unwrap_err();
    let json = err.to_json();
    assert_eq!(json["error"]["file"], "m.hcl");
    assert_eq!(json["error"]["line"], 1);
    assert_eq!(json["error"]["column"], 8);
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("`name`"));
    assert!(json["error"]["help"].is_string());
}

/// A tuning value from the environment that parses but is out of range is refused without
/// being quoted (nor its normalised form).
#[test]
fn an_out_of_range_value_from_the_environment_is_not_shown() {
    let env = |key: &str| (key == "ZERO").then(|| "0s".to_string());
    for (block, name) in [
        ("replication", "commit_interval"),
        ("replication", "refresh_interval"),
        ("consumer_groups", "sync_interval"),
        ("cutover", "quiet_period"),
    ] {
        let text = format!(
            "name = \"m\"\ncluster \"source\" {{ bootstrap_servers = [\"a:1\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"b:1\"] }}\n{block} {{\n  {name} = env(\"ZERO\")\n}}\n"
        );
        let result = parse_with_env("m.hcl", &text, Path::new("."), &[], &env);
        assert!(result.is_err(), "{name}");
        let out = shown(&result);
        assert!(out.contains("(a secret value, not shown)"), "{name}: {out}");
        assert!(
            !out.contains("not \"0s\"") && !out.contains("not 0ms"),
            "{name}: {out}"
        );
    }
}
