# property misspelled keystore password
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SSL"
  }
  properties = {
    "ssl.keystore.pasword" = "SECRET-MARKER-17"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
