/*
 * handlers.h — every action vpcd serves, as an X-macro list: actions.c
 * builds the dispatch table from it and each handler is defined as
 * `int handle_<Action>(struct api_req *rq)` in the file of its resource.
 * An action listed here must also be in actions.list (its wire tables).
 */
#ifndef VPCD_API_HANDLERS_H
#define VPCD_API_HANDLERS_H

#include "api/api.h"

#define API_ACTIONS(X) \
	X(AcceptVpcPeeringConnection) \
	X(AllocateAddress) \
	X(AssociateAddress) \
	X(AssociateDhcpOptions) \
	X(AssociateRouteTable) \
	X(AssociateVpcCidrBlock) \
	X(AttachInternetGateway) \
	X(AttachNetworkInterface) \
	X(AttachVpnGateway) \
	X(AuthorizeSecurityGroupEgress) \
	X(AuthorizeSecurityGroupIngress) \
	X(CreateCustomerGateway) \
	X(CreateDefaultSubnet) \
	X(CreateDefaultVpc) \
	X(CreateDhcpOptions) \
	X(CreateEgressOnlyInternetGateway) \
	X(CreateInternetGateway) \
	X(CreateManagedPrefixList) \
	X(CreateNatGateway) \
	X(CreateNetworkAcl) \
	X(CreateNetworkAclEntry) \
	X(CreateNetworkInsightsPath) \
	X(CreateNetworkInterface) \
	X(CreateRoute) \
	X(CreateRouteTable) \
	X(CreateSecurityGroup) \
	X(CreateSubnet) \
	X(CreateSubnetCidrReservation) \
	X(CreateTags) \
	X(CreateVpc) \
	X(CreateVpcEndpoint) \
	X(CreateVpcPeeringConnection) \
	X(CreateVpnConnection) \
	X(CreateVpnConnectionRoute) \
	X(CreateVpnGateway) \
	X(DeleteCustomerGateway) \
	X(DeleteDhcpOptions) \
	X(DeleteEgressOnlyInternetGateway) \
	X(DeleteInternetGateway) \
	X(DeleteManagedPrefixList) \
	X(DeleteNatGateway) \
	X(DeleteNetworkAcl) \
	X(DeleteNetworkAclEntry) \
	X(DeleteNetworkInsightsAnalysis) \
	X(DeleteNetworkInsightsPath) \
	X(DeleteNetworkInterface) \
	X(DeleteRoute) \
	X(DeleteRouteTable) \
	X(DeleteSecurityGroup) \
	X(DeleteSubnet) \
	X(DeleteSubnetCidrReservation) \
	X(DeleteTags) \
	X(DeleteVpc) \
	X(DeleteVpcEndpoints) \
	X(DeleteVpcPeeringConnection) \
	X(DeleteVpnConnection) \
	X(DeleteVpnConnectionRoute) \
	X(DeleteVpnGateway) \
	X(DescribeAccountAttributes) \
	X(DescribeAddresses) \
	X(DescribeAddressesAttribute) \
	X(DescribeAvailabilityZones) \
	X(DescribeCustomerGateways) \
	X(DescribeDhcpOptions) \
	X(DescribeEgressOnlyInternetGateways) \
	X(DescribeImages) \
	X(DescribeInstanceAttribute) \
	X(DescribeInstanceCreditSpecifications) \
	X(DescribeInstanceTypes) \
	X(DescribeInstances) \
	X(DescribeInternetGateways) \
	X(DescribeManagedPrefixLists) \
	X(DescribeNatGateways) \
	X(DescribeNetworkAcls) \
	X(DescribeNetworkInsightsAnalyses) \
	X(DescribeNetworkInsightsPaths) \
	X(DescribeNetworkInterfaces) \
	X(DescribePrefixLists) \
	X(DescribeRegions) \
	X(DescribeRouteTables) \
	X(DescribeSecurityGroupRules) \
	X(DescribeSecurityGroups) \
	X(DescribeSubnets) \
	X(DescribeTags) \
	X(DescribeVpcAttribute) \
	X(DescribeVpcEndpoints) \
	X(DescribeVpcPeeringConnections) \
	X(DescribeVpcs) \
	X(DescribeVpnConnections) \
	X(DescribeVpnGateways) \
	X(DetachInternetGateway) \
	X(DetachNetworkInterface) \
	X(DetachVpnGateway) \
	X(DisableVgwRoutePropagation) \
	X(DisassociateAddress) \
	X(DisassociateRouteTable) \
	X(DisassociateVpcCidrBlock) \
	X(EnableVgwRoutePropagation) \
	X(GetManagedPrefixListAssociations) \
	X(GetManagedPrefixListEntries) \
	X(GetSubnetCidrReservations) \
	X(GetVpnConnectionDeviceSampleConfiguration) \
	X(GetVpnConnectionDeviceTypes) \
	X(ModifyInstanceAttribute) \
	X(ModifyManagedPrefixList) \
	X(ModifyNetworkInterfaceAttribute) \
	X(ModifySecurityGroupRules) \
	X(ModifySubnetAttribute) \
	X(ModifyVpcAttribute) \
	X(ModifyVpcEndpoint) \
	X(ModifyVpcPeeringConnectionOptions) \
	X(ModifyVpcTenancy) \
	X(ModifyVpnConnectionOptions) \
	X(ModifyVpnTunnelOptions) \
	X(RejectVpcPeeringConnection) \
	X(ReleaseAddress) \
	X(ReplaceNetworkAclAssociation) \
	X(ReplaceNetworkAclEntry) \
	X(ReplaceRoute) \
	X(ReplaceRouteTableAssociation) \
	X(RevokeSecurityGroupEgress) \
	X(RevokeSecurityGroupIngress) \
	X(RunInstances) \
	X(StartInstances) \
	X(StartNetworkInsightsAnalysis) \
	X(StopInstances) \
	X(TerminateInstances) \
	X(UpdateSecurityGroupRuleDescriptionsEgress) \
	X(UpdateSecurityGroupRuleDescriptionsIngress) \
	X(VpcdDescribeDataPlane) \
	X(VpcdDescribeTunnelDetails) \
	X(VpcdTracePacket)

#define API_DECLARE_HANDLER(name) int handle_##name(struct api_req *rq);
API_ACTIONS(API_DECLARE_HANDLER)

#endif
