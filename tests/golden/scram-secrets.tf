# SCRAM users of the source cluster, as Amazon MSK SCRAM secrets (written by kafka-migrate).
# MSK takes SCRAM-SHA-512 only, at most 1000 users, from Secrets Manager secrets named
# AmazonMSK_* encrypted with a customer managed KMS key. Passwords are not read from the
# source (brokers never return them): give each in its variable.

variable "msk_cluster_arn" {
  type        = string
  description = "ARN of the MSK cluster the secrets are associated with"
}

variable "kms_key_id" {
  type        = string
  description = "Customer managed KMS key for the secrets (MSK refuses the default key)"
}

# User alice: on the source SCRAM-SHA-512 (4096 iterations).
variable "password_alice" {
  type      = string
  sensitive = true
}

resource "aws_secretsmanager_secret" "alice" {
  name       = "AmazonMSK_alice"
  kms_key_id = var.kms_key_id
}

resource "aws_secretsmanager_secret_version" "alice" {
  secret_id     = aws_secretsmanager_secret.alice.id
  secret_string = jsonencode({ username = "alice", password = var.password_alice })
}

# User billing.svc: on the source SCRAM-SHA-256 (4096 iterations), SCRAM-SHA-512 (4096 iterations).
variable "password_billing_svc" {
  type      = string
  sensitive = true
}

resource "aws_secretsmanager_secret" "billing_svc" {
  name       = "AmazonMSK_billing.svc"
  kms_key_id = var.kms_key_id
}

resource "aws_secretsmanager_secret_version" "billing_svc" {
  secret_id     = aws_secretsmanager_secret.billing_svc.id
  secret_string = jsonencode({ username = "billing.svc", password = var.password_billing_svc })
}

# User 9lives"${x}: on the source SCRAM-SHA-256 (4096 iterations).
variable "password__9lives___x_" {
  type      = string
  sensitive = true
}

resource "aws_secretsmanager_secret" "_9lives___x_" {
  name       = "AmazonMSK_9lives\"$${x}"
  kms_key_id = var.kms_key_id
}

resource "aws_secretsmanager_secret_version" "_9lives___x_" {
  secret_id     = aws_secretsmanager_secret._9lives___x_.id
  secret_string = jsonencode({ username = "9lives\"$${x}", password = var.password__9lives___x_ })
}

resource "aws_msk_scram_secret_association" "source_users" {
  cluster_arn = var.msk_cluster_arn
  secret_arn_list = [
    aws_secretsmanager_secret.alice.arn,
    aws_secretsmanager_secret.billing_svc.arn,
    aws_secretsmanager_secret._9lives___x_.arn,
  ]
  depends_on = [aws_secretsmanager_secret_version.alice, aws_secretsmanager_secret_version.billing_svc, aws_secretsmanager_secret_version._9lives___x_]
}
