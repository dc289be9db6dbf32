# property oauthbearer config
# expect: valid
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "PLAINTEXT"
  }
  properties = {
    "sasl.oauthbearer.config" = "principal=admin clientSecret=SECRET-MARKER-15"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
