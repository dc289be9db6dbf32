# A SASL/SCRAM source to an MSK cluster with SASL/SCRAM (secrets from the environment).
name = "scram-to-msk"

variable "target_user" {
  default = "migrator"
}

cluster "source" {
  bootstrap_servers = ["kafka-1.internal:9094", "kafka-2.internal:9094"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = env("SOURCE_USER")
      password  = env("SOURCE_PASSWORD")
    }
    tls { ca_file = "certs/source-ca.pem" }
  }
}

cluster "target" {
  bootstrap_servers = ["b-1.orders.abc123.c2.kafka.eu-west-1.amazonaws.com:9096"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = var.target_user
      password  = env("TARGET_PASSWORD")
    }
  }
}

topics {
  include            = ["^payments\\..*", "^orders\\..*"]
  replication_factor = 3
  config {
    override = { "min.insync.replicas" = "2" }
  }
}

acls {
  sync          = true
  principal_map = { "User:legacy-billing" = "User:billing" }
}

replication {
  tasks                = 8
  max_bytes_per_second = "100MiB"
}
