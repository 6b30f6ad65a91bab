/*
 * fuzz_frame — hostile frames from instances into the data plane, as the
 * router thread handles a frame read from an ENI's TAP (router.c's
 * eni_rx): the virtio_net_hdr a TAP with offloads puts before it, the
 * Ethernet/ARP/IPv4/L4 parse (frame.c), the whole decision (path.c: source
 * checks, NACLs, security groups with connection tracking, routes,
 * fragments, ICMP errors), and what follows a verdict: the ARP reply,
 * checksum completion, software TSO cut into segments, the igw's 1:1 NAT
 * rewrite. Nothing may read or write outside the frame, whatever it says.
 *
 * Input: a sequence of frames, each [flags][len hi][len lo][bytes] (len
 * clipped to what is left): flags bits 0-1 pick the sending ENI (of the
 * net unit tests' fixture, tests/net/fixture.h), bit 2 says the first 10
 * bytes are a virtio_net_hdr. The frames of one input share a connection
 * table (a reply finds its flow), which starts empty for every input.
 *
 * libFuzzer target with clang; with gcc it links tests/fuzz/replay_main.c
 * and replays tests/fuzz/corpus/frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"
#include "fixture.h"
#include "frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct net_snapshot *snap;
/* one TSO segment */
static uint8_t seg[NET_FRAME_MAX];

static void setup(void)
{
	static const struct net_port_ops none = { NULL, NULL };
	static struct fixture fx;
	char err[128];
	fixture_init(&fx, &none, NULL, -1);
	snap = net_snapshot_build(&fx.cfg, err, sizeof(err));
	if (!snap) {
		fprintf(stderr, "fuzz_frame: snapshot: %s\n", err);
		abort();
	}
}

/* What router.c does after the decision, minus the writes. */
static void after_verdict(uint8_t *f, struct pkt_meta *m, const struct verdict *v,
			  const struct vnet_hdr *vh)
{
	switch (v->v_kind) {
	case V_ARP_REPLY: {
		uint8_t reply[64];
		uint8_t sha[6];
		memcpy(sha, f + 22, 6);
		arp_build_reply(reply, test_router_mac, m->pm_dst, sha, m->pm_src);
		break;
	}
	case V_TO_ENI:
	case V_TO_PORT:
		if (vh && (vh->vh_gso_type & ~VNET_GSO_ECN) != VNET_GSO_NONE) {
			struct gso_tcp_iter it;
			if (!tso_init(&it, f, m, vh->vh_gso_size))
				break;
			uint32_t sl;
			for (int k = 0; k < 100000 && (sl = gso_tcp_next(&it, seg)) > 0; k++) {
				struct pkt_meta sm;
				if (v->v_kind == V_TO_PORT &&
				    ipv4_parse(seg, sl, ETH_HLEN_, &sm) == FRAME_IPV4 && v->v_nat_src)
					ipv4_rewrite_src(seg, &sm, v->v_nat_src);
			}
			break;
		}
		if (vh)
			vnet_csum_complete(f, m, vh);
		if (v->v_kind == V_TO_PORT && m->pm_ip_len <= NET_PKT_MAX && v->v_nat_src)
			ipv4_rewrite_src(f, m, v->v_nat_src);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!snap)
		setup();
	struct conntrack ct;
	if (ct_init(&ct, 64) != 0)
		return 0;
	uint64_t now = 1000;
	while (size >= 3) {
		uint8_t flags = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		uint32_t eni = (flags & 3) % 3;
		const uint8_t *frame = data;
		size_t flen = len;
		struct vnet_hdr vh;
		bool have_vh = false;
		if ((flags & 4) && flen >= VNET_HDR_MIN) {
			vnet_hdr_read(frame, &vh);
			have_vh = true;
			frame += VNET_HDR_MIN;
			flen -= VNET_HDR_MIN;
		}
		if (flen > NET_GSO_FRAME_MAX)
			flen = NET_GSO_FRAME_MAX;
		/* an exact-size heap copy: ASan sees any read past its end */
		uint8_t *f = malloc(flen ? flen : 1);
		if (!f)
			break;
		memcpy(f, frame, flen);
		struct pkt_meta m;
		struct verdict v;
		path_from_eni(snap, &ct, test_router_mac, eni, f, (uint32_t)flen, now, &m, &v);
		const struct vnet_hdr *vhp = NULL;
		if (have_vh && (v.v_kind == V_TO_ENI || v.v_kind == V_TO_PORT) &&
		    vnet_hdr_check(&vh, &m))
			vhp = &vh;
		if (v.v_kind == V_ARP_REPLY && flen < 28)
			abort();	/* an ARP reply needs the request's sender address */
		if (!(have_vh && !vhp && (v.v_kind == V_TO_ENI || v.v_kind == V_TO_PORT)))
			after_verdict(f, &m, &v, vhp);
		free(f);
		data += len;
		size -= len;
		now += 100;
	}
	ct_free(&ct);
	return 0;
}
