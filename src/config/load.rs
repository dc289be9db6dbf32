//! The migration file → [`Migration`]: parse (hcl-rs), evaluate variables, read each block,
//! then check the combinations a single attribute cannot.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hcl::edit::structure::Block;

use super::error::{ConfigError, SourceFile};
use super::eval::{span_of, Kind, Scope, Value};
use super::model::*;
use super::secret::Secret;
use super::section::{block_label, Section};

const TOP_ATTRS: &[&str] = &["name"];
const TOP_BLOCKS: &[&str] = &[
    "variable",
    "cluster",
    "topics",
    "acls",
    "consumer_groups",
    "replication",
    "cutover",
];

/// Parses and validates migration-file `text` named `name`; `file()` paths are relative to
/// `base_dir`; `vars` are `--var` values; `env` reads environment variables.
pub fn parse(
    name: &str,
    text: &str,
    base_dir: &Path,
    vars: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Migration, ConfigError> {
    let file = SourceFile::new(name, text);
    let body = hcl::edit::parser::parse_body(text).map_err(|e| {
        let loc = e.location();
        let offset = line_col_offset(text, loc.line(), loc.column());
        file.error(
            offset..offset + 1,
            "here",
            format!("syntax error: {}", e.message()),
            Some("check brackets, quotes and `=` signs near this point".into()),
        )
    })?;
    let mut scope = Scope {
        file: &file,
        base_dir: base_dir.to_path_buf(),
        vars: BTreeMap::new(),
        unset: BTreeSet::new(),
        env,
    };
    let top = Section::new(
        &scope,
        "the migration file",
        0..0,
        &body,
        TOP_ATTRS,
        TOP_BLOCKS,
    )?;
    let (declared, unset) = variables(&top, vars)?;
    drop(top);
    scope.vars = declared;
    scope.unset = unset;
    let top = Section::new(
        &scope,
        "the migration file",
        0..0,
        &body,
        TOP_ATTRS,
        TOP_BLOCKS,
    )?;

    let (name, name_span) = top.required_string("name", "\"orders-to-msk\"")?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(file.error(
            name_span,
            "invalid name",
            format!("name \"{name}\" may only hold letters, digits, '.', '_' and '-'"),
            Some("it names Kafka topics and transactional ids".into()),
        ));
    }
    let mut source = None;
    let mut target = None;
    for block in top.blocks("cluster") {
        let Some((label, label_span)) = block_label(block) else {
            return Err(file.error(
                span_of(&block.ident),
                "needs a label",
                "a cluster block needs a label: cluster \"source\" or cluster \"target\"",
                None,
            ));
        };
        let slot = match label {
            "source" => &mut source,
            "target" => &mut target,
            other => {
                return Err(file.error(
                    label_span,
                    "unknown cluster",
                    format!("unknown cluster \"{other}\""),
                    super::error::did_you_mean(other, &["source", "target"])
                        .or(Some("the clusters are \"source\" and \"target\"".into())),
                ));
            }
        };
        if slot.is_some() {
            return Err(file.error(
                label_span,
                "again here",
                format!("cluster \"{label}\" is defined twice"),
                None,
            ));
        }
        *slot = Some(cluster(&top, block, label)?);
    }
    let missing_cluster = |label: &str| {
        file.error(
            0..0,
            "here",
            format!("missing cluster \"{label}\" block"),
            Some(format!(
                "add cluster \"{label}\" {{ bootstrap_servers = [\"host:9092\"] }}"
            )),
        )
    };
    let clusters = Clusters {
        source: source.ok_or_else(|| missing_cluster("source"))?,
        target: target.ok_or_else(|| missing_cluster("target"))?,
    };
    Ok(Migration {
        name,
        clusters,
        topics: optional(&top, "topics", topics)?,
        acls: optional(&top, "acls", acls)?,
        consumer_groups: optional(&top, "consumer_groups", groups)?,
        replication: optional(&top, "replication", replication)?,
        cutover: optional(&top, "cutover", cutover)?,
    })
}

/// An optional top-level block read by `read`, or its defaults when absent.
fn optional<T: Default>(
    top: &Section<'_>,
    name: &str,
    read: fn(&Section<'_>, &Block) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    top.block(name)?
        .map(|b| read(top, b))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// `variable "x" { default = … }` blocks with `--var` values applied.
fn variables(
    top: &Section<'_>,
    given: &[(String, String)],
) -> Result<(BTreeMap<String, Value>, BTreeSet<String>), ConfigError> {
    let mut values = BTreeMap::new();
    let mut unset = BTreeSet::new();
    let mut declared = BTreeSet::new();
    for block in top.blocks("variable") {
        let Some((name, label_span)) = block_label(block) else {
            return Err(top.scope.file.error(
                span_of(&block.ident),
                "needs a name",
                "a variable block needs a name: variable \"NAME\" { … }",
                None,
            ));
        };
        if !declared.insert(name.to_string()) {
            return Err(top.scope.file.error(
                label_span,
                "again here",
                format!("variable \"{name}\" is declared twice"),
                None,
            ));
        }
        let section = top.nested(
            block,
            format!("variable \"{name}\""),
            &["default", "description", "sensitive"],
            &[],
        )?;
        section.string("description")?;
        section.bool("sensitive")?;
        let cli = given.iter().rev().find(|(k, _)| k == name);
        match (cli, section.value("default")?) {
            (Some((_, v)), _) => {
                values.insert(
                    name.to_string(),
                    Value {
                        kind: Kind::String(v.clone()),
                        span: label_span,
                    },
                );
            }
            (None, Some(default)) => {
                values.insert(name.to_string(), default);
            }
            (None, None) => {
                unset.insert(name.to_string());
            }
        }
    }
    if let Some((name, _)) = given.iter().find(|(k, _)| !declared.contains(k)) {
        return Err(ConfigError::file(
            format!(
                "--var {name}=…: {} declares no variable \"{name}\"",
                top.scope.file.name
            ),
            Some(format!("declare it: variable \"{name}\" {{}}")),
        ));
    }
    Ok((values, unset))
}

fn cluster(top: &Section<'_>, block: &Block, label: &str) -> Result<ClusterConfig, ConfigError> {
    let what = format!("cluster \"{label}\"");
    let s = top.nested(
        block,
        what.clone(),
        &["bootstrap_servers", "properties"],
        &["security"],
    )?;
    let servers = s.string_list("bootstrap_servers")?;
    let bootstrap_servers: Vec<String> = match servers {
        Some(list) if !list.is_empty() => list.into_iter().map(|(v, _)| v).collect(),
        Some(_) => {
            return Err(s.scope.file.error(
                s.key_span("bootstrap_servers").unwrap_or(s.header.clone()),
                "empty",
                format!("`bootstrap_servers` of {what} is empty"),
                Some("list at least one host:port".into()),
            ))
        }
        None => {
            return Err(s.scope.file.error(
                s.header.clone(),
                "in this block",
                format!("missing required attribute `bootstrap_servers` in {what}"),
                Some("add bootstrap_servers = [\"host:9092\"]".into()),
            ))
        }
    };
    let (security, typed_keys) = match s.block("security")? {
        Some(b) => security(&s, b, &what)?,
        None => (Security::default(), Vec::new()),
    };
    let mut properties = BTreeMap::new();
    for (key, key_span, value) in s.string_map("properties")?.unwrap_or_default() {
        if key == "bootstrap.servers" || typed_keys.contains(&key.as_str()) {
            return Err(s.scope.file.error(key_span, "set twice", format!("property \"{key}\" of {what} is also set by a typed setting"), Some("set it in one place only: remove it from `properties` or from the typed setting".into())));
        }
        properties.insert(key, value);
    }
    Ok(ClusterConfig {
        bootstrap_servers,
        security,
        properties,
    })
}

/// The security block, and the librdkafka keys its typed settings own.
fn security(
    parent: &Section<'_>,
    block: &Block,
    cluster: &str,
) -> Result<(Security, Vec<&'static str>), ConfigError> {
    let file = parent.scope.file;
    let s = parent.nested(
        block,
        format!("the security block of {cluster}"),
        &["protocol"],
        &["sasl", "tls", "aws_iam"],
    )?;
    let protocol = s.choice("protocol", &Protocol::ALL)?.unwrap_or_default();
    let protocol_span = s.key_span("protocol").unwrap_or(s.header.clone());
    let mut owned = vec!["security.protocol"];
    let sasl = match s.block("sasl")? {
        None => None,
        Some(b) => {
            let sasl = s.nested(
                b,
                format!("the sasl block of {cluster}"),
                &["mechanism", "username", "password"],
                &[],
            )?;
            let mechanism = sasl
                .choice("mechanism", &SaslMechanism::ALL)?
                .ok_or_else(|| {
                    file.error(
                        span_of(&b.ident),
                        "in this block",
                        format!(
                            "missing required attribute `mechanism` in the sasl block of {cluster}"
                        ),
                        Some("add mechanism = \"SCRAM-SHA-512\" (or PLAIN, SCRAM-SHA-256)".into()),
                    )
                })?;
            let (username, _) = sasl.required_string("username", "\"migrator\"")?;
            let (password, _) = sasl.required_string("password", "env(\"KAFKA_PASSWORD\")")?;
            if !protocol.uses_sasl() {
                return Err(file.error(span_of(&b.ident), "needs SASL", format!("a sasl block needs protocol SASL_PLAINTEXT or SASL_SSL, but {cluster} uses {}", protocol.as_str()), Some("set protocol = \"SASL_SSL\"".into())));
            }
            owned.extend([
                "sasl.mechanism",
                "sasl.mechanisms",
                "sasl.username",
                "sasl.password",
            ]);
            Some(Sasl {
                mechanism,
                username,
                password: Secret::new(password),
            })
        }
    };
    let tls = match s.block("tls")? {
        None => None,
        Some(b) => {
            let t = s.nested(
                b,
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
            let path = |name: &str| -> Result<Option<std::path::PathBuf>, ConfigError> {
                Ok(t.string(name)?
                    .map(|(p, _)| super::eval::resolve(&t.scope.base_dir, &p)))
            };
            let tls = Tls {
                ca_file: path("ca_file")?,
                cert_file: path("cert_file")?,
                key_file: path("key_file")?,
                key_password: t.string("key_password")?.map(|(p, _)| Secret::new(p)),
                verify_hostname: t.bool("verify_hostname")?.unwrap_or(true),
            };
            if tls.cert_file.is_some() != tls.key_file.is_some() {
                let (given, missing) = if tls.cert_file.is_some() {
                    ("cert_file", "key_file")
                } else {
                    ("key_file", "cert_file")
                };
                return Err(file.error(t.key_span(given).unwrap_or(t.header.clone()), "needs its pair", format!("mTLS needs both cert_file and key_file; {cluster} sets {given} without {missing}"), Some(format!("add {missing} = \"….pem\""))));
            }
            if !protocol.uses_tls() {
                return Err(file.error(
                    span_of(&b.ident),
                    "needs TLS",
                    format!(
                        "a tls block needs protocol SSL or SASL_SSL, but {cluster} uses {}",
                        protocol.as_str()
                    ),
                    Some("set protocol = \"SSL\" or \"SASL_SSL\"".into()),
                ));
            }
            owned.extend([
                "ssl.ca.location",
                "ssl.certificate.location",
                "ssl.key.location",
                "ssl.key.password",
                "ssl.endpoint.identification.algorithm",
            ]);
            Some(tls)
        }
    };
    let aws_iam = match s.block("aws_iam")? {
        None => None,
        Some(b) => {
            let a = s.nested(
                b,
                format!("the aws_iam block of {cluster}"),
                &["region", "profile", "role_arn"],
                &[],
            )?;
            let (region, _) = a.required_string("region", "\"us-east-1\"")?;
            if protocol != Protocol::SaslSsl {
                return Err(file.error(
                    span_of(&b.ident),
                    "needs SASL_SSL",
                    format!(
                        "MSK IAM authentication needs protocol SASL_SSL, but {cluster} uses {}",
                        protocol.as_str()
                    ),
                    Some("set protocol = \"SASL_SSL\"".into()),
                ));
            }
            if sasl.is_some() {
                return Err(file.error(
                    span_of(&b.ident),
                    "one or the other",
                    format!("{cluster} has both a sasl block and an aws_iam block"),
                    Some("MSK IAM replaces SASL/SCRAM: keep one".into()),
                ));
            }
            owned.extend([
                "sasl.mechanism",
                "sasl.mechanisms",
                "sasl.oauthbearer.config",
                "sasl.oauthbearer.method",
            ]);
            Some(AwsIam {
                region,
                profile: a.string("profile")?.map(|p| p.0),
                role_arn: a.string("role_arn")?.map(|p| p.0),
            })
        }
    };
    if protocol.uses_sasl() && sasl.is_none() && aws_iam.is_none() {
        return Err(file.error(
            protocol_span,
            "needs credentials",
            format!(
                "protocol {} of {cluster} needs a sasl block (or aws_iam)",
                protocol.as_str()
            ),
            Some(
                "add sasl { mechanism = \"SCRAM-SHA-512\", username = …, password = env(\"…\") }"
                    .into(),
            ),
        ));
    }
    Ok((
        Security {
            protocol,
            sasl,
            tls,
            aws_iam,
        },
        owned,
    ))
}

fn topics(top: &Section<'_>, block: &Block) -> Result<TopicSelection, ConfigError> {
    let s = top.nested(
        block,
        "the topics block".into(),
        &["include", "exclude", "names", "replication_factor"],
        &["config"],
    )?;
    let mut topics = TopicSelection::default();
    let names = s.string_list("names")?;
    match s.patterns("include")? {
        Some(include) => topics.include = include,
        // Naming topics without patterns selects just those.
        None if names.is_some() => topics.include = Vec::new(),
        None => {}
    }
    topics.exclude = s.patterns("exclude")?.unwrap_or_default();
    topics.names = names
        .unwrap_or_default()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    topics.replication_factor = s.integer("replication_factor", 1..=32)?.map(|n| n as u16);
    if let Some(b) = s.block("config")? {
        let c = s.nested(
            b,
            "the topics.config block".into(),
            &["exclude", "override"],
            &[],
        )?;
        topics.config.exclude = c
            .string_list("exclude")?
            .unwrap_or_default()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        topics.config.overrides = c
            .string_map("override")?
            .unwrap_or_default()
            .into_iter()
            .map(|(k, _, v)| (k, v))
            .collect();
    }
    Ok(topics)
}

fn acls(top: &Section<'_>, block: &Block) -> Result<AclSync, ConfigError> {
    let s = top.nested(
        block,
        "the acls block".into(),
        &["sync", "principal_map"],
        &[],
    )?;
    Ok(AclSync {
        sync: s.bool("sync")?.unwrap_or(true),
        principal_map: s
            .string_map("principal_map")?
            .unwrap_or_default()
            .into_iter()
            .map(|(k, _, v)| (k, v))
            .collect(),
    })
}

fn groups(top: &Section<'_>, block: &Block) -> Result<GroupSelection, ConfigError> {
    let s = top.nested(
        block,
        "the consumer_groups block".into(),
        &["include", "exclude", "sync", "sync_interval"],
        &[],
    )?;
    let defaults = GroupSelection::default();
    Ok(GroupSelection {
        include: s.patterns("include")?.unwrap_or(defaults.include),
        exclude: s.patterns("exclude")?.unwrap_or_default(),
        sync: s.bool("sync")?.unwrap_or(true),
        sync_interval: s
            .duration("sync_interval")?
            .unwrap_or(defaults.sync_interval),
    })
}

fn replication(top: &Section<'_>, block: &Block) -> Result<Replication, ConfigError> {
    let s = top.nested(
        block,
        "the replication block".into(),
        &[
            "tasks",
            "delivery",
            "max_bytes_per_second",
            "commit_interval",
            "transaction_bytes",
            "batch_size",
            "linger",
            "compression",
            "fetch_max_bytes",
        ],
        &[],
    )?;
    let d = Replication::default();
    Ok(Replication {
        tasks: s.integer("tasks", 1..=256)?.map_or(d.tasks, |n| n as usize),
        delivery: s
            .choice(
                "delivery",
                &[
                    ("exactly-once", DeliveryMode::ExactlyOnce),
                    ("at-least-once", DeliveryMode::AtLeastOnce),
                ],
            )?
            .unwrap_or_default(),
        max_bytes_per_second: s.size("max_bytes_per_second")?,
        commit_interval: s.duration("commit_interval")?.unwrap_or(d.commit_interval),
        transaction_bytes: s.size("transaction_bytes")?.unwrap_or(d.transaction_bytes),
        batch_size: s.size("batch_size")?.unwrap_or(d.batch_size),
        linger: s.duration("linger")?.unwrap_or(d.linger),
        compression: s
            .choice(
                "compression",
                &[
                    ("none", Compression::None),
                    ("gzip", Compression::Gzip),
                    ("snappy", Compression::Snappy),
                    ("lz4", Compression::Lz4),
                    ("zstd", Compression::Zstd),
                ],
            )?
            .unwrap_or_default(),
        fetch_max_bytes: s.size("fetch_max_bytes")?.unwrap_or(d.fetch_max_bytes),
    })
}

fn cutover(top: &Section<'_>, block: &Block) -> Result<Cutover, ConfigError> {
    let s = top.nested(
        block,
        "the cutover block".into(),
        &["quiet_period", "data_check", "max_lag"],
        &[],
    )?;
    let d = Cutover::default();
    Ok(Cutover {
        quiet_period: s.duration("quiet_period")?.unwrap_or(d.quiet_period),
        data_check: s
            .choice(
                "data_check",
                &[
                    ("none", DataCheck::None),
                    ("sample", DataCheck::Sample),
                    ("full", DataCheck::Full),
                ],
            )?
            .unwrap_or_default(),
        max_lag: s.integer("max_lag", 0..=u64::MAX >> 11)?.unwrap_or(0),
    })
}

/// Byte offset of a 1-based line and column.
fn line_col_offset(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_text = text[start.min(text.len())..]
        .split('\n')
        .next()
        .unwrap_or("");
    let col: usize = line_text
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    (start + col).min(text.len())
}
