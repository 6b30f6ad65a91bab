/*
 * tunnel_options — the options of one VPN tunnel as AWS validates and
 * defaults them (CreateVpnConnection's Options.TunnelOptions.N,
 * ModifyVpnTunnelOptions): algorithm sets, DH groups, lifetimes, rekey,
 * replay window, DPD, startup action, the /30 inside CIDR and the
 * pre-shared key.
 *
 * Pure functions over plain data and docs: no I/O, no global state.
 * Randomness (inside CIDR pick, PSK generation) comes in through a
 * tunnel_rand_fn so tests can pin it. Never logs: to_psk is a secret;
 * error messages name the field and never echo a key.
 *
 * Call order for a request: tunnel_options_defaults(), then one
 * tunnel_options_set_*() per member given (each checks its own range),
 * then tunnel_options_validate() for the rules that tie fields together,
 * then tunnel_inside_cidr_check()/pick() and tunnel_psk_check()/generate().
 */
#ifndef VPCD_MODEL_TUNNEL_OPTIONS_H
#define VPCD_MODEL_TUNNEL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/doc.h"
#include "model/model.h"
#include "model/tunnel_limits.h"

/* Limits and defaults: model/tunnel_limits.h (the one place). */

/* Bits of to_ike_versions. */
#define TUNNEL_IKEV1	(1u << 0)
#define TUNNEL_IKEV2	(1u << 1)

/* Algorithm sets are bitmasks; bit i is tunnel_alg_name(kind, i). The bit
 * order is AWS's "lowest first" order (AES128 < AES256 < AES128-GCM-16 <
 * AES256-GCM-16; SHA1 < SHA2-256 < SHA2-384 < SHA2-512). */
enum tunnel_alg_kind { TUNNEL_ALG_ENCRYPTION, TUNNEL_ALG_INTEGRITY };

enum tunnel_dpd_action { TUNNEL_DPD_CLEAR, TUNNEL_DPD_NONE, TUNNEL_DPD_RESTART };
enum tunnel_startup_action { TUNNEL_STARTUP_ADD, TUNNEL_STARTUP_START };

struct tunnel_options {
	char to_inside_cidr[CIDR_STR_MAX];	/* "169.254.x.y/30"; "" until picked */
	char to_psk[TUNNEL_PSK_MAX + 1];	/* secret; "" until generated */
	unsigned to_ike_versions;		/* TUNNEL_IKEV1 | TUNNEL_IKEV2 */
	unsigned to_phase1_encryption;		/* bitmask, TUNNEL_ALG_ENCRYPTION */
	unsigned to_phase2_encryption;
	unsigned to_phase1_integrity;		/* bitmask, TUNNEL_ALG_INTEGRITY */
	unsigned to_phase2_integrity;
	uint32_t to_phase1_dh;			/* bit n: DH group n (2, 14-24) */
	uint32_t to_phase2_dh;			/* bit n: DH group n (2, 5, 14-24) */
	uint32_t to_phase1_lifetime_s;
	uint32_t to_phase2_lifetime_s;
	uint32_t to_rekey_margin_s;
	uint32_t to_rekey_fuzz_pct;
	uint32_t to_replay_window;
	uint32_t to_dpd_timeout_s;
	enum tunnel_dpd_action to_dpd_action;
	enum tunnel_startup_action to_startup_action;
};

/* Why a value was refused; names the field ("Phase1LifetimeSeconds"),
 * never holds a pre-shared key. */
struct tunnel_error {
	char te_msg[256];
};

/* 0 <= result < bound, uniformly; rand_uniform() in production. */
typedef uint32_t (*tunnel_rand_fn)(uint32_t bound);

/* AWS's defaults: both IKE versions, every algorithm and group, 28800 /
 * 3600 s, margin 270, fuzz 100, replay 1024, DPD 30 s clear, startup add;
 * no inside CIDR, no key. */
void tunnel_options_defaults(struct tunnel_options *to);

/* The AWS name of an algorithm bit ("AES128-GCM-16"), NULL past the end;
 * and the bit of a name, -1 when unknown (names are case-sensitive). */
const char *tunnel_alg_name(enum tunnel_alg_kind kind, unsigned bit);
int tunnel_alg_parse(enum tunnel_alg_kind kind, const char *name);
const char *tunnel_dpd_action_name(enum tunnel_dpd_action a);
const char *tunnel_startup_action_name(enum tunnel_startup_action a);

/* Setters by request member name. Each checks its own range or alphabet
 * and returns 0, or -1 with err filled (to unchanged).
 *   set_int:  Phase1LifetimeSeconds, Phase2LifetimeSeconds,
 *             RekeyMarginTimeSeconds, RekeyFuzzPercentage,
 *             ReplayWindowSize, DPDTimeoutSeconds
 *   set_str:  DPDTimeoutAction, StartupAction, TunnelInsideCidr (format
 *             and reserved ranges only; see tunnel_inside_cidr_check),
 *             PreSharedKey
 *   set_strs: Phase1EncryptionAlgorithms, Phase2EncryptionAlgorithms,
 *             Phase1IntegrityAlgorithms, Phase2IntegrityAlgorithms,
 *             IKEVersions (a given list replaces the default; non-empty)
 *   set_ints: Phase1DHGroupNumbers, Phase2DHGroupNumbers
 * An unknown field name is refused too. */
int tunnel_options_set_int(struct tunnel_options *to, const char *field, int64_t v, struct tunnel_error *err);
int tunnel_options_set_str(struct tunnel_options *to, const char *field, const char *v, struct tunnel_error *err);
int tunnel_options_set_strs(struct tunnel_options *to, const char *field, const char *const *v, size_t n,
			    struct tunnel_error *err);
int tunnel_options_set_ints(struct tunnel_options *to, const char *field, const int64_t *v, size_t n,
			    struct tunnel_error *err);

/* The rules between fields: phase 2 lifetime below phase 1, rekey margin
 * at most half of phase 2, no empty set. 0, or -1 with err. */
int tunnel_options_validate(const struct tunnel_options *to, struct tunnel_error *err);

/* Inside CIDR: a /30 network of 169.254.0.0/16, not 169.254.0.0/30 ...
 * 169.254.5.0/30 nor 169.254.169.252/30, and not one of used[] (the
 * other tunnels of the same VPN gateway). */
bool tunnel_inside_cidr_reserved(const struct cidr4 *c);
int tunnel_inside_cidr_check(const char *text, const struct cidr4 *used, size_t nused, struct tunnel_error *err);
/* Picks a free /30 at random into out (CIDR_STR_MAX). -1 when none is free. */
int tunnel_inside_cidr_pick(const struct cidr4 *used, size_t nused, tunnel_rand_fn rnd, char *out);
/* The VPN gateway's inside address (first usable) and the customer
 * gateway's (second) of a /30. */
uint32_t tunnel_inside_vgw_address(const struct cidr4 *c);
uint32_t tunnel_inside_cgw_address(const struct cidr4 *c);

/* Pre-shared key: 8-64 of [A-Za-z0-9._], not starting with '0'. */
int tunnel_psk_check(const char *psk, struct tunnel_error *err);
/* TUNNEL_PSK_GENERATED random characters of [A-Za-z0-9] (never a leading
 * '0') into out (>= TUNNEL_PSK_GENERATED + 1 bytes). */
void tunnel_psk_generate(tunnel_rand_fn rnd, char *out);

/* The TunnelOption shape of DescribeVpnConnections (keys as botocore
 * member names: TunnelInsideCidr, PreSharedKey, Phase1LifetimeSeconds, ...,
 * DpdTimeoutSeconds, Phase1EncryptionAlgorithms [{Value}], ...,
 * IkeVersions [{Value}], StartupAction), written into obj; and back.
 * from_doc reads what to_doc wrote (0), or -1 with err on a malformed doc.
 * to_doc writes PreSharedKey as a secret string (doc.h): the doc wipes it
 * when it lets go of it. */
void tunnel_options_to_doc(const struct tunnel_options *to, struct doc *obj);
int tunnel_options_from_doc(const struct doc *obj, struct tunnel_options *to, struct tunnel_error *err);

/* Wipes the key. */
void tunnel_options_wipe(struct tunnel_options *to);

#endif
