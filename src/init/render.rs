//! The text of the migration file `init` writes: cluster blocks with security as given
//! (secrets as `env("…")`), the topic and group selection with what the source holds as
//! comments, and every block's defaults as commented attributes, taken from the migration
//! file's JSON Schema so that they are the ones `validate` applies.

use std::fmt::Write as _;

use serde_json::Value;

use super::discover::Discovered;
use super::patterns::{group_patterns, topic_plan, Pattern};
use super::{Request, Side};
use crate::cluster::native::ScramUser;
use crate::cluster::residents::Resident;
use crate::quote::comment;

/// Brokers written for a side whose brokers were not given.
const SOURCE_PLACEHOLDER: &str = "source-kafka-1.example.internal:9092";
const TARGET_PLACEHOLDER: &str = "b-1.example.kafka.us-east-1.amazonaws.com:9098";
/// The template's exclusions: the usual internal topics an `.*` include would take.
const TEMPLATE_EXCLUDE: [&str; 4] = ["^_", "-changelog$", "-repartition$", "\\.internal$"];

/// The file for `request`, from `found` when the source was read, else a template.
pub fn render(request: &Request, found: Option<&Discovered>) -> String {
    let schema = Schema::new();
    let mut out = String::new();
    header(&mut out, request, found);
    let _ = writeln!(out, "name = {}\n", string(&request.name));
    cluster(
        &mut out,
        &schema,
        "source",
        &request.source,
        SOURCE_PLACEHOLDER,
    );
    cluster(
        &mut out,
        &schema,
        "target",
        &request.target,
        TARGET_PLACEHOLDER,
    );
    topics(&mut out, &schema, found);
    acls(&mut out, &schema, found);
    groups(&mut out, &schema, found);
    for (block, def) in [("replication", "Replication"), ("cutover", "Cutover")] {
        let _ = writeln!(out, "{block} {{");
        schema.defaults(&mut out, def, &[], "  ");
        out.push_str("}\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn header(out: &mut String, request: &Request, found: Option<&Discovered>) {
    match found {
        Some(found) => {
            let plan = topic_plan(&plain_topics(found));
            let _ = writeln!(
                out,
                "# A migration from the source cluster at {}, written by `kafka-migrate init`.",
                comment(&request.source.bootstrap.join(","))
            );
            let acls = match &found.acls {
                Ok(n) => format!("{n} ACL binding(s)"),
                Err(_) => "ACLs not listed".to_string(),
            };
            let _ = writeln!(
                out,
                "# The source: {} broker(s), {} topic(s) ({} to migrate, {} internal), {} consumer \
                 group(s), {acls}.",
                found.brokers,
                found.topics.len(),
                plan.selected,
                plan.internal.len(),
                found.groups.len(),
            );
            match &found.release {
                Ok(release) => {
                    let _ = writeln!(out, "# Its brokers report the API versions of {release}.");
                }
                Err(reason) => {
                    let _ = writeln!(
                        out,
                        "# Its brokers' release could not be told: {}.",
                        comment(reason)
                    );
                }
            }
            scram_users(out, &found.scram_users);
        }
        None => {
            out.push_str(
                "# A migration file template, written by `kafka-migrate init`: replace the \
                 example brokers\n# and choose topics and groups (`init --source BROKERS` \
                 writes them from the source).\n",
            );
        }
    }
    out.push_str(
        "# Next: `kafka-migrate validate`, then `kafka-migrate plan`. Commented attributes \
         show the defaults;\n# README.md's HCL reference explains every attribute.\n",
    );
}

/// SCRAM users listed in the header at most; `export scram-secrets` lists them all.
const SCRAM_USERS_SHOWN: usize = 50;

/// The source's SCRAM users and their mechanisms, with where their MSK secrets come from.
fn scram_users(out: &mut String, users: &Result<Vec<ScramUser>, String>) {
    let users = match users {
        Ok(users) if users.is_empty() => {
            out.push_str(
                "# The source has no SCRAM users.
",
            );
            return;
        }
        Ok(users) => users,
        Err(reason) => {
            let _ = writeln!(
                out,
                "# The source's SCRAM users could not be listed: {}.",
                comment(reason)
            );
            return;
        }
    };
    let _ = writeln!(
        out,
        "# SCRAM users on the source ({}), whose passwords are not readable and not migrated:",
        users.len()
    );
    for user in users.iter().take(SCRAM_USERS_SHOWN) {
        let mechanisms: Vec<&str> = user
            .mechanisms
            .iter()
            .map(|m| m.mechanism.as_str())
            .collect();
        let _ = writeln!(
            out,
            "#   {} ({})",
            comment(&user.name),
            mechanisms.join(", ")
        );
    }
    if users.len() > SCRAM_USERS_SHOWN {
        let _ = writeln!(out, "#   … and {} more.", users.len() - SCRAM_USERS_SHOWN);
    }
    out.push_str(
        "# For an MSK target, `kafka-migrate export scram-secrets` writes Terraform for their MSK \
         SCRAM\n# secrets (passwords are yours to give).\n",
    );
}

fn cluster(out: &mut String, schema: &Schema, label: &str, side: &Side, placeholder: &str) {
    let _ = writeln!(out, "cluster \"{label}\" {{");
    let brokers = if side.bootstrap.is_empty() {
        let _ = writeln!(out, "  # Replace with the {label} cluster's brokers.");
        vec![placeholder.to_string()]
    } else {
        side.bootstrap.clone()
    };
    let _ = writeln!(out, "  bootstrap_servers = {}", list(&brokers));
    let protocol = side.protocol();
    let _ = writeln!(out, "  security {{\n    protocol = {}", string(&protocol));
    if let Some(mechanism) = &side.sasl_mechanism {
        let username = side.sasl_username.as_deref().unwrap_or_default();
        let _ = writeln!(
            out,
            "    sasl {{\n      mechanism = {}\n      username  = {}\n      password  = env({})\n    }}",
            string(&mechanism.to_ascii_uppercase()),
            string(username),
            string(&side.sasl_password_env)
        );
    }
    let files = [
        ("ca_file", &side.ca_file),
        ("cert_file", &side.cert_file),
        ("key_file", &side.key_file),
    ];
    if files.iter().any(|(_, f)| f.is_some()) {
        out.push_str("    tls {\n");
        for (name, file) in files {
            if let Some(file) = file {
                let _ = writeln!(
                    out,
                    "      {name:<12} = {}",
                    string(&file.display().to_string())
                );
            }
        }
        if let Some(var) = &side.key_password_env {
            let _ = writeln!(out, "      key_password = env({})", string(var));
        }
        schema.defaults(out, "Tls", &["ca_file", "cert_file", "key_file"], "      ");
        out.push_str("    }\n");
    }
    if let Some(region) = &side.aws_iam_region {
        let _ = writeln!(
            out,
            "    aws_iam {{\n      region = {}\n    }}",
            string(region)
        );
    }
    out.push_str("  }\n");
    schema.defaults(out, "ClusterConfig", &["security"], "  ");
    out.push_str("}\n\n");
}

fn topics(out: &mut String, schema: &Schema, found: Option<&Discovered>) {
    out.push_str("topics {\n");
    let Some(found) = found else {
        out.push_str(
            "  # Every topic but internal ones (`__*` and this tool's are never migrated).\n",
        );
        let _ = writeln!(out, "  include = {}", list(&[".*"]));
        let _ = writeln!(out, "  exclude = {}", list(&TEMPLATE_EXCLUDE));
        schema.defaults(out, "TopicSelection", &["include", "exclude"], "  ");
        out.push_str("}\n\n");
        return;
    };
    let plan = topic_plan(&plain_topics(found));
    let factors: Vec<String> = found
        .replication_factors
        .iter()
        .map(i32::to_string)
        .collect();
    let _ = writeln!(
        out,
        "  # {} topic(s) with {} partition(s) to migrate; replication factor {} on the source.",
        plan.selected,
        found.partitions,
        if factors.is_empty() {
            "—".to_string()
        } else {
            factors.join(", ")
        }
    );
    patterns(out, "include", &plan.include, "topic(s)");
    if !plan.internal.is_empty() {
        out.push_str("  # Left out, internal:\n");
        for (topic, why) in &plan.internal {
            let _ = writeln!(out, "  #   {} ({why})", comment(topic));
        }
    }
    if !plan.exclude.is_empty() {
        let _ = writeln!(out, "  exclude = {}", list(&plan.exclude));
    }
    applications(out, &found.residents);
    if !found.denied.is_empty() {
        let _ = writeln!(
            out,
            "  # Listed but not readable with these credentials: {}.",
            comment(&found.denied.join(", "))
        );
    }
    if !found.configs.is_empty() {
        let configs: Vec<String> = found
            .configs
            .iter()
            .map(|(name, n)| format!("{name} ({n})"))
            .collect();
        let _ = writeln!(
            out,
            "  # Configs set on these topics (and on how many), copied to the target: {}.",
            comment(&configs.join(", "))
        );
    }
    schema.defaults(out, "TopicSelection", &["include", "exclude"], "  ");
    out.push_str("}\n\n");
}

/// The source's topics but those of the applications found on it, which [`applications`]
/// lists.
fn plain_topics(found: &Discovered) -> Vec<&str> {
    let theirs: Vec<&str> = found
        .residents
        .iter()
        .flat_map(|r| r.topics.iter().map(|(t, _)| t.as_str()))
        .collect();
    strs(&found.topics)
        .into_iter()
        .filter(|t| !theirs.contains(t))
        .collect()
}

/// The applications found on the source, as a commented `names` list to switch on: a unit
/// moves whole once one of its topics is selected (a Streams application also once its group
/// has offsets on a selected topic).
fn applications(out: &mut String, residents: &[Resident]) {
    if residents.is_empty() {
        return;
    }
    out.push_str(
        "  # Applications on the source whose state lives in topics. `plan` carries each whole \
         once one\n  # of its topics is selected (a Streams application also once its group \
         reads a selected\n  # topic); to carry one, uncomment `names` with its lines:\n",
    );
    out.push_str("  # names = [\n");
    for resident in residents {
        let group = resident
            .group
            .as_ref()
            .map(|g| format!(", group {}", comment(g)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  #   # {} {}{group}",
            resident.kind.describe(),
            comment(&resident.name)
        );
        for (topic, role) in &resident.topics {
            let _ = writeln!(out, "  #   {}, # {}", string(topic), role.describe());
        }
    }
    out.push_str("  # ]\n");
}

fn acls(out: &mut String, schema: &Schema, found: Option<&Discovered>) {
    out.push_str("acls {\n");
    match found.map(|f| &f.acls) {
        Some(Ok(n)) => {
            let _ = writeln!(
                out,
                "  # The source holds {n} ACL binding(s): those of the migrated topics and groups are copied."
            );
        }
        Some(Err(reason)) => {
            let _ = writeln!(
                out,
                "  # The source's ACLs could not be listed: {}.",
                comment(reason)
            );
        }
        None => {}
    }
    schema.defaults(out, "AclSync", &[], "  ");
    out.push_str("}\n\n");
}

fn groups(out: &mut String, schema: &Schema, found: Option<&Discovered>) {
    out.push_str("consumer_groups {\n");
    let set: &[&str] = match found {
        Some(found) if !found.groups.is_empty() || !found.groups_left_out.is_empty() => {
            let _ = writeln!(
                out,
                "  # {} consumer group(s) on the source; their committed offsets are translated and synced.",
                found.groups.len()
            );
            let left_out: Vec<&str> = found
                .groups_left_out
                .iter()
                .map(|(g, _)| g.as_str())
                .collect();
            let all: Vec<&str> = strs(&found.groups)
                .into_iter()
                .chain(left_out.iter().copied())
                .collect();
            let mut set: &[&str] = &["include", "exclude"];
            if found.groups.is_empty() {
                set = &["exclude"];
            } else {
                patterns(
                    out,
                    "include",
                    &group_patterns(&strs(&found.groups), &all),
                    "group(s)",
                );
            }
            if left_out.is_empty() {
                set = &["include"];
            } else {
                for (group, why) in &found.groups_left_out {
                    let _ = writeln!(out, "  # Left out: {group} {why}.");
                }
                patterns(out, "exclude", &group_patterns(&left_out, &all), "group(s)");
            }
            set
        }
        Some(_) => {
            out.push_str("  # The source has no consumer groups.\n");
            &[]
        }
        None => &[],
    };
    schema.defaults(out, "GroupSelection", set, "  ");
    out.push_str("}\n\n");
}

/// `name = [ … ]`, one pattern a line with how many names it covers.
fn patterns(out: &mut String, name: &str, patterns: &[Pattern], what: &str) {
    let quoted: Vec<String> = patterns.iter().map(|p| string(&p.regex) + ",").collect();
    let width = quoted.iter().map(String::len).max().unwrap_or(0);
    let _ = writeln!(out, "  {name} = [");
    for (text, pattern) in quoted.iter().zip(patterns) {
        let _ = writeln!(out, "    {text:<width$} # {} {what}", pattern.covers);
    }
    out.push_str("  ]\n");
}

fn strs(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

/// An HCL string literal.
fn string(text: &str) -> String {
    crate::quote::hcl_string(text)
}

fn list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// An HCL value for a JSON default.
fn value(v: &Value) -> String {
    match v {
        Value::String(s) => string(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{} = {}", string(k), value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The migration file's JSON Schema, for the defaults of each block.
struct Schema {
    defs: Value,
}

impl Schema {
    fn new() -> Schema {
        let schema = serde_json::to_value(schemars::schema_for!(crate::config::Migration))
            .unwrap_or(Value::Null);
        Schema {
            defs: schema.get("$defs").cloned().unwrap_or(Value::Null),
        }
    }

    /// The definition a property refers to, when it is a block (has properties of its own).
    fn block_of<'a>(&self, property: &'a Value) -> Option<&'a str> {
        let name = property
            .get("$ref")
            .and_then(Value::as_str)?
            .trim_start_matches("#/$defs/");
        let def = self.defs.get(name)?;
        def.get("properties").is_some().then_some(name)
    }

    /// Writes each attribute of definition `def` that has a default and is not in `set` as a
    /// commented line (`# name = default`) under the first sentence of its doc; nested blocks
    /// as commented blocks.
    fn defaults(&self, out: &mut String, def: &str, set: &[&str], indent: &str) {
        let Some(props) = self
            .defs
            .get(def)
            .and_then(|d| d.get("properties"))
            .and_then(Value::as_object)
        else {
            return;
        };
        for (name, prop) in props {
            if set.contains(&name.as_str()) {
                continue;
            }
            let Some(default) = prop.get("default") else {
                continue;
            };
            if let Some(doc) = prop.get("description").and_then(Value::as_str) {
                let _ = writeln!(out, "{indent}# {}", first_sentence(doc));
            }
            match self.block_of(prop) {
                Some(nested) => {
                    let _ = writeln!(out, "{indent}# {name} {{");
                    let mut inner = String::new();
                    self.defaults(&mut inner, nested, &[], "");
                    for line in inner.lines() {
                        let _ = writeln!(out, "{indent}#   {}", line.trim_start_matches("# "));
                    }
                    let _ = writeln!(out, "{indent}# }}");
                }
                None => {
                    let _ = writeln!(out, "{indent}# {name} = {}", value(default));
                }
            }
        }
    }
}

/// The first sentence of a doc, on one line.
fn first_sentence(doc: &str) -> String {
    let line = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.find(". ") {
        Some(at) => line[..=at].to_string(),
        None => line,
    }
}
