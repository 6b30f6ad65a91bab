# regions: two provider aliases, two regions, one endpoint: a VPC in each
# with the same CIDR, each subnet in its own region's first zone.
data "aws_availability_zones" "east" {
  provider = aws.east
}

data "aws_availability_zones" "west" {
  provider = aws.west
}

resource "aws_vpc" "east" {
  provider   = aws.east
  cidr_block = "10.60.0.0/16"
  tags       = { Name = "tf-east" }
}

resource "aws_vpc" "west" {
  provider   = aws.west
  cidr_block = "10.60.0.0/16"
  tags       = { Name = "tf-west" }
}

resource "aws_subnet" "east" {
  provider          = aws.east
  vpc_id            = aws_vpc.east.id
  cidr_block        = "10.60.1.0/24"
  availability_zone = data.aws_availability_zones.east.names[0]
}

resource "aws_subnet" "west" {
  provider          = aws.west
  vpc_id            = aws_vpc.west.id
  cidr_block        = "10.60.1.0/24"
  availability_zone = data.aws_availability_zones.west.names[0]
}

resource "aws_security_group" "west" {
  provider    = aws.west
  name        = "west"
  description = "west"
  vpc_id      = aws_vpc.west.id
}

output "checks" {
  value = {
    east_zone = aws_subnet.east.availability_zone
    west_zone = aws_subnet.west.availability_zone
    east_arn  = aws_vpc.east.arn
    west_arn  = aws_vpc.west.arn
  }
}
