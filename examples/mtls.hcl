# A source with TLS and client certificates (mTLS) to an MSK cluster with mTLS.
name = "mtls-to-msk"

cluster "source" {
  bootstrap_servers = ["kafka-1.internal:9093"]
  security {
    protocol = "SSL"
    tls {
      ca_file      = "certs/source-ca.pem"
      cert_file    = "certs/client.pem"
      key_file     = "certs/client.key"
      key_password = env("SOURCE_KEY_PASSWORD")
    }
  }
}

cluster "target" {
  bootstrap_servers = ["b-1.orders.abc123.c2.kafka.eu-west-1.amazonaws.com:9094"]
  security {
    protocol = "SSL"
    tls {
      cert_file = "certs/msk-client.pem"
      key_file  = "certs/msk-client.key"
    }
  }
}

topics {
  include            = ["^orders\\..*"]
  replication_factor = 3
}
