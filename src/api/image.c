/*
 * image.c — DescribeImages: the machine images vpcd offers. They are not
 * disks but recipes for what an instance is on this host (the data plane
 * reads the instance's ImageId):
 *
 *   vpcd-linux      a new network namespace named after the instance id,
 *                   whose eth0 is the ENI (a TAP device held by vpcd);
 *                   processes run in it with `vpcctl instance exec`.
 *   vpcd-join-netns the ENI joins a network namespace that already exists
 *                   (a container's), named by the instance's tag
 *                   "vpcd:netns"; vpcd never creates nor removes it.
 *
 * The images are constants; they enter the cache (and the store, so that
 * CreateTags on them lasts) the first time an action needs them, so that
 * Describe's filters and paging are the shared ones. Owner: "amazon".
 */
#include "api/eni.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define IMAGE_OWNER_ID "137112412989"	/* the owner id AWS's own images carry */
#define IMAGE_CREATION_DATE "2026-01-01T00:00:00.000Z"

static const struct {
	const char *id, *name, *description;
} images[] = {
	{ "ami-0c0dd0e0a0b0c0d01", "vpcd-linux",
	  "vpcd Linux: a network namespace per instance, eth0 is the ENI" },
	{ "ami-0c0dd0e0a0b0c0d02", "vpcd-join-netns",
	  "vpcd: the ENI joins the existing network namespace named by the tag vpcd:netns" },
};

static struct doc *image_doc(size_t i)
{
	struct doc *d = doc_obj();
	doc_set_str(d, "ImageId", images[i].id);
	doc_set_str(d, "Name", images[i].name);
	doc_set_str(d, "Description", images[i].description);
	doc_set_str(d, "ImageLocation", images[i].name);
	doc_set_str(d, "State", "available");
	doc_set_str(d, "OwnerId", IMAGE_OWNER_ID);
	doc_set_str(d, "ImageOwnerAlias", "amazon");
	doc_set_bool(d, "Public", true);
	doc_set_str(d, "CreationDate", IMAGE_CREATION_DATE);
	doc_set_str(d, "Architecture", "x86_64");
	doc_set_str(d, "ImageType", "machine");
	doc_set_str(d, "PlatformDetails", "Linux/UNIX");
	doc_set_str(d, "UsageOperation", "RunInstances");
	doc_set_str(d, "RootDeviceType", "ebs");
	doc_set_str(d, "RootDeviceName", "/dev/xvda");
	doc_set_str(d, "VirtualizationType", "hvm");
	doc_set_str(d, "Hypervisor", "xen");
	doc_set_bool(d, "EnaSupport", true);
	doc_set_str(d, "BootMode", "uefi-preferred");
	doc_get_list(d, "BlockDeviceMappings");
	doc_get_list(d, "ProductCodes");
	doc_get_list(d, "Tags");
	return d;
}

/* An offered image, whatever the region view: the images are the same in
 * every region (the engine knows them by id), stored once, in the region
 * that used them first. */
static struct res *image_get(struct api_req *rq, const char *id)
{
	struct res *r = cache_get_any(api_cache(rq), id);
	return r && strcmp(r->r_type, RT_IMAGE) == 0 ? r : NULL;
}

/* Puts the offered images into the cache when they are not there yet. */
static int images_ensure(struct api_req *rq)
{
	for (size_t i = 0; i < ARRAY_LEN(images); i++)
		if (!image_get(rq, images[i].id) &&
		    !api_put(rq, RT_IMAGE, images[i].id, image_doc(i)))
			return -1;
	return 0;
}

static bool image_id_wellformed(const char *id)
{
	if (strncmp(id, "ami-", 4) != 0 || !id[4])
		return false;
	for (const char *p = id + 4; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

struct res *image_require(struct api_req *rq, const char *image_id)
{
	if (images_ensure(rq) < 0)
		return NULL;
	if (!image_id || !*image_id) {
		api_fail(rq, "MissingParameter", "The request must contain the parameter ImageId");
		return NULL;
	}
	if (!image_id_wellformed(image_id)) {
		api_fail(rq, "InvalidAMIID.Malformed", "Invalid id: \"%.64s\" (expecting \"ami-...\")", image_id);
		return NULL;
	}
	struct res *r = image_get(rq, image_id);
	if (!r)
		api_fail(rq, "InvalidAMIID.NotFound", "The image id '[%.64s]' does not exist", image_id);
	return r;
}

static const struct filter_def image_filters[] = {
	{ "architecture", "Architecture" },
	{ "description", "Description" },
	{ "hypervisor", "Hypervisor" },
	{ "image-id", "ImageId" },
	{ "image-type", "ImageType" },
	{ "is-public", "Public" },
	{ "manifest-location", "ImageLocation" },
	{ "name", "Name" },
	{ "owner-alias", "ImageOwnerAlias" },
	{ "platform-details", "PlatformDetails" },
	{ "root-device-name", "RootDeviceName" },
	{ "root-device-type", "RootDeviceType" },
	{ "state", "State" },
	{ "virtualization-type", "VirtualizationType" },
	{ NULL, NULL },
};

int handle_DescribeImages(struct api_req *rq)
{
	if (images_ensure(rq) < 0)
		return -1;
	doc_foreach(id, doc_get(rq->rq_in, "ImageIds"))
		if (id->d_type == DOC_STR && !image_id_wellformed(id->d_str))
			return api_fail(rq, "InvalidAMIID.Malformed", "Invalid id: \"%.64s\" (expecting \"ami-...\")", id->d_str);
	/* Owners: "amazon" and the images' owner id name them; "self" and
	 * other accounts own none. */
	const struct doc *owners = doc_get(rq->rq_in, "Owners");
	if (owners && owners->d_count) {
		struct doc *f = doc_push(doc_get_list(rq->rq_in, "Filters"), doc_obj());
		doc_set_str(f, "Name", "owner-id");
		struct doc *values = doc_get_list(f, "Values");
		doc_foreach(o, owners)
			if (o->d_type == DOC_STR)
				doc_push(values, doc_str(strcmp(o->d_str, "amazon") == 0 ? IMAGE_OWNER_ID : o->d_str));
	}
	doc_foreach(u, doc_get(rq->rq_in, "ExecutableUsers"))
		if (u->d_type == DOC_STR && strcmp(u->d_str, "all") != 0 && strcmp(u->d_str, "self") != 0)
			return api_fail(rq, "InvalidUserID.Malformed", "Invalid user id: \"%.64s\"", u->d_str);
	static const struct describe_spec spec = {
		RT_IMAGE, "ImageIds", "InvalidAMIID.NotFound", "image", image_filters, "Images", true, 5, 1000, NULL,
	};
	/* every region's view shows the images, wherever they are stored */
	struct cache *c = api_cache(rq);
	char view[64] = "";
	if (cache_region(c))
		snprintf(view, sizeof(view), "%s", cache_region(c));
	cache_set_region(c, NULL);
	int rc = api_describe(rq, &spec);
	cache_set_region(c, view[0] ? view : NULL);
	return rc;
}
