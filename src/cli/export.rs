//! `export iam-policy`: the source's ACLs for what the migration moves, as IAM policies for
//! an MSK target with IAM access control; `export scram-secrets`: the source's SCRAM users as
//! Terraform for MSK SCRAM secrets.

use miette::{miette, IntoDiagnostic};

use crate::cluster::{ClusterClient, Role, Scope};
use crate::config::Migration;
use crate::config::MskCluster;
use crate::plan::iam_policy;

use super::ExitStatus;

/// Reads the source's ACLs and prints one IAM policy per principal as JSON.
pub fn iam_policy(migration: &Migration) -> miette::Result<ExitStatus> {
    let cluster = target_cluster(migration)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    let inventory = runtime.block_on(async {
        let source = ClusterClient::of(migration, Role::Source).await?;
        source
            .inventory(&Scope {
                topic: &|t: &str| migration.topics.selects(t),
                group: &|g: &str| migration.consumer_groups.selects(g),
            })
            .await
    })?;
    let bindings = crate::plan::migrated_acls(migration, &inventory).map_err(|reason| {
        miette!(
            help = "the source's credentials need permission to describe ACLs (and the source an authorizer)",
            "source cluster: listing ACLs failed: {reason}"
        )
    })?;
    let policies = iam_policy::translate(&cluster, &bindings);
    println!("{}", iam_policy::export_json(&cluster, &policies));
    Ok(ExitStatus::Success)
}

/// Lists the source's SCRAM users and prints them as Terraform for MSK SCRAM secrets; what
/// MSK cannot take as it is goes to standard error.
pub fn scram_secrets(migration: &Migration) -> miette::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    let users = runtime.block_on(async {
        let source = ClusterClient::of(migration, Role::Source).await?;
        source
            .ext()
            .describe_user_scram_credentials()
            .await
            .map_err(|e| source.ext_error("listing SCRAM users", e))
    })?;
    for note in crate::plan::scram_secrets::notes(&users) {
        eprintln!("warning: {note}");
    }
    print!("{}", crate::plan::scram_secrets::terraform(&users));
    Ok(ExitStatus::Success)
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
