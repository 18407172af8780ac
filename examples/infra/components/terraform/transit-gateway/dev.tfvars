# Placeholders: the plat-dev VPC and one subnet per availability zone to attach.
vpc_id     = "vpc-0123456789abcdef0"
subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
