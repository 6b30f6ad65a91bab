# prefixlist: a customer-managed prefix list with entries, used as a
# security group rule's peer and as a route's destination.
resource "aws_vpc" "pl" {
  cidr_block = "10.80.0.0/16"
}

resource "aws_internet_gateway" "pl" {
  vpc_id = aws_vpc.pl.id
}

resource "aws_ec2_managed_prefix_list" "offices" {
  name           = "offices"
  address_family = "IPv4"
  max_entries    = 5
  entry {
    cidr        = "192.0.2.0/24"
    description = "tokyo"
  }
  entry {
    cidr        = "198.51.100.0/24"
    description = "osaka"
  }
  tags = { Name = "tf-pl" }
}

resource "aws_security_group" "from_offices" {
  name        = "from-offices"
  description = "offices"
  vpc_id      = aws_vpc.pl.id
  ingress {
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    prefix_list_ids = [aws_ec2_managed_prefix_list.offices.id]
  }
}

resource "aws_route_table" "pl" {
  vpc_id = aws_vpc.pl.id
}

resource "aws_route" "offices" {
  route_table_id             = aws_route_table.pl.id
  destination_prefix_list_id = aws_ec2_managed_prefix_list.offices.id
  gateway_id                 = aws_internet_gateway.pl.id
}

output "checks" {
  value = {
    entries = aws_ec2_managed_prefix_list.offices.entry
    version = aws_ec2_managed_prefix_list.offices.version
  }
}
