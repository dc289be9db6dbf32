# verification off with aws iam
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
  security {
    protocol = "SASL_SSL"
    aws_iam {
      region = "eu-west-1"
    }
  }
  properties = {
    "enable.ssl.certificate.verification" = "false"
  }
}
