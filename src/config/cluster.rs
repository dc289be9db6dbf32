//! `cluster "source"` and `cluster "target"` blocks: brokers, the `security` block (protocol,
//! SASL, TLS, MSK IAM) and the librdkafka passthrough map, with the combinations a single
//! attribute cannot check (a SASL protocol without credentials, mTLS with half a key pair, a
//! property also set by a typed setting).

use std::path::PathBuf;

use hcl::edit::structure::Block;

use std::ops::Range;

use super::error::{did_you_mean, quote, ConfigError};
use super::eval::{resolve, span_of};
use super::librdkafka::{self, Verdict};
use super::model::{AwsIam, ClusterConfig, Protocol, Sasl, SaslMechanism, Security, Tls};
use super::secret::{is_secret_property, Secret, SecretOrigin};
use super::section::Section;

/// Reads one `cluster "LABEL" { … }` block.
pub fn cluster(
    top: &Section<'_>,
    block: &Block,
    label: &str,
) -> Result<ClusterConfig, ConfigError> {
    let what = format!("cluster \"{label}\"");
    let s = top.nested(
        block,
        what.clone(),
        &["bootstrap_servers", "properties"],
        &["security", "msk"],
    )?;
    let servers = s
        .string_list("bootstrap_servers")?
        .ok_or_else(|| s.missing("bootstrap_servers", "[\"host:9092\"]"))?;
    if servers.is_empty() {
        return Err(s.error(
            s.key_span("bootstrap_servers").unwrap_or(s.header.clone()),
            "empty",
            format!("`bootstrap_servers` of {what} is empty"),
            Some("list at least one host:port".into()),
        ));
    }
    for (server, span) in &servers {
        if !is_host_port(server) {
            return Err(s.error(
                span.clone(),
                "not host:port",
                format!(
                    "bootstrap server {} of {what} is not host:port",
                    s.scope.file.quote(server)
                ),
                Some("write each broker as \"host:port\", such as \"kafka-1:9092\"".into()),
            ));
        }
    }
    let security = match s.block("security")? {
        Some(b) => security(&s, b, &what)?,
        None => Security::default(),
    };
    let mut properties = std::collections::BTreeMap::new();
    for (key, key_span, value) in s.string_map("properties")?.unwrap_or_default() {
        if is_secret_property(&key) {
            s.scope.file.secret(&value);
        }
        if let Some(setting) = typed_setting(&key, &security) {
            return Err(s.error(
                key_span,
                "set twice",
                format!("property \"{key}\" of {what} is also set by a typed setting: {setting}"),
                Some(format!(
                    "set it in one place only: remove \"{key}\" from `properties` or {setting}"
                )),
            ));
        }
        property(&s, &key, &key_span, &value, &what)?;
        if security.aws_iam.is_some() && verification_off(&key, &value).is_some() {
            return Err(s.error(
                key_span,
                "turns TLS verification off",
                format!(
                    "property \"{key}\" of {what} turns TLS verification off, which MSK IAM \
                     authentication refuses: its tokens would go to whoever answers"
                ),
                Some(format!(
                    "remove \"{key}\"; to trust a private CA, set security {{ tls {{ ca_file }} }}"
                )),
            ));
        }
        properties.insert(key, value);
    }
    Ok(ClusterConfig {
        bootstrap_servers: servers.into_iter().map(|(v, _)| v).collect(),
        security,
        properties,
        msk: s
            .block("msk")?
            .map(|b| super::msk::msk(&s, b, label, &what))
            .transpose()?,
    })
}

/// Checks one pass-through property with librdkafka: a name it knows, a value it takes.
fn property(
    s: &Section<'_>,
    key: &str,
    key_span: &Range<usize>,
    value: &str,
    what: &str,
) -> Result<(), ConfigError> {
    match librdkafka::check(key, value) {
        Verdict::Accepted => Ok(()),
        Verdict::UnknownName => Err(s.error(
            key_span.clone(),
            "unknown property",
            format!(
                "`properties` of {what}: librdkafka has no property {}",
                quote(key)
            ),
            did_you_mean(key, librdkafka::PROPERTIES).or(Some(
                "use librdkafka's property names (its CONFIGURATION.md); Java client settings \
                 such as sasl.jaas.config have typed settings in the security block"
                    .into(),
            )),
        )),
        Verdict::InvalidValue(reason) => Err(s.error(
            key_span.clone(),
            "value refused",
            format!("`properties` of {what}: librdkafka refuses the value of \"{key}\": {reason}"),
            Some(
                "see the property in librdkafka's CONFIGURATION.md for the values it takes".into(),
            ),
        )),
    }
}

/// How the pass-through property `key = value` turns TLS verification off, if it does.
pub fn verification_off(key: &str, value: &str) -> Option<&'static str> {
    let value = value.trim().to_ascii_lowercase();
    match key {
        "enable.ssl.certificate.verification" if matches!(value.as_str(), "false" | "0") => {
            Some("the broker's certificate is not verified at all")
        }
        "ssl.endpoint.identification.algorithm" if value == "none" => {
            Some("the broker's certificate is not checked against its host name")
        }
        _ => None,
    }
}

/// What in `cluster` turns TLS verification off: the typed `verify_hostname = false` and the
/// pass-through properties that do. Each is a warning in `validate` and `plan`.
pub(super) fn insecure_settings(cluster: &ClusterConfig) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    if cluster.security.protocol.uses_tls()
        && cluster
            .security
            .tls
            .as_ref()
            .is_some_and(|t| !t.verify_hostname)
    {
        out.push((
            "verify_hostname = false".to_string(),
            "the broker's certificate is not checked against its host name",
        ));
    }
    for (key, value) in &cluster.properties {
        if let Some(why) = verification_off(key, value) {
            out.push((format!("property \"{key}\""), why));
        }
    }
    out
}

/// `host:port` (an IPv6 host in brackets), with a port from 1 to 65535.
fn is_host_port(server: &str) -> bool {
    match server.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && !host.contains(char::is_whitespace)
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
        None => false,
    }
}

/// Whether a typed setting sets the librdkafka property `key`, and which (as the user writes
/// it). `crate::auth` turns these settings into exactly these properties.
fn typed_setting(key: &str, security: &Security) -> Option<&'static str> {
    let tls = security.tls.as_ref();
    let set = match key {
        "bootstrap.servers" => Some(("bootstrap_servers", true)),
        "security.protocol" => Some(("security { protocol }", true)),
        "sasl.mechanism" | "sasl.mechanisms" => Some((
            "security { sasl { mechanism } } or security { aws_iam }",
            security.sasl.is_some() || security.aws_iam.is_some(),
        )),
        "sasl.username" => Some(("security { sasl { username } }", security.sasl.is_some())),
        "sasl.password" => Some(("security { sasl { password } }", security.sasl.is_some())),
        "sasl.oauthbearer.method" | "sasl.oauthbearer.config" => {
            Some(("security { aws_iam }", security.aws_iam.is_some()))
        }
        "ssl.ca.location" => Some((
            "security { tls { ca_file } }",
            tls.is_some_and(|t| t.ca_file.is_some()),
        )),
        "ssl.certificate.location" => Some((
            "security { tls { cert_file } }",
            tls.is_some_and(|t| t.cert_file.is_some()),
        )),
        "ssl.key.location" => Some((
            "security { tls { key_file } }",
            tls.is_some_and(|t| t.key_file.is_some()),
        )),
        "ssl.key.password" => Some((
            "security { tls { key_password } }",
            tls.is_some_and(|t| t.key_password.is_some()),
        )),
        "ssl.endpoint.identification.algorithm" => {
            Some(("security { tls { verify_hostname } }", tls.is_some()))
        }
        _ => None,
    };
    set.and_then(|(setting, is_set)| is_set.then_some(setting))
}

/// The `security` block of `cluster`.
fn security(parent: &Section<'_>, block: &Block, cluster: &str) -> Result<Security, ConfigError> {
    let s = parent.nested(
        block,
        format!("the security block of {cluster}"),
        &["protocol"],
        &["sasl", "tls", "aws_iam"],
    )?;
    let protocol = s.choice("protocol", &Protocol::ALL)?.unwrap_or_default();
    let (sasl_block, tls_block, iam_block) =
        (s.block("sasl")?, s.block("tls")?, s.block("aws_iam")?);
    let sasl = sasl_block.map(|b| sasl(&s, b, cluster)).transpose()?;
    let tls = tls_block.map(|b| tls(&s, b, cluster)).transpose()?;
    let aws_iam = iam_block.map(|b| aws_iam(&s, b, cluster)).transpose()?;

    // What the protocol needs and allows; errors point at the block that does not fit.
    let misfit = |block: Option<&Block>, label: &str, message: String, help: &str| {
        let span = block.map_or(s.header.clone(), |b| span_of(&b.ident));
        Err(s.error(span, label, message, Some(help.into())))
    };
    let uses = protocol.as_str();
    if sasl.is_some() && !protocol.uses_sasl() {
        return misfit(
            sasl_block,
            "needs SASL",
            format!(
                "a sasl block needs protocol SASL_PLAINTEXT or SASL_SSL, but {cluster} uses {uses}"
            ),
            "set protocol = \"SASL_SSL\" (or \"SASL_PLAINTEXT\")",
        );
    }
    if tls.is_some() && !protocol.uses_tls() {
        return misfit(
            tls_block,
            "needs TLS",
            format!("a tls block needs protocol SSL or SASL_SSL, but {cluster} uses {uses}"),
            "set protocol = \"SSL\" or \"SASL_SSL\"",
        );
    }
    if aws_iam.is_some() && protocol != Protocol::SaslSsl {
        return misfit(
            iam_block,
            "needs SASL_SSL",
            format!("MSK IAM authentication needs protocol SASL_SSL, but {cluster} uses {uses}"),
            "set protocol = \"SASL_SSL\"",
        );
    }
    if aws_iam.is_some() && tls.as_ref().is_some_and(|t| !t.verify_hostname) {
        return misfit(
            tls_block,
            "turns TLS verification off",
            format!(
                "{cluster} turns host name verification off (verify_hostname = false), which \
                 MSK IAM authentication refuses: its tokens would go to whoever answers"
            ),
            "remove verify_hostname = false; MSK brokers' certificates name their hosts",
        );
    }
    if aws_iam.is_some() && sasl.is_some() {
        return misfit(
            iam_block,
            "one or the other",
            format!("{cluster} has both a sasl block and an aws_iam block"),
            "MSK IAM replaces SASL/PLAIN and SASL/SCRAM: keep one",
        );
    }
    if protocol.uses_sasl() && sasl.is_none() && aws_iam.is_none() {
        return Err(s.error(
            s.key_span("protocol").unwrap_or(s.header.clone()),
            "needs credentials",
            format!(
                "protocol {} of {cluster} needs a sasl block (or aws_iam)",
                protocol.as_str()
            ),
            Some(
                "add a sasl block with mechanism, username and password (or an aws_iam block \
                 for MSK IAM)"
                    .into(),
            ),
        ));
    }
    Ok(Security {
        protocol,
        sasl,
        tls,
        aws_iam,
    })
}

fn sasl(parent: &Section<'_>, block: &Block, cluster: &str) -> Result<Sasl, ConfigError> {
    let s = parent.nested(
        block,
        format!("the sasl block of {cluster}"),
        &["mechanism", "username", "password"],
        &[],
    )?;
    let mechanism = s
        .choice("mechanism", &SaslMechanism::ALL)?
        .ok_or_else(|| s.missing("mechanism", "\"SCRAM-SHA-512\" (or PLAIN, SCRAM-SHA-256)"))?;
    let (username, _) = s.required_string("username", "\"migrator\"")?;
    let (password, span) = s.required_string("password", "env(\"KAFKA_PASSWORD\")")?;
    Ok(Sasl {
        mechanism,
        username,
        password: secret(&s, password, span),
    })
}

fn tls(parent: &Section<'_>, block: &Block, cluster: &str) -> Result<Tls, ConfigError> {
    let t = parent.nested(
        block,
        format!("the tls block of {cluster}"),
        &[
            "ca_file",
            "cert_file",
            "key_file",
            "key_password",
            "verify_hostname",
        ],
        &[],
    )?;
    let path = |name: &str| -> Result<Option<PathBuf>, ConfigError> {
        Ok(t.string(name)?.map(|(p, _)| resolve(&t.scope.base_dir, &p)))
    };
    let tls = Tls {
        ca_file: path("ca_file")?,
        cert_file: path("cert_file")?,
        key_file: path("key_file")?,
        key_password: t
            .string("key_password")?
            .map(|(p, span)| secret(&t, p, span)),
        verify_hostname: t.bool("verify_hostname")?.unwrap_or(true),
    };
    if tls.cert_file.is_some() != tls.key_file.is_some() {
        let (given, missing) = if tls.cert_file.is_some() {
            ("cert_file", "key_file")
        } else {
            ("key_file", "cert_file")
        };
        return Err(t.error(
            t.key_span(given).unwrap_or(t.header.clone()),
            "needs its pair",
            format!(
                "mTLS needs both cert_file and key_file; {cluster} sets {given} without {missing}"
            ),
            Some(format!("add {missing} = \"….pem\"")),
        ));
    }
    Ok(tls)
}

fn aws_iam(parent: &Section<'_>, block: &Block, cluster: &str) -> Result<AwsIam, ConfigError> {
    let a = parent.nested(
        block,
        format!("the aws_iam block of {cluster}"),
        &["region", "profile", "role_arn", "cluster_arn"],
        &[],
    )?;
    let (region, _) = a.required_string("region", "\"us-east-1\"")?;
    // They go into the client's `sasl.oauthbearer.config` as space-separated `key=value`
    // pairs, and into JAAS options: one word each.
    for name in ["region", "profile", "role_arn", "cluster_arn"] {
        if let Some((value, span)) = a.string(name)? {
            if value.is_empty() || value.contains(char::is_whitespace) {
                return Err(a.error(
                    span,
                    "one word",
                    format!("`{name}` of {cluster} must be one word, without spaces"),
                    Some(format!(
                        "write {name} = \"…\" without spaces or line breaks"
                    )),
                ));
            }
        }
    }
    let cluster_arn = a.string("cluster_arn")?;
    if let Some((arn, span)) = &cluster_arn {
        if let Err(reason) = super::MskCluster::parse(arn) {
            return Err(a.error(
                span.clone(),
                "not an MSK cluster ARN",
                format!("cluster_arn of {cluster} is not an MSK cluster ARN: {reason}"),
                Some("use the ARN the MSK console shows, such as \"arn:aws:kafka:us-east-1:123456789012:cluster/orders/abcd1234-5678-90ab-cdef-1234567890ab-1\"".into()),
            ));
        }
    }
    Ok(AwsIam {
        region,
        profile: a.string("profile")?.map(|p| p.0),
        role_arn: a.string("role_arn")?.map(|p| p.0),
        cluster_arn: cluster_arn.map(|p| p.0),
    })
}

/// A secret value with where it was read from: the text at `span` is the expression that gave
/// it, `env("NAME")` or `file("path")` when it came from the environment or a file.
fn secret(section: &Section<'_>, value: String, span: Range<usize>) -> Secret {
    section.scope.file.secret(&value);
    let expression = section.scope.file.text().get(span).unwrap_or("").trim();
    let argument = |function: &str| {
        expression
            .strip_prefix(function)?
            .trim()
            .strip_prefix('(')?
            .strip_suffix(')')?
            .trim()
            .strip_prefix('"')?
            .strip_suffix('"')
            .map(str::to_string)
    };
    let origin = if let Some(name) = argument("env") {
        SecretOrigin::Env(name)
    } else if let Some(path) = argument("file") {
        SecretOrigin::File(resolve(&section.scope.base_dir, &path))
    } else {
        SecretOrigin::Literal
    };
    Secret::with_origin(value, origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_are_host_and_port() {
        for good in [
            "kafka-1:9092",
            "10.0.0.1:19092",
            "[::1]:9092",
            "b-1.x.amazonaws.com:9098",
        ] {
            assert!(is_host_port(good), "{good}");
        }
        for bad in [
            "kafka-1",
            ":9092",
            "kafka-1:",
            "kafka-1:0",
            "kafka-1:99999",
            "a b:1",
        ] {
            assert!(!is_host_port(bad), "{bad}");
        }
    }

    #[test]
    fn secrets_remember_where_they_were_read_from() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key-password"), "k3y\n").unwrap();
        let text = r#"
name = "m"
cluster "source" {
  bootstrap_servers = ["a:9093"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "u"
      password  = env( "SOURCE_PASSWORD" )
    }
  }
}
cluster "target" {
  bootstrap_servers = ["b:9094"]
  security {
    protocol = "SSL"
    tls {
      cert_file    = "c.pem"
      key_file     = "c.key"
      key_password = file("key-password")
    }
  }
}
"#;
        let m = crate::config::parse_with_env("m.hcl", text, dir.path(), &[], &|_| {
            Some("hunter2".into())
        })
        .unwrap();
        let password = &m.source().security.sasl.as_ref().unwrap().password;
        assert_eq!(password.expose(), "hunter2");
        assert_eq!(
            password.origin(),
            &SecretOrigin::Env("SOURCE_PASSWORD".into())
        );
        let key = m.target().security.tls.as_ref().unwrap();
        let key = key.key_password.as_ref().unwrap();
        assert_eq!(key.expose(), "k3y");
        assert_eq!(
            key.origin(),
            &SecretOrigin::File(dir.path().join("key-password"))
        );
    }
}
