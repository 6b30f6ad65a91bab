/* nacl.c — NOT YET IMPLEMENTED: each action answers NotImplemented. */
#include "api/handlers.h"

int handle_CreateNetworkAcl(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "CreateNetworkAcl is not implemented yet");
}

int handle_DescribeNetworkAcls(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DescribeNetworkAcls is not implemented yet");
}

int handle_DeleteNetworkAcl(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DeleteNetworkAcl is not implemented yet");
}

int handle_CreateNetworkAclEntry(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "CreateNetworkAclEntry is not implemented yet");
}

int handle_ReplaceNetworkAclEntry(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "ReplaceNetworkAclEntry is not implemented yet");
}

int handle_DeleteNetworkAclEntry(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DeleteNetworkAclEntry is not implemented yet");
}

int handle_ReplaceNetworkAclAssociation(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "ReplaceNetworkAclAssociation is not implemented yet");
}

