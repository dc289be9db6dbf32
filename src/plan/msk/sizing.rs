//! Which MSK brokers, and how many, a source's workload needs: a pure function of its
//! partitions and its throughput (bytes in and out per second), with the figures it sized by.
//!
//! AWS's published numbers:
//! - partitions per broker, leaders and followers: [`BROKER_SIZES`]' recommended figures
//!   ("Best practices for Standard brokers: Right-size your cluster"; "Amazon MSK Express
//!   broker quota");
//! - throughput per Express broker: [`EXPRESS_THROUGHPUT`], the recommended sustained ingress
//!   and egress of each size ("Best practices for Express brokers: Right-size your cluster:
//!   Number of brokers per cluster", docs.aws.amazon.com/msk/latest/developerguide/
//!   bestpractices-express.html);
//! - AWS publishes no sustained throughput per Standard broker size, only that an m7g.16xlarge
//!   Standard broker safely writes 153.8 MBps where the Express one writes 500 ("Amazon MSK
//!   broker types"). Standard m7g sizes are assumed to take that share
//!   ([`STANDARD_SHARE_OF_EXPRESS`]) of the same Express size's figures, and the report says so.
//!
//! Topics get replication factor 3 (Express's fixed one; the usual one on Standard), brokers
//! come in threes (one per availability zone), at least three, and a size needing more than
//! [`MAX_BROKERS`] is taken only when every size does. Of the sizes that fit, the one with the
//! least capacity in all (brokers × the size's multiple of a `large`) is recommended, the fewer
//! brokers on a tie.

use serde::Serialize;

use crate::config::{BrokerSize, MskType, BROKER_SIZES};

/// The replication factor the target is sized for.
pub const REPLICATION_FACTOR: u64 = 3;

/// Brokers per cluster a recommendation stays within when a size allows: MSK's default quota
/// of brokers per (ZooKeeper-based) cluster.
pub const MAX_BROKERS: u64 = 30;

/// Recommended sustained ingress and egress per Express broker, MB/s (10^6 bytes), by size.
pub const EXPRESS_THROUGHPUT: [(&str, f64, f64); 7] = [
    ("express.m7g.large", 15.6, 31.2),
    ("express.m7g.xlarge", 31.2, 62.5),
    ("express.m7g.2xlarge", 62.5, 125.0),
    ("express.m7g.4xlarge", 124.9, 249.8),
    ("express.m7g.8xlarge", 250.0, 500.0),
    ("express.m7g.12xlarge", 375.0, 750.0),
    ("express.m7g.16xlarge", 500.0, 1000.0),
];

/// The share of an Express broker's throughput a Standard broker of the same size is assumed
/// to sustain: 153.8 / 500 MBps, AWS's figures for m7g.16xlarge.
pub const STANDARD_SHARE_OF_EXPRESS: f64 = 153.8 / 500.0;

/// What a workload needs of a target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Partitions (leaders).
    pub partitions: u64,
    /// Bytes written per second; None when unknown.
    pub bytes_in_per_second: Option<f64>,
    /// Bytes read per second; None when unknown.
    pub bytes_out_per_second: Option<f64>,
}

/// The recommended brokers of each kind, and what they were sized by.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Sizing {
    pub replication_factor: u64,
    /// Partition replicas at that replication factor.
    pub partition_replicas: u64,
    /// Ingress sized for, MB/s (10^6 bytes); None when unknown (sized by partitions only).
    pub ingress_mb_per_second: Option<f64>,
    /// Egress sized for, MB/s.
    pub egress_mb_per_second: Option<f64>,
    /// Express brokers.
    pub express: Option<Recommendation>,
    /// Standard brokers (m7g sizes).
    pub standard: Option<Recommendation>,
    /// The rules and assumptions behind the figures, in words.
    pub assumptions: Vec<String>,
}

/// A broker size and count.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Recommendation {
    /// "express" or "standard".
    pub kind: String,
    pub broker_type: String,
    pub brokers: u64,
    /// The recommended partitions per broker (replicas included) of the size.
    pub partitions_per_broker: u64,
    /// Sustained ingress per broker the size was sized with, MB/s.
    pub ingress_mb_per_second_per_broker: f64,
    /// Sustained egress per broker, MB/s.
    pub egress_mb_per_second_per_broker: f64,
    /// Whether the figures per broker are AWS's (Express) or assumed (Standard).
    pub throughput_published: bool,
    /// What set the count: "partitions", "ingress", "egress" or "minimum" (three brokers).
    pub bound_by: String,
}

/// The Express throughput figures of `size`, or for a Standard m7g size, its assumed share of
/// the same Express size's; None for sizes without either.
fn throughput(size: &BrokerSize) -> Option<(f64, f64, bool)> {
    let express_name = match size.kind {
        MskType::Express => size.name.to_string(),
        MskType::Standard => size.name.strip_prefix("kafka.m7g.")?.to_string(),
        MskType::Serverless => return None,
    };
    let express_name = if size.kind == MskType::Standard {
        format!("express.m7g.{express_name}")
    } else {
        express_name
    };
    let (_, ingress, egress) = EXPRESS_THROUGHPUT
        .iter()
        .find(|(name, _, _)| *name == express_name)?;
    Some(match size.kind {
        MskType::Express => (*ingress, *egress, true),
        _ => (
            ingress * STANDARD_SHARE_OF_EXPRESS,
            egress * STANDARD_SHARE_OF_EXPRESS,
            false,
        ),
    })
}

/// The size's capacity as a multiple of a `large`: 1 for large, 2 for xlarge, 2N for Nxlarge.
fn units(name: &str) -> u64 {
    let suffix = name.rsplit('.').next().unwrap_or("");
    match suffix {
        "large" => 1,
        "xlarge" => 2,
        _ => suffix
            .strip_suffix("xlarge")
            .and_then(|n| n.parse::<u64>().ok())
            .map_or(1, |n| 2 * n),
    }
}

/// `n` rounded up to a multiple of three, at least three.
fn in_threes(n: u64) -> u64 {
    n.max(3).div_ceil(3) * 3
}

/// What one broker size needs for a demand.
struct Fit {
    size: &'static BrokerSize,
    brokers: u64,
    bound: &'static str,
    ingress: f64,
    egress: f64,
    published: bool,
}

/// The brokers of `size` `demand` needs, and what set the count; None for a size without
/// throughput figures.
fn fit(size: &'static BrokerSize, demand: &Demand, replicas: u64) -> Option<Fit> {
    let (ingress, egress, published) = throughput(size)?;
    let mb = |b: Option<f64>| b.unwrap_or(0.0) / 1e6;
    let needs = [
        ("minimum", 3),
        ("partitions", replicas.div_ceil(size.recommended.max(1))),
        (
            "ingress",
            (mb(demand.bytes_in_per_second) / ingress).ceil() as u64,
        ),
        (
            "egress",
            (mb(demand.bytes_out_per_second) / egress).ceil() as u64,
        ),
    ];
    let (bound, most) = needs.iter().fold(
        ("minimum", 0),
        |best, n| if n.1 > best.1 { *n } else { best },
    );
    Some(Fit {
        size,
        brokers: in_threes(most),
        bound,
        ingress,
        egress,
        published,
    })
}

/// The recommended size and count of `kind` for `demand`; None when no size of the kind has
/// throughput figures.
fn recommend(kind: MskType, demand: &Demand, replicas: u64) -> Option<Recommendation> {
    let fits: Vec<Fit> = BROKER_SIZES
        .iter()
        .filter(|s| s.kind == kind)
        .filter_map(|s| fit(s, demand, replicas))
        .collect();
    let within = fits
        .iter()
        .filter(|f| f.brokers <= MAX_BROKERS)
        .min_by_key(|f| (f.brokers * units(f.size.name), f.brokers));
    let best = within.or_else(|| fits.iter().min_by_key(|f| f.brokers))?;
    Some(Recommendation {
        kind: kind.as_str().to_string(),
        broker_type: best.size.name.to_string(),
        brokers: best.brokers,
        partitions_per_broker: best.size.recommended,
        ingress_mb_per_second_per_broker: best.ingress,
        egress_mb_per_second_per_broker: best.egress,
        throughput_published: best.published,
        bound_by: best.bound.to_string(),
    })
}

/// The Express and Standard brokers `demand` needs, with the figures and rules used.
pub fn size(demand: &Demand) -> Sizing {
    let replicas = demand.partitions * REPLICATION_FACTOR;
    let mut assumptions = vec![
        format!(
            "replication factor {REPLICATION_FACTOR}: {} partition(s) are {replicas} partition replicas, against AWS's recommended partitions per broker (leaders and followers)",
            demand.partitions
        ),
        "Express throughput per broker: AWS's recommended sustained ingress and egress per Express broker size (15.6 MB/s in and 31.2 MB/s out for express.m7g.large, up to 500 and 1,000 for express.m7g.16xlarge)".to_string(),
        format!(
            "Standard throughput per broker: assumed, as AWS publishes none per size: {:.1}% of the same Express size's (AWS: an m7g.16xlarge writes 153.8 MB/s as a Standard broker, 500 as an Express one); only m7g sizes are sized",
            STANDARD_SHARE_OF_EXPRESS * 100.0
        ),
        format!(
            "brokers in threes (one per availability zone), at least 3; of the sizes needing at most {MAX_BROKERS} brokers, the least capacity in all (brokers × the size's multiple of a large)"
        ),
    ];
    if demand.bytes_in_per_second.is_none() {
        assumptions.push(
            "throughput unknown (log sizes could not be read): sized by partitions only"
                .to_string(),
        );
    }
    Sizing {
        replication_factor: REPLICATION_FACTOR,
        partition_replicas: replicas,
        ingress_mb_per_second: demand.bytes_in_per_second.map(|b| b / 1e6),
        egress_mb_per_second: demand.bytes_out_per_second.map(|b| b / 1e6),
        express: recommend(MskType::Express, demand, replicas),
        standard: recommend(MskType::Standard, demand, replicas),
        assumptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand(partitions: u64, mb_in: f64, mb_out: f64) -> Demand {
        Demand {
            partitions,
            bytes_in_per_second: Some(mb_in * 1e6),
            bytes_out_per_second: Some(mb_out * 1e6),
        }
    }

    fn pick(r: &Option<Recommendation>) -> (&str, u64, &str) {
        let r = r.as_ref().unwrap();
        (r.broker_type.as_str(), r.brokers, r.bound_by.as_str())
    }

    #[test]
    fn a_small_workload_gets_three_of_the_smallest_size() {
        let s = size(&demand(12, 0.5, 1.0));
        assert_eq!(s.partition_replicas, 36);
        assert_eq!(pick(&s.express), ("express.m7g.large", 3, "minimum"));
        assert_eq!(pick(&s.standard), ("kafka.m7g.large", 3, "minimum"));
        assert!(s.express.as_ref().unwrap().throughput_published);
        assert!(!s.standard.as_ref().unwrap().throughput_published);
    }

    #[test]
    fn ingress_sets_the_count_by_the_published_figures() {
        // 45 MB/s in, 90 out: AWS's own example, three express.m7g.large.
        let s = size(&demand(10, 45.0, 90.0));
        assert_eq!(pick(&s.express), ("express.m7g.large", 3, "minimum"));
        // 100 MB/s in: 100 / 15.6 = 6.4 → 7 → 9 brokers.
        let s = size(&demand(10, 100.0, 100.0));
        assert_eq!(pick(&s.express), ("express.m7g.large", 9, "ingress"));
        // Standard at 30.76% of Express: 100 / 4.8 = 20.8 → 21 m7g.large (21 units) against
        // 100 / 9.6 = 10.4 → 11 → 12 xlarge (24 units): the large ones.
        assert_eq!(pick(&s.standard), ("kafka.m7g.large", 21, "ingress"));
        // 150 MB/s: 150 / 4.8 = 31.3 → 33 large, over the bound; 150 / 9.6 = 15.6 → 18
        // xlarge (36 units) against 150 / 19.2 = 7.8 → 9 2xlarge (36 units): fewer brokers.
        let s = size(&demand(10, 150.0, 150.0));
        assert_eq!(pick(&s.standard), ("kafka.m7g.2xlarge", 9, "ingress"));
        // Egress alone can set it.
        let s = size(&demand(10, 1.0, 200.0));
        assert_eq!(pick(&s.express), ("express.m7g.large", 9, "egress"));
    }

    #[test]
    fn partitions_set_the_count_at_the_recommended_partitions_per_broker() {
        // 3,000 partitions are 9,000 replicas: 9 express.m7g.large (1,000 each).
        let s = size(&demand(3_000, 1.0, 1.0));
        assert_eq!(pick(&s.express), ("express.m7g.large", 9, "partitions"));
        // 20,000 partitions: 60 large ones are over the 30-broker bound; 4,000 per broker
        // from 4xlarge: 15 of them (120 units) beat 30 2xlarge (120 units) on brokers.
        let s = size(&demand(20_000, 1.0, 1.0));
        assert_eq!(pick(&s.express), ("express.m7g.4xlarge", 15, "partitions"));
        assert_eq!(pick(&s.standard), ("kafka.m7g.4xlarge", 15, "partitions"));
    }

    #[test]
    fn beyond_every_size_within_the_bound_the_fewest_brokers_are_taken() {
        // 40 GB/s in: even 16xlarge needs 80 brokers.
        let s = size(&demand(10, 40_000.0, 40_000.0));
        assert_eq!(pick(&s.express), ("express.m7g.16xlarge", 81, "ingress"));
    }

    #[test]
    fn unknown_throughput_is_sized_by_partitions_and_said() {
        let s = size(&Demand {
            partitions: 1_200,
            bytes_in_per_second: None,
            bytes_out_per_second: None,
        });
        // 3,600 replicas: 4 → 6 express.m7g.large.
        assert_eq!(pick(&s.express), ("express.m7g.large", 6, "partitions"));
        assert!(s.assumptions.iter().any(|a| a.contains("partitions only")));
        assert_eq!(s.ingress_mb_per_second, None);
    }

    #[test]
    fn sizes_are_multiples_of_a_large() {
        assert_eq!(units("express.m7g.large"), 1);
        assert_eq!(units("kafka.m7g.xlarge"), 2);
        assert_eq!(units("kafka.m5.24xlarge"), 48);
        assert_eq!(in_threes(1), 3);
        assert_eq!(in_threes(7), 9);
        assert_eq!(in_threes(9), 9);
    }
}
