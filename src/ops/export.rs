//! `export`: the migration as Kafka Connect worker and MirrorMaker 2 connector files; the
//! source's ACLs as IAM policies for an MSK target with IAM access control; the source's SCRAM
//! users as Terraform for MSK SCRAM secrets; the offset map, for offsets kept outside Kafka.

use std::path::{Path, PathBuf};

use miette::miette;

use crate::cluster::{ClusterClient, Role, Scope};
use crate::config::{Migration, MskCluster};
use crate::plan::iam_policy;
use crate::state::offset_map::MapFile;
use crate::state::Store;

/// Writes the worker file and the connector configs into `dir`: the paths written.
pub fn connect(migration: &Migration, dir: &Path) -> miette::Result<Vec<PathBuf>> {
    crate::connect::write_files(migration, dir).map_err(|e| miette!("{e}"))
}

/// Reads the source's ACLs: one IAM policy per principal, as JSON.
pub async fn iam_policy(migration: &Migration) -> miette::Result<String> {
    let cluster = target_cluster(migration)?;
    let source = ClusterClient::of(migration, Role::Source).await?;
    let inventory = source
        .inventory(&Scope {
            topic: &|t: &str| migration.topics.selects(t),
            group: &|g: &str| migration.consumer_groups.selects(g),
        })
        .await?;
    let bindings = crate::plan::migrated_acls(migration, &inventory).map_err(|reason| {
        miette!(
            help = "the source's credentials need permission to describe ACLs (and the source an authorizer)",
            "source cluster: listing ACLs failed: {reason}"
        )
    })?;
    let policies = iam_policy::translate(&cluster, &bindings);
    Ok(iam_policy::export_json(&cluster, &policies))
}

/// The source's SCRAM users as Terraform for MSK SCRAM secrets, with notes on what MSK cannot
/// take as it is.
pub struct ScramSecrets {
    pub terraform: String,
    pub notes: Vec<String>,
}

/// Lists the source's SCRAM users.
pub async fn scram_secrets(migration: &Migration) -> miette::Result<ScramSecrets> {
    let source = ClusterClient::of(migration, Role::Source).await?;
    let users = source
        .ext()
        .describe_user_scram_credentials()
        .await
        .map_err(|e| source.ext_error("listing SCRAM users", e))?;
    Ok(ScramSecrets {
        notes: crate::plan::scram_secrets::notes(&users),
        terraform: crate::plan::scram_secrets::terraform(&users),
    })
}

/// The offset map `export offset-map` writes, and whether it was taken now.
pub struct ExportedMap {
    pub file: MapFile,
    /// Taken by this export (and recorded), as opposed to the one recorded earlier.
    pub taken_now: bool,
}

/// The migration's offset map: the one recorded (at cutover, or by an earlier export) when
/// it ends where replication stands; otherwise taken now — which reads both logs whole and
/// needs the source — and recorded.
pub async fn offset_map(migration: &Migration) -> miette::Result<ExportedMap> {
    let store = Store::of(migration);
    let progress = crate::cutover::offset_map::read(&store).await?;
    let exported = |map, taken_now| ExportedMap {
        file: MapFile {
            migration: migration.name.clone(),
            map,
        },
        taken_now,
    };
    if let Some(map) = progress
        .offset_map()
        .filter(|m| m.current(&progress.heads()))
    {
        return Ok(exported(map, false));
    }
    if !progress.has_positions() {
        return Err(miette!(
            help = "run `kafka-migrate apply` first",
            "migration \"{}\" has not replicated anything: there is no offset map",
            migration.name
        ));
    }
    let target = ClusterClient::of(migration, Role::Target).await?;
    ClusterClient::of(migration, Role::Source).await.map_err(|e| {
        miette!(
            help = "a map is recorded at cutover; without one, export it while the source is reachable",
            "no offset map up to where replication stands is recorded, and taking one reads the source: {e}"
        )
    })?;
    let partitions: Vec<(String, i32)> = progress.heads().into_keys().collect();
    let map = crate::cutover::offset_map::take(migration, &target, &partitions).await?;
    Ok(exported(map, true))
}

/// The target MSK cluster, from its `aws_iam` block's `cluster_arn`.
fn target_cluster(migration: &Migration) -> miette::Result<MskCluster> {
    let Some(iam) = &migration.target().security.aws_iam else {
        return Err(miette!(
            help = "export iam-policy is for a target with MSK IAM access control: add security { protocol = \"SASL_SSL\" aws_iam { region = …, cluster_arn = … } } to the target",
            "the target cluster does not use IAM authentication"
        ));
    };
    let Some(arn) = &iam.cluster_arn else {
        return Err(miette!(
            help = "add cluster_arn = \"arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID\" to the target's aws_iam block",
            "the target's aws_iam block has no cluster_arn: IAM policies name the cluster by its ARN"
        ));
    };
    MskCluster::parse(arn).map_err(|reason| miette!("target cluster_arn: {reason}"))
}
