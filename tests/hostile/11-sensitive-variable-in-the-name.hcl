# sensitive variable in the name
# expect: refused
variable "pw" {
  sensitive = true
  default   = "SECRET-MARKER-11"
}
name = "${var.pw} migration"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
