//! `export`: the migration as Kafka Connect worker and MirrorMaker 2 connector files; the
//! source's ACLs as IAM policies for an MSK target with IAM access control; the source's SCRAM
//! users as Terraform for MSK SCRAM secrets.

use std::path::{Path, PathBuf};

use miette::miette;

use crate::cluster::{ClusterClient, Role, Scope};
use crate::config::{Migration, MskCluster};
use crate::plan::iam_policy;

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
