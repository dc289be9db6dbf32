# quote in iam profile
# expect: valid
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
  security {
    protocol = "SASL_SSL"
    aws_iam {
      region  = "eu-west-1"
      profile = "p\"awsRoleArn=\"arn:aws:iam::1:role/injected"
    }
  }
}
