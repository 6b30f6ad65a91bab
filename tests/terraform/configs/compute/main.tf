# compute: an instance from vpcd's image, a second network interface
# attached to it, an Elastic IP associated with it, and the data sources
# that read them.
data "aws_ami" "linux" {
  most_recent = true
  owners      = ["amazon"]
  filter {
    name   = "name"
    values = ["vpcd-linux"]
  }
}

resource "aws_vpc" "vm" {
  cidr_block = "10.40.0.0/16"
}

resource "aws_subnet" "vm" {
  vpc_id     = aws_vpc.vm.id
  cidr_block = "10.40.1.0/24"
}

resource "aws_internet_gateway" "vm" {
  vpc_id = aws_vpc.vm.id
}

resource "aws_security_group" "vm" {
  name        = "vm"
  description = "ssh"
  vpc_id      = aws_vpc.vm.id
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "vm" {
  ami                    = data.aws_ami.linux.id
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.vm.id
  private_ip             = "10.40.1.10"
  vpc_security_group_ids = [aws_security_group.vm.id]
  tags                   = { Name = "tf-vm" }
}

resource "aws_network_interface" "second" {
  subnet_id       = aws_subnet.vm.id
  private_ips     = ["10.40.1.20"]
  security_groups = [aws_security_group.vm.id]
  description     = "second interface"
  tags            = { Name = "tf-eni" }
}

resource "aws_network_interface_attachment" "second" {
  instance_id          = aws_instance.vm.id
  network_interface_id = aws_network_interface.second.id
  device_index         = 1
}

resource "aws_eip" "vm" {
  domain     = "vpc"
  tags       = { Name = "tf-eip" }
  depends_on = [aws_internet_gateway.vm]
}

resource "aws_eip_association" "vm" {
  instance_id   = aws_instance.vm.id
  allocation_id = aws_eip.vm.id
}

resource "aws_eip" "on_eni" {
  domain                    = "vpc"
  network_interface         = aws_network_interface.second.id
  associate_with_private_ip = "10.40.1.20"
  depends_on                = [aws_internet_gateway.vm, aws_network_interface_attachment.second]
}

data "aws_instance" "vm" {
  instance_id = aws_instance.vm.id
  depends_on  = [aws_eip_association.vm]
}

output "checks" {
  value = {
    ami        = data.aws_ami.linux.id
    private_ip = data.aws_instance.vm.private_ip
    public_ip  = data.aws_instance.vm.public_ip
    eip        = aws_eip.vm.public_ip
  }
}
