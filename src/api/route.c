/* route.c — NOT YET IMPLEMENTED: each action answers NotImplemented. */
#include "api/handlers.h"

int handle_CreateRouteTable(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "CreateRouteTable is not implemented yet");
}

int handle_DescribeRouteTables(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DescribeRouteTables is not implemented yet");
}

int handle_DeleteRouteTable(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DeleteRouteTable is not implemented yet");
}

int handle_AssociateRouteTable(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "AssociateRouteTable is not implemented yet");
}

int handle_DisassociateRouteTable(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DisassociateRouteTable is not implemented yet");
}

int handle_ReplaceRouteTableAssociation(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "ReplaceRouteTableAssociation is not implemented yet");
}

int handle_CreateRoute(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "CreateRoute is not implemented yet");
}

int handle_ReplaceRoute(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "ReplaceRoute is not implemented yet");
}

int handle_DeleteRoute(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DeleteRoute is not implemented yet");
}

