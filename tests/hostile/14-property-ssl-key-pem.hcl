# property ssl key pem
# expect: valid
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SSL"
  }
  properties = {
    "ssl.key.pem" = "-----BEGIN PRIVATE KEY-----\nSECRET-MARKER-14\n-----END PRIVATE KEY-----"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
