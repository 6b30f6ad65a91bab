/* sg.c — NOT YET IMPLEMENTED: each action answers NotImplemented. */
#include "api/handlers.h"

int handle_CreateSecurityGroup(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "CreateSecurityGroup is not implemented yet");
}

int handle_DescribeSecurityGroups(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DescribeSecurityGroups is not implemented yet");
}

int handle_DeleteSecurityGroup(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DeleteSecurityGroup is not implemented yet");
}

int handle_AuthorizeSecurityGroupIngress(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "AuthorizeSecurityGroupIngress is not implemented yet");
}

int handle_AuthorizeSecurityGroupEgress(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "AuthorizeSecurityGroupEgress is not implemented yet");
}

int handle_RevokeSecurityGroupIngress(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "RevokeSecurityGroupIngress is not implemented yet");
}

int handle_RevokeSecurityGroupEgress(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "RevokeSecurityGroupEgress is not implemented yet");
}

int handle_DescribeSecurityGroupRules(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DescribeSecurityGroupRules is not implemented yet");
}

