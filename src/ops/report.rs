//! `init --report`: a discovery report of the source before migrating — what
//! [`crate::init::report`] measures of it over a sampling window, its totals, and the MSK
//! brokers [`crate::plan::msk::sizing`] recommends for them. Reads the source only; writes no
//! file.

use std::time::Duration;

use serde::Serialize;

use crate::init::report::{SourceReport, Totals};
use crate::plan::msk::sizing::{self, Demand, Sizing};

/// The default sampling window of `init --report`.
pub const DEFAULT_SAMPLE: Duration = Duration::from_secs(30);

/// The report: the source, its totals and the recommended target.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct InitReport {
    pub source: SourceReport,
    pub totals: Totals,
    pub recommendation: Sizing,
}

/// Reads the source `request` names, measuring its throughput over `sample`, and sizes an MSK
/// target for it.
pub async fn report(
    request: &crate::init::Request,
    sample: Duration,
) -> miette::Result<InitReport> {
    let source = crate::init::report(request, sample).await?;
    let totals = source.totals();
    let known = source.topics.iter().all(|t| t.bytes_per_second.is_some());
    let recommendation = sizing::size(&Demand {
        partitions: totals.partitions,
        bytes_in_per_second: known.then_some(totals.bytes_in_per_second),
        bytes_out_per_second: known.then_some(totals.bytes_out_per_second),
    });
    Ok(InitReport {
        source,
        totals,
        recommendation,
    })
}
