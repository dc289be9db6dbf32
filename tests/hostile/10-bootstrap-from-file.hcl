# bootstrap from file
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = [file("secret.txt")]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
