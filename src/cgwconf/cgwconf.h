/*
 * cgwconf — the customer gateway configuration of a VPN connection: the
 * customerGatewayConfiguration XML document that CreateVpnConnection and
 * DescribeVpnConnections return, and the router configuration text that
 * "Download Configuration" (GetVpnConnectionDeviceSampleConfiguration)
 * gives for a device type.
 *
 * Router configurations come from templates, one text file per device type
 * in src/cgwconf/templates/, embedded into the binary at build time; see
 * src/cgwconf/templates/README.md for the template language.  A device type
 * is listed by cgwconf_device_types() only when it has such a template.
 *
 * Pure functions over plain data: no I/O, no global state, thread-safe.
 * Never logs: the connection holds pre-shared keys, and so does the output.
 */
#ifndef VPCD_CGWCONF_H
#define VPCD_CGWCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

#define CGW_TUNNELS		2	/* every VPN connection has two */
#define CGW_ID_LEN		32	/* "vpn-0123456789abcdef0" and NUL */
#define CGW_IP_LEN		16	/* dotted quad and NUL */
#define CGW_CIDR_LEN		19	/* "255.255.255.255/32" and NUL */
#define CGW_PSK_LEN		65	/* 8 to 64 of [A-Za-z0-9._] and NUL */
#define CGW_ALG_LEN		16	/* "AES256-GCM-16" and NUL */
#define CGW_MAX_ALGS		4	/* AWS offers 4 ciphers, 4 integrities */
#define CGW_MAX_DH		16	/* phase 2 allows 2, 5, 14-24 */
#define CGW_MAX_STATIC_ROUTES	100	/* AWS's limit per connection */
#define CGW_MAX_VPC_CIDRS	50	/* IPv4 blocks of a VPC: AWS's highest quota */
#define CGW_ACTION_LEN		8	/* "restart" and NUL */
#define CGW_TYPE_LEN		16

/* Bits of ike_versions. */
#define CGW_IKEV1	(1u << 0)
#define CGW_IKEV2	(1u << 1)

/* A list of AWS algorithm names in force, e.g. {"AES128", "AES256"}:
 * encryption "AES128" "AES256" "AES128-GCM-16" "AES256-GCM-16";
 * integrity "SHA1" "SHA2-256" "SHA2-384" "SHA2-512". */
struct cgw_algs {
	unsigned	ca_n;
	char		ca_name[CGW_MAX_ALGS][CGW_ALG_LEN];
};

/* Diffie-Hellman group numbers in force, e.g. {2, 14, 15, ...}. */
struct cgw_dh_groups {
	unsigned	cd_n;
	unsigned	cd_group[CGW_MAX_DH];
};

/* One tunnel: its addresses, key and the tunnel options in force.
 * Lists may be in any order: renderers show the lowest value of each, as
 * AWS does (AES128 < AES256 < AES128-GCM-16 < AES256-GCM-16; SHA1 <
 * SHA2-256 < SHA2-384 < SHA2-512; the smallest group number). */
struct cgw_tunnel {
	char		ct_vgw_outside_ip[CGW_IP_LEN];	/* AWS end, public */
	char		ct_inside_cidr[CGW_CIDR_LEN];	/* "169.254.x.y/30": vgw .y+1, cgw .y+2 */
	char		ct_psk[CGW_PSK_LEN];		/* secret: wipe your copy */
	unsigned	ct_ike_versions;		/* CGW_IKEV1 | CGW_IKEV2 */
	struct cgw_algs	ct_phase1_encryption;
	struct cgw_algs	ct_phase1_integrity;
	struct cgw_dh_groups ct_phase1_dh;
	struct cgw_algs	ct_phase2_encryption;
	struct cgw_algs	ct_phase2_integrity;
	struct cgw_dh_groups ct_phase2_dh;
	/* Limits and defaults: model/tunnel_limits.h. */
	uint32_t	ct_phase1_lifetime_s;
	uint32_t	ct_phase2_lifetime_s;
	uint32_t	ct_rekey_margin_s;
	uint32_t	ct_rekey_fuzz_pct;
	uint32_t	ct_replay_window;
	uint32_t	ct_dpd_timeout_s;
	char		ct_dpd_action[CGW_ACTION_LEN];	/* "clear" | "none" | "restart" */
	char		ct_startup_action[CGW_ACTION_LEN]; /* "add" | "start" */
};

/* Everything a configuration shows; the API layer fills it from the store.
 * Plain data: no pointers, copy it freely (and wipe the PSKs afterwards). */
struct cgw_vpn_connection {
	char		cv_vpn_connection_id[CGW_ID_LEN];	/* "vpn-…" */
	char		cv_customer_gateway_id[CGW_ID_LEN];	/* "cgw-…" */
	char		cv_vpn_gateway_id[CGW_ID_LEN];		/* "vgw-…" */
	char		cv_type[CGW_TYPE_LEN];			/* "ipsec.1" */
	bool		cv_static_routes_only;	/* static routing, else BGP */
	uint32_t	cv_cgw_asn;		/* customer gateway BgpAsn (65000) */
	uint32_t	cv_amazon_side_asn;	/* VGW AmazonSideAsn (64512) */
	char		cv_cgw_outside_ip[CGW_IP_LEN];	/* customer gateway IpAddress */
	/* Traffic selectors: LocalIpv4NetworkCidr (customer side) and
	 * RemoteIpv4NetworkCidr (AWS side); AWS's default is 0.0.0.0/0. */
	char		cv_local_ipv4_network_cidr[CGW_CIDR_LEN];
	char		cv_remote_ipv4_network_cidr[CGW_CIDR_LEN];
	/* The associated IPv4 CIDR blocks of the VPC the VGW is attached to,
	 * primary first, for the router's routes and selectors; none when
	 * detached (templates then use the remote CIDR). */
	unsigned	cv_n_vpc_cidrs;
	char		cv_vpc_cidrs[CGW_MAX_VPC_CIDRS][CGW_CIDR_LEN];
	struct cgw_tunnel cv_tunnel[CGW_TUNNELS];
	/* The connection's static routes (customer-side prefixes). */
	unsigned	cv_n_static_routes;
	char		cv_static_routes[CGW_MAX_STATIC_ROUTES][CGW_CIDR_LEN];
	uint32_t	cv_tcp_mss;		/* TUNNEL_TCP_MSS_DEFAULT */
};

/*
 * Output goes to a struct strbuf (base/strbuf.h).  The renderers make it a
 * secret buffer (sb_secret), since what they write holds the pre-shared
 * keys: whatever it lets go of is wiped, sb_free() included.  A caller that
 * sb_detach()es the text wipes it before freeing it.
 */
enum cgw_status {
	CGW_OK = 0,
	CGW_ERR_INVALID,	/* the connection data is not usable */
	CGW_ERR_DEVICE,		/* no template for that device type id */
	CGW_ERR_IKE_VERSION,	/* version not "ikev1"/"ikev2", or not offered */
	CGW_ERR_TEMPLATE,	/* the template is broken (a bug in vpcd) */
	CGW_ERR_UNSUPPORTED,	/* the device cannot do the tunnel options in
				 * force (e.g. IKEv1 with only AES-GCM) */
};

/* Why a call failed: "tunnel 2: inside CIDR '169.254.0.1/30' is not ...",
 * "b0adb196.conf.tmpl:12: unknown variable 'tunnel.pks'".  Never holds a
 * secret. */
struct cgw_error {
	char	ce_msg[256];
};

/* AWS's defaults: type ipsec.1, ASNs 65000/64512, selectors 0.0.0.0/0,
 * every algorithm and group AWS allows, the lifetimes, rekey margin and
 * fuzz, replay window, DPD timeout and TCP MSS of model/tunnel_limits.h,
 * DPD clear, startup add, both IKE versions.  Ids, addresses and keys are
 * left empty. */
void cgwconf_connection_defaults(struct cgw_vpn_connection *conn);

/* A tunnel's options as the API keeps them (model/tunnel_options.h) into
 * what the renderers show: IKE versions, algorithm names in the API's
 * order, DH groups, lifetimes, rekey, replay window, DPD, startup action,
 * inside CIDR and the pre-shared key (a secret: wipe ct when done). The
 * outside address is the caller's. */
struct tunnel_options;
void cgwconf_tunnel_from_options(const struct tunnel_options *to, struct cgw_tunnel *ct);

/* Checks what the renderers rely on (addresses, /30 inside CIDRs in
 * 169.254.0.0/16, non-empty lists of known algorithm names, PSK alphabet). */
enum cgw_status cgwconf_validate(const struct cgw_vpn_connection *conn,
    struct cgw_error *err);

/* Appends the customerGatewayConfiguration document (with its XML
 * declaration) to out.  err may be NULL. */
enum cgw_status cgwconf_render_xml(const struct cgw_vpn_connection *conn,
    struct strbuf *out, struct cgw_error *err);

/* A device type that has a real template; strings as AWS spells them in
 * GetVpnConnectionDeviceTypes.  Static storage, owned by the library. */
struct cgw_device_type {
	const char	*dt_id;		/* VpnConnectionDeviceTypeId, "b0adb196" */
	const char	*dt_vendor;
	const char	*dt_platform;
	const char	*dt_software;
	unsigned	 dt_ike_versions;	/* what the template can render */
};

/* Every device type with a template, sorted by vendor, platform and
 * software.  *count receives the number of entries. */
const struct cgw_device_type *cgwconf_device_types(size_t *count);
/* NULL when id has no template. */
const struct cgw_device_type *cgwconf_device_type_find(const char *id);

/* Appends the router configuration for device_type_id.  ike_version is
 * "ikev1", "ikev2" or NULL (ikev1 when both tunnels and the device allow
 * it, else ikev2).  err may be NULL.  On failure out may hold a partial
 * text: discard it. */
enum cgw_status cgwconf_render_device(const struct cgw_vpn_connection *conn,
    const char *device_type_id, const char *ike_version,
    struct strbuf *out, struct cgw_error *err);

/* Renders template text that is not embedded (tests, a future "template
 * directory" option).  name is used in error messages; first_line is the
 * line number of text's first line in its file. */
enum cgw_status cgwconf_render_template(const struct cgw_vpn_connection *conn,
    const char *name, unsigned first_line, const char *text,
    const char *ike_version, struct strbuf *out, struct cgw_error *err);

#endif
