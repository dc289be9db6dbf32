# newline in ca file
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
  security {
    protocol = "SSL"
    tls {
      ca_file = "ca.pem\nssl.truststore.location=/injected"
    }
  }
}
