# extras: NAT gateways (public with an Elastic IP, and private), VPC
# peering with its accepter, a DHCP options set and its association, a
# secondary CIDR block.
resource "aws_vpc" "hub" {
  cidr_block = "10.70.0.0/16"
}

resource "aws_vpc" "spoke" {
  cidr_block = "10.71.0.0/16"
}

resource "aws_subnet" "public" {
  vpc_id     = aws_vpc.hub.id
  cidr_block = "10.70.1.0/24"
}

resource "aws_internet_gateway" "hub" {
  vpc_id = aws_vpc.hub.id
}

resource "aws_eip" "nat" {
  domain     = "vpc"
  depends_on = [aws_internet_gateway.hub]
}

resource "aws_nat_gateway" "public" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public.id
  tags          = { Name = "tf-nat" }
}

resource "aws_nat_gateway" "private" {
  connectivity_type = "private"
  subnet_id         = aws_subnet.public.id
}

resource "aws_vpc_peering_connection" "hub_spoke" {
  vpc_id      = aws_vpc.hub.id
  peer_vpc_id = aws_vpc.spoke.id
  tags        = { Name = "tf-pcx" }
}

# one connection, seen from both sides: the same tags on both resources
# (as on AWS, either side's tags are the connection's)
resource "aws_vpc_peering_connection_accepter" "spoke" {
  vpc_peering_connection_id = aws_vpc_peering_connection.hub_spoke.id
  auto_accept               = true
  tags                      = { Name = "tf-pcx" }
}

resource "aws_vpc_dhcp_options" "corp" {
  domain_name         = "corp.example"
  domain_name_servers = ["10.70.0.2", "192.0.2.53"]
  ntp_servers         = ["192.0.2.123"]
  tags                = { Name = "tf-dhcp" }
}

resource "aws_vpc_dhcp_options_association" "hub" {
  vpc_id          = aws_vpc.hub.id
  dhcp_options_id = aws_vpc_dhcp_options.corp.id
}

resource "aws_vpc_ipv4_cidr_block_association" "hub" {
  vpc_id     = aws_vpc.hub.id
  cidr_block = "10.72.0.0/16"
}

output "checks" {
  value = {
    nat_public_ip = aws_nat_gateway.public.public_ip
    pcx_status    = aws_vpc_peering_connection_accepter.spoke.accept_status
  }
}
