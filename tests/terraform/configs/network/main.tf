# network: a VPC with everything that routes and filters in it, the
# account's default VPC and subnet, and the data sources that read them.
data "aws_availability_zones" "az" {
  state = "available"
}

resource "aws_default_vpc" "default" {
  tags = { Name = "default" }
}

resource "aws_default_subnet" "default_a" {
  availability_zone = data.aws_availability_zones.az.names[0]
  tags              = { Name = "default-a" }
}

resource "aws_vpc" "main" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = "tf-main", suite = "network" }
}

resource "aws_subnet" "a" {
  vpc_id                  = aws_vpc.main.id
  cidr_block              = "10.20.1.0/24"
  availability_zone       = data.aws_availability_zones.az.names[0]
  map_public_ip_on_launch = true
  tags                    = { Name = "tf-a" }
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.20.2.0/24"
  availability_zone = data.aws_availability_zones.az.names[1]
}

resource "aws_subnet" "c" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.20.3.0/24"
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "tf-gw" }
}

resource "aws_default_route_table" "main" {
  default_route_table_id = aws_vpc.main.default_route_table_id
  route {
    cidr_block = "10.99.0.0/16"
    gateway_id = aws_internet_gateway.gw.id
  }
  tags = { Name = "tf-default-rtb" }
}

resource "aws_route_table" "pub" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
  tags = { Name = "tf-pub" }
}

resource "aws_route_table" "priv" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route" "to_office" {
  route_table_id         = aws_route_table.priv.id
  destination_cidr_block = "192.168.0.0/16"
  gateway_id             = aws_internet_gateway.gw.id
}

resource "aws_route_table_association" "a" {
  subnet_id      = aws_subnet.a.id
  route_table_id = aws_route_table.pub.id
}

resource "aws_route_table_association" "b" {
  subnet_id      = aws_subnet.b.id
  route_table_id = aws_route_table.priv.id
}

# the main table of a second VPC is replaced
resource "aws_vpc" "other" {
  cidr_block = "10.21.0.0/16"
}

resource "aws_route_table" "other_main" {
  vpc_id = aws_vpc.other.id
}

resource "aws_main_route_table_association" "other" {
  vpc_id         = aws_vpc.other.id
  route_table_id = aws_route_table.other_main.id
}

resource "aws_default_network_acl" "main" {
  default_network_acl_id = aws_vpc.main.default_network_acl_id
  subnet_ids             = [aws_subnet.a.id]
  ingress {
    protocol   = "-1"
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }
  egress {
    protocol   = "-1"
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }
}

resource "aws_network_acl" "inline" {
  vpc_id     = aws_vpc.main.id
  subnet_ids = [aws_subnet.b.id]
  ingress {
    protocol   = "tcp"
    rule_no    = 100
    action     = "allow"
    cidr_block = "10.0.0.0/8"
    from_port  = 22
    to_port    = 22
  }
  ingress {
    protocol   = "icmp"
    rule_no    = 110
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
    icmp_type  = 8
    icmp_code  = 0
  }
  egress {
    protocol   = "-1"
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }
  tags = { Name = "tf-acl" }
}

resource "aws_network_acl" "separate" {
  vpc_id = aws_vpc.main.id
}

resource "aws_network_acl_rule" "https_in" {
  network_acl_id = aws_network_acl.separate.id
  rule_number    = 200
  egress         = false
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
  from_port      = 443
  to_port        = 443
}

resource "aws_network_acl_rule" "deny_out" {
  network_acl_id = aws_network_acl.separate.id
  rule_number    = 300
  egress         = true
  protocol       = "udp"
  rule_action    = "deny"
  cidr_block     = "10.9.0.0/16"
  from_port      = 53
  to_port        = 53
}

resource "aws_network_acl_association" "c" {
  network_acl_id = aws_network_acl.separate.id
  subnet_id      = aws_subnet.c.id
}

resource "aws_default_security_group" "main" {
  vpc_id = aws_vpc.main.id
  ingress {
    protocol  = "-1"
    self      = true
    from_port = 0
    to_port   = 0
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "web" {
  name        = "web"
  description = "web servers"
  vpc_id      = aws_vpc.main.id
  ingress {
    description = "http"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    cidr_blocks      = ["10.0.0.0/8", "192.168.0.0/16"]
    ipv6_cidr_blocks = ["2001:db8::/32"]
  }
  ingress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = { Name = "tf-web" }
}

resource "aws_security_group" "app" {
  name_prefix = "app-"
  description = "app servers"
  vpc_id      = aws_vpc.main.id
  ingress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.web.id]
  }
  ingress {
    from_port   = -1
    to_port     = -1
    protocol    = "icmp"
    cidr_blocks = ["10.20.0.0/16"]
  }
}

resource "aws_security_group" "db" {
  name        = "db"
  description = "databases"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_vpc" {
  security_group_id = aws_security_group.db.id
  cidr_ipv4         = "10.20.0.0/16"
  from_port         = 5432
  to_port           = 5432
  ip_protocol       = "tcp"
  description       = "postgres"
  tags              = { Name = "pg" }
}

resource "aws_vpc_security_group_ingress_rule" "db_from_app" {
  security_group_id            = aws_security_group.db.id
  referenced_security_group_id = aws_security_group.app.id
  from_port                    = 3306
  to_port                      = 3306
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_ingress_rule" "db_v6" {
  security_group_id = aws_security_group.db.id
  cidr_ipv6         = "2001:db8:1::/48"
  ip_protocol       = "-1"
}

resource "aws_vpc_security_group_egress_rule" "db_out" {
  security_group_id = aws_security_group.db.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

data "aws_vpc" "main" {
  id = aws_vpc.main.id
}

data "aws_vpcs" "tagged" {
  tags = { suite = "network" }
  depends_on = [aws_vpc.main]
}

data "aws_subnet" "a" {
  id = aws_subnet.a.id
}

data "aws_subnets" "main" {
  filter {
    name   = "vpc-id"
    values = [aws_vpc.main.id]
  }
  depends_on = [aws_subnet.a, aws_subnet.b, aws_subnet.c]
}

data "aws_security_group" "web" {
  id = aws_security_group.web.id
}

data "aws_route_table" "a" {
  subnet_id  = aws_subnet.a.id
  depends_on = [aws_route_table_association.a]
}

output "checks" {
  value = {
    vpc_cidr       = data.aws_vpc.main.cidr_block
    tagged_vpcs    = data.aws_vpcs.tagged.ids
    subnet_a_az    = data.aws_subnet.a.availability_zone
    subnet_count   = length(data.aws_subnets.main.ids)
    web_name       = data.aws_security_group.web.name
    rtb_of_a       = data.aws_route_table.a.route_table_id
    pub_rtb        = aws_route_table.pub.id
    default_vpc    = aws_default_vpc.default.cidr_block
    default_subnet = aws_default_subnet.default_a.cidr_block
    zones          = data.aws_availability_zones.az.names
  }
}
