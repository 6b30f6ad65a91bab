# more: the rest of what the provider manages with actions vpcd serves:
# the legacy aws_security_group_rule, security group attachments to an
# interface, egress-only internet gateway, gateway VPC endpoint, subnet
# CIDR reservation, the default DHCP options, peering options, aws_ec2_tag;
# and the account, region, zone, instance type, prefix list and listing
# data sources.
data "aws_caller_identity" "me" {}

data "aws_region" "here" {}

data "aws_regions" "all" {
  all_regions = true
}

data "aws_availability_zone" "b" {
  name = "us-east-1b"
}

data "aws_ec2_instance_type" "micro" {
  instance_type = "t3.micro"
}

data "aws_prefix_list" "s3" {
  name = "com.amazonaws.us-east-1.s3"
}

resource "aws_vpc" "more" {
  cidr_block = "10.90.0.0/16"
}

# a tag on a resource Terraform does not manage otherwise (on a managed
# aws_vpc without this tag, the provider would plan its removal, on AWS too)
data "aws_vpc" "default" {
  default = true
}

resource "aws_ec2_tag" "owner" {
  resource_id = data.aws_vpc.default.id
  key         = "owner"
  value       = "network-team"
}

resource "aws_subnet" "more" {
  vpc_id            = aws_vpc.more.id
  cidr_block        = "10.90.1.0/24"
  availability_zone = data.aws_availability_zone.b.name
}

resource "aws_ec2_subnet_cidr_reservation" "static" {
  subnet_id        = aws_subnet.more.id
  cidr_block       = "10.90.1.16/28"
  reservation_type = "explicit"
  description      = "appliances"
}

resource "aws_security_group" "lb" {
  name        = "lb"
  description = "load balancers"
  vpc_id      = aws_vpc.more.id
}

resource "aws_security_group" "svc" {
  name        = "svc"
  description = "services"
  vpc_id      = aws_vpc.more.id
}

resource "aws_security_group_rule" "https_in" {
  type              = "ingress"
  security_group_id = aws_security_group.lb.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = ["0.0.0.0/0"]
  description       = "https"
}

resource "aws_security_group_rule" "from_lb" {
  type                     = "ingress"
  security_group_id        = aws_security_group.svc.id
  protocol                 = "tcp"
  from_port                = 8000
  to_port                  = 8099
  source_security_group_id = aws_security_group.lb.id
}

resource "aws_security_group_rule" "svc_self" {
  type              = "ingress"
  security_group_id = aws_security_group.svc.id
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
  self              = true
}

resource "aws_security_group_rule" "lb_out" {
  type              = "egress"
  security_group_id = aws_security_group.lb.id
  protocol          = "tcp"
  from_port         = 8000
  to_port           = 8099
  cidr_blocks       = ["10.90.0.0/16"]
}

resource "aws_network_interface" "svc" {
  subnet_id       = aws_subnet.more.id
  security_groups = [aws_security_group.svc.id]
  lifecycle {
    ignore_changes = [security_groups]	# managed by the attachment below, as the provider's docs say
  }
}

resource "aws_network_interface_sg_attachment" "lb_on_svc" {
  security_group_id    = aws_security_group.lb.id
  network_interface_id = aws_network_interface.svc.id
}

resource "aws_egress_only_internet_gateway" "v6" {
  vpc_id = aws_vpc.more.id
  tags   = { Name = "tf-eigw" }
}

resource "aws_route_table" "more" {
  vpc_id = aws_vpc.more.id
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.more.id
  service_name      = "com.amazonaws.us-east-1.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.more.id]
  tags              = { Name = "tf-s3" }
}

# no tags: provider 5.100's create of this resource never sends CreateTags
# (its update interceptor does not run inside create), so on AWS as here
# the first plan after apply would add them
resource "aws_default_vpc_dhcp_options" "default" {
}

resource "aws_vpc" "peer" {
  cidr_block = "10.91.0.0/16"
}

resource "aws_vpc_peering_connection" "more" {
  vpc_id      = aws_vpc.more.id
  peer_vpc_id = aws_vpc.peer.id
  auto_accept = true
}

resource "aws_vpc_peering_connection_options" "more" {
  vpc_peering_connection_id = aws_vpc_peering_connection.more.id
  requester {
    allow_remote_vpc_dns_resolution = true
  }
}


data "aws_network_interface" "svc" {
  id         = aws_network_interface.svc.id
  depends_on = [aws_network_interface_sg_attachment.lb_on_svc]
}

data "aws_network_interfaces" "in_subnet" {
  filter {
    name   = "subnet-id"
    values = [aws_subnet.more.id]
  }
  depends_on = [aws_network_interface.svc]
}

data "aws_network_acls" "more" {
  vpc_id     = aws_vpc.more.id
  depends_on = [aws_subnet.more]
}

data "aws_route_tables" "more" {
  vpc_id     = aws_vpc.more.id
  depends_on = [aws_route_table.more]
}

data "aws_security_groups" "more" {
  filter {
    name   = "vpc-id"
    values = [aws_vpc.more.id]
  }
  depends_on = [aws_security_group.lb, aws_security_group.svc]
}

data "aws_vpc_peering_connection" "more" {
  id         = aws_vpc_peering_connection.more.id
  depends_on = [aws_vpc_peering_connection_options.more]
}

data "aws_vpc_dhcp_options" "default" {
  dhcp_options_id = aws_default_vpc_dhcp_options.default.id
}

data "aws_vpc_endpoint" "s3" {
  id = aws_vpc_endpoint.s3.id
}

output "checks" {
  value = {
    account        = data.aws_caller_identity.me.account_id
    caller_arn     = data.aws_caller_identity.me.arn
    region         = data.aws_region.here.name
    region_count   = length(data.aws_regions.all.names)
    zone_id        = data.aws_availability_zone.b.zone_id
    micro_vcpus    = data.aws_ec2_instance_type.micro.default_vcpus
    s3_cidrs       = data.aws_prefix_list.s3.cidr_blocks
    eni_groups     = sort(data.aws_network_interface.svc.security_groups)
    eni_count      = length(data.aws_network_interfaces.in_subnet.ids)
    acl_count      = length(data.aws_network_acls.more.ids)
    rtb_count      = length(data.aws_route_tables.more.ids)
    sg_count       = length(data.aws_security_groups.more.ids)
    pcx_status     = data.aws_vpc_peering_connection.more.status
    dhcp_domain    = data.aws_vpc_dhcp_options.default.domain_name
    endpoint_state = data.aws_vpc_endpoint.s3.state
    lb_id          = aws_security_group.lb.id
    default_vpc_id = data.aws_vpc.default.id
    svc_id         = aws_security_group.svc.id
  }
}

data "aws_internet_gateway" "by_vpc" {
  filter {
    name   = "attachment.vpc-id"
    values = [aws_vpc.peer.id]
  }
  depends_on = [aws_internet_gateway.peer]
}

resource "aws_internet_gateway" "peer" {
  vpc_id = aws_vpc.peer.id
}
