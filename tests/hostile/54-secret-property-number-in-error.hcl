# secret property number in error
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "PLAINTEXT"
  }
  properties = {
    "sasl.oauthbearer.client.secret" = "SECRET-MARKER-54"
    "socket.timeout.ms" = "SECRET-MARKER-54"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
