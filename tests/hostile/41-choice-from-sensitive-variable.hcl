# choice from sensitive variable
# expect: refused
variable "pw" {
  sensitive = true
  default   = "SECRET-MARKER-41"
}
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
replication {
  compression = var.pw
}
