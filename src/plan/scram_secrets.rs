//! `export scram-secrets`: the source's SCRAM users as a Terraform file for an MSK target —
//! per user an `aws_secretsmanager_secret` named `AmazonMSK_…` (the prefix MSK requires) with
//! its username and a password left as a variable, and one `aws_msk_scram_secret_association`
//! for the cluster. Pure text; never a credential (brokers return none). Also what `plan`
//! says about those users: who they are, with which mechanisms, and what the target needs.

use std::fmt::Write as _;

use crate::cluster::native::ScramUser;
use crate::config::{Migration, MskType};
use crate::quote::{self, Names};

use super::model::{Warning, WarningKind};

/// Users named one by one in the plan's note; the rest are counted.
const NAMED_IN_PLAN: usize = 10;

/// MSK takes at most this many SCRAM secrets per cluster.
pub const MSK_MAX_SCRAM_USERS: usize = 1_000;

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
    // One Terraform name per user, distinct even where user names differ only in characters
    // a Terraform name cannot hold (`a.b` and `a_b`).
    let mut taken = Names::default();
    let names: Vec<String> = users.iter().map(|u| taken.identifier(&u.name)).collect();
    for (user, name) in users.iter().zip(&names) {
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
            quote::comment(&user.name),
            if mechanisms.is_empty() {
                "no credentials".to_string()
            } else {
                mechanisms.join(", ")
            },
            quote::hcl_string(&format!("AmazonMSK_{}", user.name)),
            quote::hcl_string(&user.name),
        );
    }
    let arns: Vec<String> = names
        .iter()
        .map(|name| format!("    aws_secretsmanager_secret.{name}.arn,"))
        .collect();
    let versions: Vec<String> = names
        .iter()
        .map(|name| format!("aws_secretsmanager_secret_version.{name}"))
        .collect();
    // As `terraform fmt` lays it out: `=` is aligned only across single-line attributes.
    let _ = write!(
        out,
        "\nresource \"aws_msk_scram_secret_association\" \"source_users\" {{\n  cluster_arn = var.msk_cluster_arn\n  secret_arn_list = [\n{}\n  ]\n  depends_on = [{}]\n}}\n",
        arns.join("\n"),
        versions.join(", ")
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
                quote::terminal(&u.name)
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

/// `plan`'s notes on the source's SCRAM users (names and mechanisms, never a credential) and
/// what the target needs for them: on an MSK target with SCRAM, an `AmazonMSK_` secret per
/// user with SCRAM-SHA-512 (`export scram-secrets`), within 1,000 users; on an IAM-only
/// target, nothing (clients authenticate with IAM); elsewhere, the users created anew.
pub fn plan_warnings(migration: &Migration, users: &[ScramUser]) -> Vec<Warning> {
    if users.is_empty() {
        return Vec::new();
    }
    let mut listed: Vec<String> = users
        .iter()
        .take(NAMED_IN_PLAN)
        .map(|u| {
            let mechanisms: Vec<&str> = u.mechanisms.iter().map(|m| m.mechanism.as_str()).collect();
            format!("{} ({})", quote::terminal(&u.name), mechanisms.join(", "))
        })
        .collect();
    if users.len() > NAMED_IN_PLAN {
        listed.push(format!("and {} more", users.len() - NAMED_IN_PLAN));
    }
    let target = migration.target();
    let msk = target.msk.as_ref().map(|m| m.kind);
    let iam_only = target.security.aws_iam.is_some() || msk == Some(MskType::Serverless);
    let needs = if iam_only {
        "the target uses IAM access control: its clients authenticate with IAM, not with these \
         users (their ACLs become IAM policies: `export iam-policy`)"
            .to_string()
    } else if msk.is_some() {
        format!(
            "MSK takes SCRAM users as Secrets Manager secrets named AmazonMSK_<user>, \
             SCRAM-SHA-512 only, at most {MSK_MAX_SCRAM_USERS} per cluster: `kafka-migrate \
             export scram-secrets` writes them as Terraform (passwords are not readable from \
             the source: you give them)"
        )
    } else {
        "passwords are not readable from the source: create the users on the target \
         (`export scram-secrets` writes them as AmazonMSK_ secrets for an MSK target)"
            .to_string()
    };
    let mut warnings = vec![Warning {
        kind: WarningKind::ScramUsers,
        subject: "source SCRAM users".into(),
        message: format!("{} user(s): {}; {needs}", users.len(), listed.join(", ")),
    }];
    if msk.is_some() && !iam_only {
        warnings.extend(notes(users).into_iter().map(|message| Warning {
            kind: WarningKind::ScramUsers,
            subject: "source SCRAM users".into(),
            message,
        }));
    }
    warnings
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

    /// User names a broker takes that would be code in a naive file: each reads back as the
    /// secret's name and username, and names that map to one Terraform name get distinct ones.
    #[test]
    fn hostile_user_names_stay_data() {
        let hostile = [
            "a.b",
            "a_b",
            "evil\"\n}\nresource \"x\" \"y\" {\n# ",
            "${var.kms_key_id}%{if true}",
            "back\\slash\u{1b}[2J",
        ];
        let users: Vec<ScramUser> = hostile
            .iter()
            .map(|n| user(n, &["SCRAM-SHA-512"]))
            .collect();
        let text = terraform(&users);
        let body: hcl::Body = hcl::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let mut labels = std::collections::BTreeSet::new();
        let mut names = Vec::new();
        for block in body.blocks().filter(|b| b.identifier() == "resource") {
            let kind = block.labels()[0].as_str().to_string();
            assert!(
                labels.insert((kind.clone(), block.labels()[1].as_str().to_string())),
                "a resource named twice: {text}"
            );
            if kind == "aws_secretsmanager_secret" {
                let name = block
                    .body()
                    .attributes()
                    .find(|a| a.key() == "name")
                    .unwrap();
                match name.expr() {
                    hcl::Expression::String(s) => names.push(s.clone()),
                    other => panic!("not a plain string: {other:?}"),
                }
            }
        }
        let wanted: Vec<String> = hostile.iter().map(|n| format!("AmazonMSK_{n}")).collect();
        assert_eq!(names, wanted);
        assert_eq!(
            body.blocks()
                .filter(|b| b.identifier() == "resource")
                .count(),
            2 * hostile.len() + 1,
            "{text}"
        );
    }

    #[test]
    fn plan_lists_users_and_what_the_target_needs() {
        let msk = crate::plan::msk::tests::migration("type = \"standard\"", "");
        let warnings = plan_warnings(&msk, &users());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let first = &warnings[0].message;
        assert!(
            first.starts_with(
                "3 user(s): alice (SCRAM-SHA-512), billing.svc (SCRAM-SHA-256, SCRAM-SHA-512), 9lives\"${x} (SCRAM-SHA-256); MSK takes"
            ) && first.contains("export scram-secrets"),
            "{first}"
        );
        assert!(warnings[1].message.contains("no SCRAM-SHA-512"));
        let serverless = crate::plan::msk::tests::migration("type = \"serverless\"", "");
        let warnings = plan_warnings(&serverless, &users());
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("export iam-policy"));
        let plain = crate::testing::migration("");
        assert!(plan_warnings(&plain, &users())[0]
            .message
            .contains("create the users on the target"));
        assert!(plan_warnings(&plain, &[]).is_empty());
        let many: Vec<ScramUser> = (0..12)
            .map(|i| user(&format!("u{i}"), &["SCRAM-SHA-512"]))
            .collect();
        assert!(plan_warnings(&msk, &many)[0]
            .message
            .contains("u9 (SCRAM-SHA-512), and 2 more;"));
    }

    #[test]
    fn users_msk_cannot_take_as_they_are_are_named() {
        assert_eq!(
            notes(&users()),
            ["user \"9lives\"${x}\" has no SCRAM-SHA-512 credential on the source; MSK takes SCRAM-SHA-512 only: its clients must switch mechanism"]
        );
        let many: Vec<ScramUser> = (0..1_001)
            .map(|i| user(&format!("u{i}"), &["SCRAM-SHA-512"]))
            .collect();
        assert_eq!(notes(&many).len(), 1);
    }
}
