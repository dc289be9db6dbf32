# property oauthbearer client secret
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "PLAINTEXT"
  }
  properties = {
    "sasl.oauthbearer.client.secret" = "SECRET-MARKER-18"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
