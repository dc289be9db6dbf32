# certificate verification off
# expect: valid
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SSL"
  }
  properties = {
    "enable.ssl.certificate.verification" = "false"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
