//! `export scram-secrets`: the source's SCRAM users as a Terraform file for an MSK target —
//! per user an `aws_secretsmanager_secret` named `AmazonMSK_…` (the prefix MSK requires) with
//! its username and a password left as a variable, and one `aws_msk_scram_secret_association`
//! for the cluster. Pure text; never a credential (brokers return none).

use std::fmt::Write as _;

use crate::cluster::native::ScramUser;

/// MSK takes at most this many SCRAM secrets per cluster.
pub const MSK_MAX_SCRAM_USERS: usize = 1_000;

/// A Terraform name for `user`: letters, digits, `_` and `-`, starting with a letter or `_`.
fn resource_name(user: &str) -> String {
    let mut name: String = user
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
}

/// `text` as an HCL string literal.
fn quoted(text: &str) -> String {
    serde_json::to_string(text)
        .unwrap_or_default()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// The Terraform file: the variables (cluster ARN, a KMS key — MSK refuses secrets encrypted
/// with the default key — and one sensitive password per user), the secrets and the
/// association. Users are listed with the mechanisms they have on the source.
pub fn terraform(users: &[ScramUser]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# SCRAM users of the source cluster, as Amazon MSK SCRAM secrets (written by kafka-migrate).\n\
         # MSK takes SCRAM-SHA-512 only, at most {MSK_MAX_SCRAM_USERS} users, from Secrets Manager secrets named\n\
         # AmazonMSK_* encrypted with a customer managed KMS key. Passwords are not read from the\n\
         # source (brokers never return them): give each in its variable.\n"
    );
    out.push_str(
        "variable \"msk_cluster_arn\" {\n  type        = string\n  description = \"ARN of the MSK cluster the secrets are associated with\"\n}\n\n\
         variable \"kms_key_id\" {\n  type        = string\n  description = \"Customer managed KMS key for the secrets (MSK refuses the default key)\"\n}\n",
    );
    for user in users {
        let name = resource_name(&user.name);
        let mechanisms: Vec<String> = user
            .mechanisms
            .iter()
            .map(|m| format!("{} ({} iterations)", m.mechanism, m.iterations))
            .collect();
        let _ = write!(
            out,
            "\n# User {}: on the source {}.\n\
             variable \"password_{name}\" {{\n  type      = string\n  sensitive = true\n}}\n\n\
             resource \"aws_secretsmanager_secret\" \"{name}\" {{\n  name       = {}\n  kms_key_id = var.kms_key_id\n}}\n\n\
             resource \"aws_secretsmanager_secret_version\" \"{name}\" {{\n  secret_id     = aws_secretsmanager_secret.{name}.id\n  secret_string = jsonencode({{ username = {}, password = var.password_{name} }})\n}}\n",
            user.name.escape_debug(),
            if mechanisms.is_empty() {
                "no credentials".to_string()
            } else {
                mechanisms.join(", ")
            },
            quoted(&format!("AmazonMSK_{}", user.name)),
            quoted(&user.name),
        );
    }
    let arns: Vec<String> = users
        .iter()
        .map(|u| {
            format!(
                "    aws_secretsmanager_secret.{}.arn,",
                resource_name(&u.name)
            )
        })
        .collect();
    let _ = write!(
        out,
        "\nresource \"aws_msk_scram_secret_association\" \"source_users\" {{\n  cluster_arn     = var.msk_cluster_arn\n  secret_arn_list = [\n{}\n  ]\n  depends_on      = [{}]\n}}\n",
        arns.join("\n"),
        users
            .iter()
            .map(|u| format!("aws_secretsmanager_secret_version.{}", resource_name(&u.name)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

/// What the target needs that the source's users do not have, one line each: users without a
/// SCRAM-SHA-512 credential (MSK's only mechanism) and users beyond MSK's limit.
pub fn notes(users: &[ScramUser]) -> Vec<String> {
    let mut notes: Vec<String> = users
        .iter()
        .filter(|u| !u.mechanisms.iter().any(|m| m.mechanism == "SCRAM-SHA-512"))
        .map(|u| {
            format!(
                "user \"{}\" has no SCRAM-SHA-512 credential on the source; MSK takes SCRAM-SHA-512 only: its clients must switch mechanism",
                u.name.escape_debug()
            )
        })
        .collect();
    if users.len() > MSK_MAX_SCRAM_USERS {
        notes.push(format!(
            "{} SCRAM users: MSK associates at most {MSK_MAX_SCRAM_USERS} secrets with a cluster",
            users.len()
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::native::ScramMechanism;

    fn user(name: &str, mechanisms: &[&str]) -> ScramUser {
        ScramUser {
            name: name.into(),
            mechanisms: mechanisms
                .iter()
                .map(|m| ScramMechanism {
                    mechanism: m.to_string(),
                    iterations: 4096,
                })
                .collect(),
        }
    }

    fn users() -> Vec<ScramUser> {
        vec![
            user("alice", &["SCRAM-SHA-512"]),
            user("billing.svc", &["SCRAM-SHA-256", "SCRAM-SHA-512"]),
            user("9lives\"${x}", &["SCRAM-SHA-256"]),
        ]
    }

    /// The output is pinned (`UPDATE_GOLDEN=1` rewrites it) and parses as HCL, with one
    /// secret per user named `AmazonMSK_…` and the association listing them all.
    #[test]
    fn scram_secrets_terraform_is_pinned_and_parses() {
        let text = terraform(&users());
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/scram-secrets.tf");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        assert_eq!(text, std::fs::read_to_string(&path).unwrap());
        let body: hcl::Body = hcl::from_str(&text).expect("the Terraform file parses as HCL");
        let secrets: Vec<String> = body
            .blocks()
            .filter(|b| {
                b.identifier() == "resource"
                    && b.labels().first().map(|l| l.as_str()) == Some("aws_secretsmanager_secret")
            })
            .filter_map(|b| {
                b.body()
                    .attributes()
                    .find(|a| a.key() == "name")
                    .map(|a| a.expr().to_string())
            })
            .collect();
        assert_eq!(
            secrets,
            [
                "\"AmazonMSK_alice\"",
                "\"AmazonMSK_billing.svc\"",
                "\"AmazonMSK_9lives\\\"$${x}\""
            ]
        );
        let association = body
            .blocks()
            .find(|b| {
                b.labels().first().map(|l| l.as_str()) == Some("aws_msk_scram_secret_association")
            })
            .expect("an association");
        let list = association
            .body()
            .attributes()
            .find(|a| a.key() == "secret_arn_list")
            .unwrap();
        assert_eq!(list.expr().to_string().matches(".arn").count(), 3);
        assert!(!text.contains("password = \""), "no password value: {text}");
    }

    #[test]
    fn users_msk_cannot_take_as_they_are_are_named() {
        assert_eq!(
            notes(&users()),
            ["user \"9lives\\\"${x}\" has no SCRAM-SHA-512 credential on the source; MSK takes SCRAM-SHA-512 only: its clients must switch mechanism"]
        );
        let many: Vec<ScramUser> = (0..1_001)
            .map(|i| user(&format!("u{i}"), &["SCRAM-SHA-512"]))
            .collect();
        assert_eq!(notes(&many).len(), 1);
    }
}
