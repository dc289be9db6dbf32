# A SASL/SCRAM source to an MSK cluster with IAM authentication.
name = "orders-to-msk"

cluster "source" {
  bootstrap_servers = ["kafka-1.internal:9093"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = env("SOURCE_USER")
      password  = env("SOURCE_PASSWORD")
    }
    tls { ca_file = "certs/ca.pem" }
  }
  properties = { "client.rack" = "use1-az1" }
}

cluster "target" {
  bootstrap_servers = ["b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com:9098"]
  security {
    protocol = "SASL_SSL"
    aws_iam {
      region      = "us-east-1"
      # For `export iam-policy` and the IAM view in `plan`:
      cluster_arn = "arn:aws:kafka:us-east-1:123456789012:cluster/orders-msk/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-3"
    }
  }
}

topics {
  include            = ["^orders\\..*", "payments"]
  exclude            = ["^__.*", "^_schemas$"]
  replication_factor = 3
  config {
    exclude  = ["retention.bytes"]
    override = { "min.insync.replicas" = "2" }
  }
}

acls { sync = true }

consumer_groups {
  include = [".*"]
  exclude = ["^connect-.*"]
}

replication {
  tasks                = 4
  delivery             = "exactly-once"
  max_bytes_per_second = "50MiB"
}

cutover {
  quiet_period = "30s"
  data_check   = "sample"
}
