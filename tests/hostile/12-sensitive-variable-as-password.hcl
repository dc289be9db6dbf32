# sensitive variable as password
# expect: valid
variable "pw" {
  default   = "SECRET-MARKER-12"
  sensitive = true
}
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "migrator"
      password  = var.pw
    }
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
