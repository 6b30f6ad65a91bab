/* igw.c — NOT YET IMPLEMENTED: each action answers NotImplemented. */
#include "api/handlers.h"

int handle_CreateInternetGateway(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "CreateInternetGateway is not implemented yet");
}

int handle_AttachInternetGateway(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "AttachInternetGateway is not implemented yet");
}

int handle_DetachInternetGateway(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DetachInternetGateway is not implemented yet");
}

int handle_DeleteInternetGateway(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DeleteInternetGateway is not implemented yet");
}

int handle_DescribeInternetGateways(struct api_req *rq)
{
	return api_fail(rq, "NotImplemented", "DescribeInternetGateways is not implemented yet");
}

