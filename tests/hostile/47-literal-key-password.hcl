# literal key password
# expect: valid
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
  security {
    protocol = "SSL"
    tls {
      cert_file    = "client.pem"
      key_file     = "client.key"
      key_password = "SECRET-MARKER-47"
    }
  }
}
