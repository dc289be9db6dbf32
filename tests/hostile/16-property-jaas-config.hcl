# property jaas config
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "PLAINTEXT"
  }
  properties = {
    "sasl.jaas.config" = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"SECRET-MARKER-16\";"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
