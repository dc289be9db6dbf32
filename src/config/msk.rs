//! The target's `msk { … }` block: which kind of Amazon MSK cluster it is (Standard or Express
//! brokers, or Serverless), its broker size and count. `plan` applies the rules of that kind
//! (see `plan::msk`); this module only reads and checks the block.

use hcl::edit::structure::Block;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::{did_you_mean, ConfigError};
use super::section::Section;

/// The kind of Amazon MSK cluster the target is, so that `plan` applies its rules (topic
/// configs it takes, replication factor, partition budgets, record size limit, ACLs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Msk {
    /// "standard" (provisioned, Standard brokers), "express" (provisioned, Express brokers) or
    /// "serverless".
    #[serde(rename = "type")]
    pub kind: MskType,
    /// Broker size, such as "kafka.m7g.large" (Standard) or "express.m7g.large" (Express);
    /// sets the partition budget per broker. Not for Serverless.
    pub broker_type: Option<String>,
    /// Number of brokers; the brokers that answer metadata when absent. Not for Serverless.
    pub brokers: Option<u32>,
}

/// A kind of MSK cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MskType {
    Standard,
    Express,
    Serverless,
}

impl MskType {
    pub const ALL: [(&'static str, MskType); 3] = [
        ("standard", MskType::Standard),
        ("express", MskType::Express),
        ("serverless", MskType::Serverless),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MskType::Standard => "standard",
            MskType::Express => "express",
            MskType::Serverless => "serverless",
        }
    }

    /// How messages name the kind, such as "MSK Express".
    pub fn title(self) -> &'static str {
        match self {
            MskType::Standard => "MSK Standard",
            MskType::Express => "MSK Express",
            MskType::Serverless => "MSK Serverless",
        }
    }
}

impl std::fmt::Display for MskType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The partition budget of one MSK broker size: partitions per broker, follower replicas
/// included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerSize {
    pub kind: MskType,
    pub name: &'static str,
    /// AWS's recommended most partitions per broker; above it a warning.
    pub recommended: u64,
    /// Above this MSK blocks configuration updates (Standard) or refuses partitions
    /// (Express): a blocker.
    pub maximum: u64,
}

const fn size(kind: MskType, name: &'static str, recommended: u64, maximum: u64) -> BrokerSize {
    BrokerSize {
        kind,
        name,
        recommended,
        maximum,
    }
}

/// Partitions per broker by broker size. Standard: "Right-size your cluster: Number of
/// partitions per Standard broker" (docs.aws.amazon.com/msk/latest/developerguide/
/// bestpractices.html); Express: "Amazon MSK Express broker quota"
/// (docs.aws.amazon.com/msk/latest/developerguide/limits.html#msk-express-quota).
pub const BROKER_SIZES: &[BrokerSize] = &[
    size(MskType::Standard, "kafka.t3.small", 300, 300),
    size(MskType::Standard, "kafka.m5.large", 1_000, 1_500),
    size(MskType::Standard, "kafka.m5.xlarge", 1_000, 1_500),
    size(MskType::Standard, "kafka.m5.2xlarge", 2_000, 3_000),
    size(MskType::Standard, "kafka.m5.4xlarge", 4_000, 6_000),
    size(MskType::Standard, "kafka.m5.8xlarge", 4_000, 6_000),
    size(MskType::Standard, "kafka.m5.12xlarge", 4_000, 6_000),
    size(MskType::Standard, "kafka.m5.16xlarge", 4_000, 6_000),
    size(MskType::Standard, "kafka.m5.24xlarge", 4_000, 6_000),
    size(MskType::Standard, "kafka.m7g.large", 1_000, 1_500),
    size(MskType::Standard, "kafka.m7g.xlarge", 1_000, 1_500),
    size(MskType::Standard, "kafka.m7g.2xlarge", 2_000, 3_000),
    size(MskType::Standard, "kafka.m7g.4xlarge", 4_000, 6_000),
    size(MskType::Standard, "kafka.m7g.8xlarge", 4_000, 6_000),
    size(MskType::Standard, "kafka.m7g.12xlarge", 4_000, 6_000),
    size(MskType::Standard, "kafka.m7g.16xlarge", 4_000, 6_000),
    size(MskType::Express, "express.m7g.large", 1_000, 1_500),
    size(MskType::Express, "express.m7g.xlarge", 1_000, 2_000),
    size(MskType::Express, "express.m7g.2xlarge", 2_000, 4_000),
    size(MskType::Express, "express.m7g.4xlarge", 4_000, 8_000),
    size(MskType::Express, "express.m7g.8xlarge", 4_000, 16_000),
    size(MskType::Express, "express.m7g.12xlarge", 4_000, 16_000),
    size(MskType::Express, "express.m7g.16xlarge", 4_000, 16_000),
];

impl Msk {
    /// The partition budget of the declared broker size, if one is declared.
    pub fn broker_size(&self) -> Option<&'static BrokerSize> {
        let name = self.broker_type.as_deref()?;
        BROKER_SIZES
            .iter()
            .find(|b| b.kind == self.kind && b.name == name)
    }
}

/// Reads the `msk` block of `cluster "LABEL"` (`what` names it in messages).
pub fn msk(
    parent: &Section<'_>,
    block: &Block,
    label: &str,
    what: &str,
) -> Result<Msk, ConfigError> {
    let s = parent.nested(
        block,
        format!("the msk block of {what}"),
        &["type", "broker_type", "brokers"],
        &[],
    )?;
    let header = s.header.clone();
    if label != "target" {
        return Err(s.error(
            header,
            "on the source",
            format!("{what} has an msk block, which describes the target only"),
            Some("move the msk block into cluster \"target\"".into()),
        ));
    }
    let kind = s
        .choice("type", &MskType::ALL)?
        .ok_or_else(|| s.missing("type", "\"standard\" (or \"express\", \"serverless\")"))?;
    let broker_type = s.string("broker_type")?;
    let brokers = s.integer("brokers", 1..=1_000)?;
    if kind == MskType::Serverless {
        for name in ["broker_type", "brokers"] {
            if let Some(span) = s.key_span(name) {
                return Err(s.error(
                    span,
                    "not for Serverless",
                    format!("`{name}` in {what}: MSK Serverless has no brokers to size or count"),
                    Some(format!(
                        "remove {name}, or set type = \"standard\" or \"express\""
                    )),
                ));
            }
        }
    }
    if let Some((name, span)) = &broker_type {
        let known: Vec<&str> = BROKER_SIZES
            .iter()
            .filter(|b| b.kind == kind)
            .map(|b| b.name)
            .collect();
        if !known.contains(&name.as_str()) {
            return Err(s.error(
                span.clone(),
                "unknown broker type",
                format!(
                    "`broker_type` in {what}: {} is not a {} broker type",
                    s.scope.file.quote(name),
                    kind.title()
                ),
                did_you_mean(name, &known)
                    .or_else(|| Some(format!("use one of: {}", known.join(", ")))),
            ));
        }
    }
    Ok(Msk {
        kind,
        broker_type: broker_type.map(|(n, _)| n),
        brokers: brokers.map(|n| n as u32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(target: &str, source: &str) -> Result<crate::config::Migration, ConfigError> {
        let text = format!(
            "name = \"m\"\ncluster \"source\" {{\n  bootstrap_servers = [\"a:1\"]\n{source}}}\ncluster \"target\" {{\n  bootstrap_servers = [\"b:1\"]\n{target}}}\n"
        );
        crate::config::parse_with_env("m.hcl", &text, std::path::Path::new("."), &[], &|_| None)
    }

    #[test]
    fn the_target_says_which_kind_of_msk_cluster_it_is() {
        let m = parse(
            "  msk {\n    type = \"express\"\n    broker_type = \"express.m7g.large\"\n    brokers = 3\n  }\n",
            "",
        )
        .unwrap();
        let msk = m.target().msk.as_ref().unwrap();
        assert_eq!(msk.kind, MskType::Express);
        assert_eq!(msk.brokers, Some(3));
        assert_eq!(msk.broker_size().map(|b| b.maximum), Some(1_500));
        assert!(m.source().msk.is_none());
    }

    #[test]
    fn misplaced_or_misspelt_msk_settings_are_located() {
        let cases = [
            (
                "",
                "  msk { type = \"standard\" }\n",
                "m.hcl:4:3",
                "describes the target only",
            ),
            (
                "  msk { type = \"serverles\" }\n",
                "",
                "m.hcl:7:16",
                "cannot be \"serverles\"",
            ),
            (
                "  msk {\n    type = \"serverless\"\n    brokers = 3\n  }\n",
                "",
                "m.hcl:9:5",
                "MSK Serverless has no brokers",
            ),
            (
                "  msk {\n    type = \"standard\"\n    broker_type = \"kafka.m5.larg\"\n  }\n",
                "",
                "m.hcl:9:19",
                "is not a MSK Standard broker type",
            ),
            (
                "  msk { brokers = 3 }\n",
                "",
                "m.hcl:7:3",
                "missing required attribute `type`",
            ),
        ];
        for (target, source, at, says) in cases {
            let e = parse(target, source).unwrap_err();
            assert!(
                e.message.starts_with(at) && e.message.contains(says),
                "{target}{source}: {}",
                e.message
            );
        }
        let e = parse(
            "  msk {\n    type = \"standard\"\n    broker_type = \"kafka.m5.larg\"\n  }\n",
            "",
        )
        .unwrap_err();
        assert!(e.help.unwrap().contains("kafka.m5.large"));
    }
}
