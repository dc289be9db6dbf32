//! MSK cluster ARNs: parsed and checked where the migration file gives one, and the ARNs of
//! the cluster's resources built from them.

/// An MSK cluster, from its ARN: `arn:PARTITION:kafka:REGION:ACCOUNT:cluster/NAME/UUID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MskCluster {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
    pub uuid: String,
}

impl MskCluster {
    /// Parses a cluster ARN, saying what is wrong with one that is not.
    pub fn parse(arn: &str) -> Result<MskCluster, String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err("expected arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID".into());
        };
        if prefix != "arn" || partition.is_empty() {
            return Err("it does not start with arn:aws".into());
        }
        if service != "kafka" {
            return Err(format!("its service is \"{service}\", not \"kafka\""));
        }
        if region.is_empty() {
            return Err("it has no region".into());
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err("its account is not 12 digits".into());
        }
        let mut path = resource.split('/');
        let (Some("cluster"), Some(name), Some(uuid), None) =
            (path.next(), path.next(), path.next(), path.next())
        else {
            return Err("its resource is not cluster/NAME/UUID".into());
        };
        if name.is_empty() || uuid.is_empty() {
            return Err("its resource is not cluster/NAME/UUID".into());
        }
        Ok(MskCluster {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
            name: name.into(),
            uuid: uuid.into(),
        })
    }

    /// The ARN of one of the cluster's resources of `kind` (`topic`, `group`, …).
    pub fn arn(&self, kind: &str, tail: Option<&str>) -> String {
        let base = format!(
            "arn:{}:kafka:{}:{}:{kind}/{}/{}",
            self.partition, self.region, self.account, self.name, self.uuid
        );
        match tail {
            Some(tail) => format!("{base}/{tail}"),
            None => base,
        }
    }

    /// The cluster's own ARN.
    pub fn cluster_arn(&self) -> String {
        self.arn("cluster", None)
    }
}
