# vpn: customer gateways, a virtual private gateway attached to a VPC and
# propagating into its route table, a VPN connection with AWS's defaults
# and one with every tunnel option set, a static route, and the data
# sources of the gateways.
resource "aws_vpc" "office" {
  cidr_block = "10.50.0.0/16"
}

resource "aws_route_table" "office" {
  vpc_id = aws_vpc.office.id
}

resource "aws_customer_gateway" "router" {
  bgp_asn    = 65000
  ip_address = "198.51.100.7"
  type       = "ipsec.1"
  tags       = { Name = "tf-router" }
}

resource "aws_customer_gateway" "router2" {
  bgp_asn     = 65010
  ip_address  = "198.51.100.8"
  type        = "ipsec.1"
  device_name = "branch"
}

resource "aws_vpn_gateway" "vgw" {
  amazon_side_asn = 64512
  tags            = { Name = "tf-vgw" }
}

resource "aws_vpn_gateway_attachment" "vgw" {
  vpc_id         = aws_vpc.office.id
  vpn_gateway_id = aws_vpn_gateway.vgw.id
}

resource "aws_vpn_gateway_route_propagation" "office" {
  vpn_gateway_id = aws_vpn_gateway.vgw.id
  route_table_id = aws_route_table.office.id
  depends_on     = [aws_vpn_gateway_attachment.vgw]
}

resource "aws_vpn_connection" "plain" {
  vpn_gateway_id      = aws_vpn_gateway.vgw.id
  customer_gateway_id = aws_customer_gateway.router.id
  type                = "ipsec.1"
  static_routes_only  = true
  tags                = { Name = "tf-vpn" }
}

resource "aws_vpn_connection_route" "office_lan" {
  destination_cidr_block = "192.168.10.0/24"
  vpn_connection_id      = aws_vpn_connection.plain.id
}

resource "aws_vpn_connection" "tuned" {
  vpn_gateway_id           = aws_vpn_gateway.vgw.id
  customer_gateway_id      = aws_customer_gateway.router2.id
  type                     = "ipsec.1"
  static_routes_only       = true
  local_ipv4_network_cidr  = "192.168.20.0/24"
  remote_ipv4_network_cidr = "10.50.0.0/16"

  tunnel1_inside_cidr                     = "169.254.10.0/30"
  tunnel1_preshared_key                   = "tunnel1_key_0123456789"
  tunnel1_dpd_timeout_action              = "restart"
  tunnel1_dpd_timeout_seconds             = 40
  tunnel1_ike_versions                    = ["ikev1"]
  tunnel1_phase1_dh_group_numbers         = [2, 14]
  tunnel1_phase1_encryption_algorithms    = ["AES128", "AES256"]
  tunnel1_phase1_integrity_algorithms     = ["SHA1", "SHA2-256"]
  tunnel1_phase1_lifetime_seconds         = 14400
  tunnel1_phase2_dh_group_numbers         = [2, 14]
  tunnel1_phase2_encryption_algorithms    = ["AES128"]
  tunnel1_phase2_integrity_algorithms     = ["SHA1"]
  tunnel1_phase2_lifetime_seconds         = 1800
  tunnel1_rekey_fuzz_percentage           = 50
  tunnel1_rekey_margin_time_seconds       = 270
  tunnel1_replay_window_size              = 512
  tunnel1_startup_action                  = "start"
  tunnel1_enable_tunnel_lifecycle_control = false

  tunnel2_inside_cidr                     = "169.254.11.0/30"
  tunnel2_preshared_key                   = "tunnel2_key_0123456789"
  tunnel2_dpd_timeout_action              = "clear"
  tunnel2_dpd_timeout_seconds             = 30
  tunnel2_ike_versions                    = ["ikev1", "ikev2"]
  tunnel2_phase1_dh_group_numbers         = [14]
  tunnel2_phase1_encryption_algorithms    = ["AES256"]
  tunnel2_phase1_integrity_algorithms     = ["SHA2-256"]
  tunnel2_phase1_lifetime_seconds         = 28800
  tunnel2_phase2_dh_group_numbers         = [14]
  tunnel2_phase2_encryption_algorithms    = ["AES256"]
  tunnel2_phase2_integrity_algorithms     = ["SHA2-256"]
  tunnel2_phase2_lifetime_seconds         = 3600
  tunnel2_rekey_fuzz_percentage           = 100
  tunnel2_rekey_margin_time_seconds       = 540
  tunnel2_replay_window_size              = 1024
  tunnel2_startup_action                  = "add"
  tunnel2_enable_tunnel_lifecycle_control = false

  tunnel1_log_options {
    cloudwatch_log_options {
      log_enabled = false
    }
  }
}

data "aws_vpn_gateway" "vgw" {
  id         = aws_vpn_gateway.vgw.id
  depends_on = [aws_vpn_gateway_attachment.vgw]
}

data "aws_customer_gateway" "router" {
  id = aws_customer_gateway.router.id
}

output "checks" {
  value = {
    vgw_asn      = data.aws_vpn_gateway.vgw.amazon_side_asn
    vgw_vpc      = data.aws_vpn_gateway.vgw.attached_vpc_id
    cgw_ip       = data.aws_customer_gateway.router.ip_address
    tunnel1      = aws_vpn_connection.plain.tunnel1_address
    tuned_inside = aws_vpn_connection.tuned.tunnel1_vgw_inside_address
  }
}
