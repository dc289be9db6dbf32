# heredoc password
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "migrator"
      password  = <<EOT
SECRET-MARKER-04
EOT
    }
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
