//! The migration file → [`Migration`]: parse (hcl-rs), evaluate variables, read each block,
//! then check the combinations a single attribute cannot.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hcl::edit::structure::Block;

use super::error::{ConfigError, SourceFile};
use super::eval::{span_of, Kind, Scope, Value};
use super::model::*;
use super::rename::Rename;
use super::section::{block_label, Section};
use super::tuning;
use super::values::PatternSet;

const TOP_ATTRS: &[&str] = &["name"];
const TOP_BLOCKS: &[&str] = &[
    "variable",
    "cluster",
    "topics",
    "acls",
    "quotas",
    "consumer_groups",
    "replication",
    "cutover",
    "failback",
    "schema_registry",
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
    // A byte-order mark (some editors on Windows write one) is not part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file = SourceFile::new(name, text);
    let body = hcl::edit::parser::parse_body(text).map_err(|e| {
        let offset = e.location().offset();
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
        default_of: Default::default(),
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
    // The name is part of the names of the topics the migration creates.
    if let Err(why) = topic_name(&name).and_then(|()| {
        super::names::internal_topics(&name)
            .iter()
            .try_for_each(|t| topic_name(t))
    }) {
        return Err(file.error(
            name_span,
            "invalid name",
            format!("name {} cannot name the migration's topics: {why}", file.quote(&name)),
            Some("use letters, digits, '.', '_' and '-' (it names Kafka topics and transactional ids)".into()),
        ));
    }
    let mut source = None;
    let mut target = None;
    for block in top.blocks("cluster") {
        let Some((label, label_span)) = block_label(block) else {
            return Err(file.error(
                span_of(&block.ident),
                "needs a label",
                "a cluster block needs a label",
                Some("write cluster \"source\" { … } or cluster \"target\" { … }".into()),
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
                Some("merge the two blocks into one".into()),
            ));
        }
        *slot = Some(super::cluster::cluster(&top, block, label)?);
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
        quotas: optional(&top, "quotas", quotas)?,
        consumer_groups: optional(&top, "consumer_groups", groups)?,
        replication: optional(&top, "replication", replication)?,
        cutover: optional(&top, "cutover", cutover)?,
        failback: optional(&top, "failback", failback)?,
        schema_registry: optional(&top, "schema_registry", schema_registry)?,
        secrets: file.secrets(),
        unset_env: Vec::new(),
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
                "a variable block needs a name",
                Some("write variable \"NAME\" { default = … }".into()),
            ));
        };
        if !declared.insert(name.to_string()) {
            return Err(top.scope.file.error(
                label_span,
                "again here",
                format!("variable \"{name}\" is declared twice"),
                Some("keep one of the two".into()),
            ));
        }
        let section = top.nested(
            block,
            format!("variable \"{name}\""),
            &["default", "description", "sensitive"],
            &[],
        )?;
        section.string("description")?;
        let sensitive = section.bool("sensitive")?.unwrap_or(false);
        let cli = given.iter().rev().find(|(k, _)| k == name);
        *top.scope.default_of.borrow_mut() = Some(name.to_string());
        let default = section.value("default");
        *top.scope.default_of.borrow_mut() = None;
        let default = default?;
        if sensitive {
            if let Some((_, value)) = cli {
                top.scope.file.secret(value);
            }
            if let Some(default) = &default {
                remember_secret(top.scope.file, &default.kind);
            }
        }
        match (cli, default) {
            (Some((_, v)), default) => {
                let kind = from_command_line(name, v, default.as_ref().map(|d| &d.kind))?;
                values.insert(
                    name.to_string(),
                    Value {
                        kind,
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

/// Every text in a sensitive variable's value is a secret.
fn remember_secret(file: &SourceFile, kind: &Kind) {
    match kind {
        Kind::String(s) => file.secret(s),
        Kind::List(items) => items.iter().for_each(|v| remember_secret(file, &v.kind)),
        Kind::Map(entries) => entries
            .iter()
            .for_each(|(_, _, v)| remember_secret(file, &v.kind)),
        Kind::Null | Kind::Bool(_) | Kind::Number(_) => {}
    }
}

/// A `--var` value, taken as a number or a bool when the variable's default is one.
fn from_command_line(name: &str, text: &str, default: Option<&Kind>) -> Result<Kind, ConfigError> {
    let wrong = |expected: &str| {
        ConfigError::file(
            format!("--var {name}=…: variable \"{name}\" takes {expected} (its default is one)"),
            Some(format!("pass --var {name}=VALUE with VALUE {expected}")),
        )
    };
    match default {
        Some(Kind::Number(_)) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Kind::Number)
            .ok_or_else(|| wrong("a number")),
        Some(Kind::Bool(_)) => match text.trim() {
            "true" => Ok(Kind::Bool(true)),
            "false" => Ok(Kind::Bool(false)),
            _ => Err(wrong("true or false")),
        },
        _ => Ok(Kind::String(text.to_string())),
    }
}

fn topics(top: &Section<'_>, block: &Block) -> Result<TopicSelection, ConfigError> {
    let s = top.nested(
        block,
        "the topics block".into(),
        &["include", "exclude", "names", "replication_factor"],
        &["config", "rename"],
    )?;
    let mut topics = TopicSelection::default();
    let names = s.string_list("names")?;
    match s.patterns("include")? {
        Some(include) => topics.include = include,
        // Naming topics without patterns selects just those.
        None if names.is_some() => topics.include = PatternSet::default(),
        None => {}
    }
    topics.exclude = s.patterns("exclude")?.unwrap_or_default();
    for (name, span) in names.iter().flatten() {
        if let Err(why) = topic_name(name) {
            return Err(s.error(
                span.clone(),
                "not a topic name",
                format!(
                    "{} in `names` of the topics block is not a topic name: {why}",
                    s.scope.file.quote(name)
                ),
                Some("for patterns use `include`; names are matched exactly".into()),
            ));
        }
    }
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
    if let Some(b) = s.block("rename")? {
        topics.rename = rename(&s, b, "the topics.rename block", topic_name)?;
    }
    Ok(topics)
}

/// A `rename` block: a prefix and names mapped one by one, each target name checked by
/// `valid` and kept clear of what the target keeps for itself.
fn rename(
    top: &Section<'_>,
    block: &Block,
    what: &str,
    valid: fn(&str) -> Result<(), &'static str>,
) -> Result<Rename, ConfigError> {
    let s = top.nested(block, what.into(), &["prefix", "names"], &[])?;
    let reserved = |name: &str| -> Result<(), &'static str> {
        if name.starts_with("__") || name.starts_with("kafka-migrate.") {
            Err("names starting with `__` or `kafka-migrate.` are the cluster's and kafka-migrate's own")
        } else {
            Ok(())
        }
    };
    let mut rename = Rename::default();
    if let Some((prefix, span)) = s.string("prefix")? {
        // A prefix is the start of a name: it must be able to start one.
        if let Err(why) = reserved(&prefix).and_then(|_| valid(&format!("{prefix}x"))) {
            return Err(s.error(
                span,
                "not a name prefix",
                format!(
                    "prefix {} in {what} cannot start a name: {why}",
                    s.scope.file.quote(&prefix)
                ),
                Some(
                    "the prefix is put before every name on the target, such as prefix = \"east.\""
                        .into(),
                ),
            ));
        }
        rename.prefix = prefix;
    }
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for (source, span, target) in s.string_map("names")?.unwrap_or_default() {
        if let Err(why) = valid(&target).and_then(|_| reserved(&target)) {
            return Err(s.error(
                span,
                "not a target name",
                format!(
                    "{} in {what} maps {} onto {}, which cannot be a name: {why}",
                    "`names`",
                    s.scope.file.quote(&source),
                    s.scope.file.quote(&target)
                ),
                Some("write names = { \"source-name\" = \"target-name\" }".into()),
            ));
        }
        if let Some(other) = taken.insert(target.clone(), source.clone()) {
            return Err(s.error(
                span,
                "two names mapped onto one",
                format!(
                    "`names` in {what} maps both {} and {} onto {}",
                    s.scope.file.quote(&other),
                    s.scope.file.quote(&source),
                    s.scope.file.quote(&target)
                ),
                Some("each name on the target can hold only one of the source's".into()),
            ));
        }
        rename.names.insert(source, target);
    }
    Ok(rename)
}

/// Kafka's rule for group ids: any text but the empty one.
fn group_id(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("a group id cannot be empty")
    } else {
        Ok(())
    }
}

/// Kafka's rule for topic names.
fn topic_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name == "." || name == ".." {
        Err("it must hold a letter, digit, '_' or '-'")
    } else if name.len() > 249 {
        Err("it is longer than 249 characters")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        Err("it may only hold letters, digits, '.', '_' and '-'")
    } else {
        Ok(())
    }
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

fn quotas(top: &Section<'_>, block: &Block) -> Result<QuotaSync, ConfigError> {
    let s = top.nested(block, "the quotas block".into(), &["sync"], &[])?;
    Ok(QuotaSync {
        sync: s.bool("sync")?.unwrap_or(false),
    })
}

fn groups(top: &Section<'_>, block: &Block) -> Result<GroupSelection, ConfigError> {
    let s = top.nested(
        block,
        "the consumer_groups block".into(),
        &["include", "exclude", "sync", "sync_interval"],
        &["rename"],
    )?;
    let defaults = GroupSelection::default();
    let rename = match s.block("rename")? {
        Some(b) => rename(&s, b, "the consumer_groups.rename block", group_id)?,
        None => Rename::default(),
    };
    Ok(GroupSelection {
        rename,
        include: s.patterns("include")?.unwrap_or(defaults.include),
        exclude: s.patterns("exclude")?.unwrap_or_default(),
        sync: s.bool("sync")?.unwrap_or(true),
        sync_interval: s
            .duration_in("sync_interval", &tuning::interval())?
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
            "refresh_interval",
            "max_retries",
            "transaction_timeout",
        ],
        &[],
    )?;
    let d = Replication::default();
    let transaction_timeout = s
        .duration_in("transaction_timeout", &tuning::transaction_timeout())?
        .unwrap_or(d.transaction_timeout);
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
        max_bytes_per_second: s.size_in("max_bytes_per_second", &tuning::max_bytes_per_second())?,
        commit_interval: s
            .duration_in(
                "commit_interval",
                &tuning::commit_interval(transaction_timeout),
            )?
            .unwrap_or(d.commit_interval),
        transaction_timeout,
        transaction_bytes: s
            .size_in("transaction_bytes", &tuning::transaction_bytes())?
            .unwrap_or(d.transaction_bytes),
        batch_size: s
            .size_in("batch_size", &tuning::batch_size())?
            .unwrap_or(d.batch_size),
        linger: s
            .duration_in("linger", &tuning::linger())?
            .unwrap_or(d.linger),
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
        fetch_max_bytes: s
            .size_in("fetch_max_bytes", &tuning::fetch_max_bytes())?
            .unwrap_or(d.fetch_max_bytes),
        refresh_interval: s
            .duration_in("refresh_interval", &tuning::interval())?
            .unwrap_or(d.refresh_interval),
        max_retries: s
            .integer("max_retries", 0..=1_000)?
            .map_or(d.max_retries, |n| n as u32),
    })
}

fn failback(top: &Section<'_>, block: &Block) -> Result<Failback, ConfigError> {
    let s = top.nested(block, "the failback block".into(), &["enabled"], &[])?;
    Ok(Failback {
        enabled: s.bool("enabled")?.unwrap_or(false),
    })
}

fn schema_registry(top: &Section<'_>, block: &Block) -> Result<SchemaRegistry, ConfigError> {
    let s = top.nested(block, "the schema_registry block".into(), &["topic"], &[])?;
    let Some((topic, span)) = s.string("topic")? else {
        return Ok(SchemaRegistry::default());
    };
    if let Err(why) = topic_name(&topic) {
        return Err(s.error(
            span,
            "not a topic name",
            format!(
                "{} in the schema_registry block is not a topic name: {why}",
                s.scope.file.quote(&topic)
            ),
            Some("name the registry's storage topic, such as \"_schemas\"".into()),
        ));
    }
    Ok(SchemaRegistry { topic })
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
        quiet_period: s
            .duration_in("quiet_period", &tuning::interval())?
            .unwrap_or(d.quiet_period),
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
