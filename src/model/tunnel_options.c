/*
 * tunnel_options.c — validation and defaults of VPN tunnel options
 * (tunnel_options.h). Tables first, then setters by field name, the rules
 * between fields, inside CIDRs, keys, and the doc form.
 * Never logs, never puts a key into an error message.
 */
#include "model/tunnel_options.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

static const char *const encryption_names[TUNNEL_ALGS_PER_KIND] = { TUNNEL_ENCRYPTION_NAMES };
static const char *const integrity_names[TUNNEL_ALGS_PER_KIND] = { TUNNEL_INTEGRITY_NAMES };
static const unsigned dh_groups[] = { TUNNEL_DH_GROUPS };

/* The DH groups AWS allows in a phase, as a bitmask (bit n = group n). */
static uint32_t dh_allowed(bool phase1)
{
	uint32_t bits = 0;
	for (size_t i = 0; i < ARRAY_LEN(dh_groups); i++)
		if (!(phase1 && dh_groups[i] == TUNNEL_DH_PHASE2_ONLY))
			bits |= 1u << dh_groups[i];
	return bits;
}

#define DH_BIT(n) (1u << (n))
#define ALL_ALGS ((1u << TUNNEL_ALGS_PER_KIND) - 1)

/* 169.254.0.0/16, and the /30s AWS keeps for itself. */
#define LINK_LOCAL_NET TUNNEL_INSIDE_NET
#define LINK_LOCAL_LEN TUNNEL_INSIDE_NET_PREFIX
#define INSIDE_BLOCKS (1u << (TUNNEL_INSIDE_PREFIX - LINK_LOCAL_LEN))	/* 16384 /30s */
static const uint32_t inside_reserved[] = { TUNNEL_INSIDE_RESERVED };

static const char psk_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static int fail(struct tunnel_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct tunnel_error *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->te_msg, sizeof(err->te_msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void tunnel_options_defaults(struct tunnel_options *to)
{
	memset(to, 0, sizeof(*to));
	to->to_ike_versions = TUNNEL_IKEV1 | TUNNEL_IKEV2;
	to->to_phase1_encryption = to->to_phase2_encryption = ALL_ALGS;
	to->to_phase1_integrity = to->to_phase2_integrity = ALL_ALGS;
	to->to_phase1_dh = dh_allowed(true);
	to->to_phase2_dh = dh_allowed(false);
	to->to_phase1_lifetime_s = TUNNEL_PHASE1_LIFETIME_DEFAULT;
	to->to_phase2_lifetime_s = TUNNEL_PHASE2_LIFETIME_DEFAULT;
	to->to_rekey_margin_s = TUNNEL_REKEY_MARGIN_DEFAULT;
	to->to_rekey_fuzz_pct = TUNNEL_REKEY_FUZZ_DEFAULT;
	to->to_replay_window = TUNNEL_REPLAY_WINDOW_DEFAULT;
	to->to_dpd_timeout_s = TUNNEL_DPD_TIMEOUT_DEFAULT;
	to->to_dpd_action = TUNNEL_DPD_CLEAR;
	to->to_startup_action = TUNNEL_STARTUP_ADD;
}

const char *tunnel_alg_name(enum tunnel_alg_kind kind, unsigned bit)
{
	if (bit >= TUNNEL_ALGS_PER_KIND)
		return NULL;
	return kind == TUNNEL_ALG_ENCRYPTION ? encryption_names[bit] : integrity_names[bit];
}

int tunnel_alg_parse(enum tunnel_alg_kind kind, const char *name)
{
	for (unsigned i = 0; name && i < TUNNEL_ALGS_PER_KIND; i++)
		if (strcmp(tunnel_alg_name(kind, i), name) == 0)
			return (int)i;
	return -1;
}

static const char *const dpd_action_names[] = { TUNNEL_DPD_ACTION_NAMES };
static const char *const startup_action_names[] = { "add", "start" };

const char *tunnel_dpd_action_name(enum tunnel_dpd_action a)
{
	return (unsigned)a < ARRAY_LEN(dpd_action_names) ? dpd_action_names[a] : "clear";
}

const char *tunnel_startup_action_name(enum tunnel_startup_action a)
{
	return (unsigned)a < ARRAY_LEN(startup_action_names) ? startup_action_names[a] : "add";
}

/* --- setters ----------------------------------------------------------------- */

/* Integer fields: request member, response member, bounds, where. */
static const struct int_field {
	const char *if_field;
	const char *if_key;
	uint32_t if_min, if_max;
	size_t if_offset;
} int_fields[] = {
	{ "Phase1LifetimeSeconds", "Phase1LifetimeSeconds", TUNNEL_PHASE1_LIFETIME_MIN, TUNNEL_PHASE1_LIFETIME_MAX,
	  offsetof(struct tunnel_options, to_phase1_lifetime_s) },
	{ "Phase2LifetimeSeconds", "Phase2LifetimeSeconds", TUNNEL_PHASE2_LIFETIME_MIN, TUNNEL_PHASE2_LIFETIME_MAX,
	  offsetof(struct tunnel_options, to_phase2_lifetime_s) },
	/* the upper bound (half of phase 2) is checked by tunnel_options_validate */
	{ "RekeyMarginTimeSeconds", "RekeyMarginTimeSeconds", TUNNEL_REKEY_MARGIN_MIN, TUNNEL_PHASE2_LIFETIME_MAX / 2,
	  offsetof(struct tunnel_options, to_rekey_margin_s) },
	{ "RekeyFuzzPercentage", "RekeyFuzzPercentage", 0, TUNNEL_REKEY_FUZZ_MAX,
	  offsetof(struct tunnel_options, to_rekey_fuzz_pct) },
	{ "ReplayWindowSize", "ReplayWindowSize", TUNNEL_REPLAY_WINDOW_MIN, TUNNEL_REPLAY_WINDOW_MAX,
	  offsetof(struct tunnel_options, to_replay_window) },
	{ "DPDTimeoutSeconds", "DpdTimeoutSeconds", TUNNEL_DPD_TIMEOUT_MIN, TUNNEL_DPD_TIMEOUT_MAX,
	  offsetof(struct tunnel_options, to_dpd_timeout_s) },
};

int tunnel_options_set_int(struct tunnel_options *to, const char *field, int64_t v, struct tunnel_error *err)
{
	for (size_t i = 0; i < ARRAY_LEN(int_fields); i++) {
		const struct int_field *f = &int_fields[i];
		if (strcmp(f->if_field, field) != 0)
			continue;
		if (v < f->if_min || v > f->if_max)
			return fail(err, "Invalid value (%" PRId64 ") for %s: expecting %" PRIu32 " to %" PRIu32, v,
				    f->if_field, f->if_min, f->if_max);
		*(uint32_t *)((char *)to + f->if_offset) = (uint32_t)v;
		return 0;
	}
	return fail(err, "Unknown tunnel option %.64s", field);
}

static int name_index(const char *const *names, size_t n, const char *v)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(names[i], v) == 0)
			return (int)i;
	return -1;
}

int tunnel_options_set_str(struct tunnel_options *to, const char *field, const char *v, struct tunnel_error *err)
{
	if (!v)
		v = "";
	if (strcmp(field, "DPDTimeoutAction") == 0) {
		int i = name_index(dpd_action_names, ARRAY_LEN(dpd_action_names), v);
		if (i < 0)
			return fail(err, "Invalid value (%.32s) for DPDTimeoutAction: expecting clear, none or restart", v);
		to->to_dpd_action = (enum tunnel_dpd_action)i;
		return 0;
	}
	if (strcmp(field, "StartupAction") == 0) {
		int i = name_index(startup_action_names, ARRAY_LEN(startup_action_names), v);
		if (i < 0)
			return fail(err, "Invalid value (%.32s) for StartupAction: expecting add or start", v);
		to->to_startup_action = (enum tunnel_startup_action)i;
		return 0;
	}
	if (strcmp(field, "TunnelInsideCidr") == 0) {
		if (tunnel_inside_cidr_check(v, NULL, 0, err) < 0)
			return -1;
		struct cidr4 c;
		cidr_parse(v, &c, NULL);
		cidr_format(&c, to->to_inside_cidr);
		return 0;
	}
	if (strcmp(field, "PreSharedKey") == 0) {
		if (tunnel_psk_check(v, err) < 0)
			return -1;
		snprintf(to->to_psk, sizeof(to->to_psk), "%s", v);
		return 0;
	}
	return fail(err, "Unknown tunnel option %.64s", field);
}

int tunnel_options_set_strs(struct tunnel_options *to, const char *field, const char *const *v, size_t n,
			    struct tunnel_error *err)
{
	unsigned *set = NULL;
	enum tunnel_alg_kind kind = TUNNEL_ALG_ENCRYPTION;
	bool ike = false;
	if (strcmp(field, "Phase1EncryptionAlgorithms") == 0) {
		set = &to->to_phase1_encryption;
	} else if (strcmp(field, "Phase2EncryptionAlgorithms") == 0) {
		set = &to->to_phase2_encryption;
	} else if (strcmp(field, "Phase1IntegrityAlgorithms") == 0) {
		set = &to->to_phase1_integrity;
		kind = TUNNEL_ALG_INTEGRITY;
	} else if (strcmp(field, "Phase2IntegrityAlgorithms") == 0) {
		set = &to->to_phase2_integrity;
		kind = TUNNEL_ALG_INTEGRITY;
	} else if (strcmp(field, "IKEVersions") == 0) {
		set = &to->to_ike_versions;
		ike = true;
	} else {
		return fail(err, "Unknown tunnel option %.64s", field);
	}
	if (n == 0)
		return fail(err, "Invalid value for %s: the list must not be empty", field);
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int b;
		if (ike) {
			b = v[i] && strcmp(v[i], "ikev1") == 0 ? 0 : v[i] && strcmp(v[i], "ikev2") == 0 ? 1 : -1;
			if (b < 0)
				return fail(err, "Invalid value (%.32s) for IKEVersions: expecting ikev1 or ikev2",
					    v[i] ? v[i] : "");
		} else if ((b = tunnel_alg_parse(kind, v[i])) < 0) {
			return fail(err, "Invalid value (%.32s) for %s: expecting %s", v[i] ? v[i] : "", field,
				    kind == TUNNEL_ALG_ENCRYPTION ? "AES128, AES256, AES128-GCM-16 or AES256-GCM-16"
								  : "SHA1, SHA2-256, SHA2-384 or SHA2-512");
		}
		bits |= 1u << b;
	}
	*set = bits;
	return 0;
}

int tunnel_options_set_ints(struct tunnel_options *to, const char *field, const int64_t *v, size_t n,
			    struct tunnel_error *err)
{
	uint32_t *set, allowed;
	const char *allowed_text;
	if (strcmp(field, "Phase1DHGroupNumbers") == 0) {
		set = &to->to_phase1_dh;
		allowed = dh_allowed(true);
		allowed_text = "2, 14-24";
	} else if (strcmp(field, "Phase2DHGroupNumbers") == 0) {
		set = &to->to_phase2_dh;
		allowed = dh_allowed(false);
		allowed_text = "2, 5, 14-24";
	} else {
		return fail(err, "Unknown tunnel option %.64s", field);
	}
	if (n == 0)
		return fail(err, "Invalid value for %s: the list must not be empty", field);
	uint32_t bits = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0 || v[i] > 31 || !(allowed & DH_BIT(v[i])))
			return fail(err, "Invalid value (%" PRId64 ") for %s: expecting %s", v[i], field, allowed_text);
		bits |= DH_BIT(v[i]);
	}
	*set = bits;
	return 0;
}

int tunnel_options_validate(const struct tunnel_options *to, struct tunnel_error *err)
{
	if (to->to_phase2_lifetime_s >= to->to_phase1_lifetime_s)
		return fail(err, "Invalid value (%" PRIu32 ") for Phase2LifetimeSeconds: must be less than Phase1LifetimeSeconds (%" PRIu32 ")",
			    to->to_phase2_lifetime_s, to->to_phase1_lifetime_s);
	if (to->to_rekey_margin_s < TUNNEL_REKEY_MARGIN_MIN || to->to_rekey_margin_s > to->to_phase2_lifetime_s / 2)
		return fail(err, "Invalid value (%" PRIu32 ") for RekeyMarginTimeSeconds: expecting %d to half of Phase2LifetimeSeconds (%" PRIu32 ")",
			    to->to_rekey_margin_s, TUNNEL_REKEY_MARGIN_MIN, to->to_phase2_lifetime_s / 2);
	if (!to->to_ike_versions || (to->to_ike_versions & ~(TUNNEL_IKEV1 | TUNNEL_IKEV2)))
		return fail(err, "Invalid value for IKEVersions: expecting ikev1, ikev2 or both");
	if (!to->to_phase1_encryption || (to->to_phase1_encryption & ~ALL_ALGS))
		return fail(err, "Invalid value for Phase1EncryptionAlgorithms");
	if (!to->to_phase2_encryption || (to->to_phase2_encryption & ~ALL_ALGS))
		return fail(err, "Invalid value for Phase2EncryptionAlgorithms");
	if (!to->to_phase1_integrity || (to->to_phase1_integrity & ~ALL_ALGS))
		return fail(err, "Invalid value for Phase1IntegrityAlgorithms");
	if (!to->to_phase2_integrity || (to->to_phase2_integrity & ~ALL_ALGS))
		return fail(err, "Invalid value for Phase2IntegrityAlgorithms");
	if (!to->to_phase1_dh || (to->to_phase1_dh & ~dh_allowed(true)))
		return fail(err, "Invalid value for Phase1DHGroupNumbers");
	if (!to->to_phase2_dh || (to->to_phase2_dh & ~dh_allowed(false)))
		return fail(err, "Invalid value for Phase2DHGroupNumbers");
	return 0;
}

/* --- inside CIDRs ------------------------------------------------------------ */

bool tunnel_inside_cidr_reserved(const struct cidr4 *c)
{
	for (size_t i = 0; i < ARRAY_LEN(inside_reserved); i++)
		if (c->c_addr == inside_reserved[i])
			return true;
	return false;
}

static bool inside_used(uint32_t net, const struct cidr4 *used, size_t nused)
{
	for (size_t i = 0; i < nused; i++)
		if ((used[i].c_addr & cidr_mask(TUNNEL_INSIDE_PREFIX)) == net)
			return true;
	return false;
}

int tunnel_inside_cidr_check(const char *text, const struct cidr4 *used, size_t nused, struct tunnel_error *err)
{
	struct cidr4 c;
	bool host_bits;
	const struct cidr4 link_local = { LINK_LOCAL_NET, LINK_LOCAL_LEN };
	if (!text || !cidr_parse(text, &c, &host_bits))
		return fail(err, "Invalid value (%.32s) for TunnelInsideCidr: not a CIDR block", text ? text : "");
	if (c.c_len != TUNNEL_INSIDE_PREFIX || host_bits || !cidr_contains(&link_local, &c))
		return fail(err, "Invalid value (%.32s) for TunnelInsideCidr: expecting a /30 network in 169.254.0.0/16", text);
	if (tunnel_inside_cidr_reserved(&c))
		return fail(err, "Invalid value (%.32s) for TunnelInsideCidr: 169.254.0.0/30 to 169.254.5.0/30 and 169.254.169.252/30 are reserved",
			    text);
	if (inside_used(c.c_addr, used, nused))
		return fail(err, "Invalid value (%.32s) for TunnelInsideCidr: already used by another tunnel of this VPN gateway",
			    text);
	return 0;
}

int tunnel_inside_cidr_pick(const struct cidr4 *used, size_t nused, tunnel_rand_fn rnd, char *out)
{
	uint32_t nfree = 0;
	for (uint32_t i = 0; i < INSIDE_BLOCKS; i++) {
		struct cidr4 c = { LINK_LOCAL_NET | (i << 2), TUNNEL_INSIDE_PREFIX };
		if (!tunnel_inside_cidr_reserved(&c) && !inside_used(c.c_addr, used, nused))
			nfree++;
	}
	if (nfree == 0)
		return -1;
	uint32_t k = (rnd ? rnd : rand_uniform)(nfree);
	for (uint32_t i = 0; i < INSIDE_BLOCKS; i++) {
		struct cidr4 c = { LINK_LOCAL_NET | (i << 2), TUNNEL_INSIDE_PREFIX };
		if (tunnel_inside_cidr_reserved(&c) || inside_used(c.c_addr, used, nused))
			continue;
		if (k-- == 0) {
			cidr_format(&c, out);
			return 0;
		}
	}
	return -1;	/* not reached: k < nfree */
}

uint32_t tunnel_inside_vgw_address(const struct cidr4 *c) { return (c->c_addr & cidr_mask(c->c_len)) + 1; }
uint32_t tunnel_inside_cgw_address(const struct cidr4 *c) { return (c->c_addr & cidr_mask(c->c_len)) + 2; }

/* --- pre-shared keys ------------------------------------------------------- */

int tunnel_psk_check(const char *psk, struct tunnel_error *err)
{
	size_t len = psk ? strlen(psk) : 0;
	if (len < TUNNEL_PSK_MIN || len > TUNNEL_PSK_MAX)
		return fail(err, "Invalid value for PreSharedKey: expecting %d to %d characters, got %zu", TUNNEL_PSK_MIN,
			    TUNNEL_PSK_MAX, len);
	if (strspn(psk, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._") != len)
		return fail(err, "Invalid value for PreSharedKey: only letters, digits, periods (.) and underscores (_) are allowed");
	if (psk[0] == '0')
		return fail(err, "Invalid value for PreSharedKey: it cannot start with zero (0)");
	return 0;
}

void tunnel_psk_generate(tunnel_rand_fn rnd, char *out)
{
	if (!rnd)
		rnd = rand_uniform;
	const uint32_t alen = (uint32_t)(sizeof(psk_alphabet) - 1);
	for (size_t i = 0; i < TUNNEL_PSK_GENERATED; i++) {
		char ch;
		do
			ch = psk_alphabet[rnd(alen)];
		while (i == 0 && ch == '0');
		out[i] = ch;
	}
	out[TUNNEL_PSK_GENERATED] = '\0';
}

void tunnel_options_wipe(struct tunnel_options *to)
{
	secret_wipe(to->to_psk, sizeof(to->to_psk));
}

/* --- doc form ----------------------------------------------------------------- */

static void algs_to_doc(struct doc *obj, const char *key, enum tunnel_alg_kind kind, unsigned bits)
{
	struct doc *list = doc_set(obj, key, doc_list());
	for (unsigned i = 0; i < TUNNEL_ALGS_PER_KIND; i++)
		if (bits & (1u << i))
			doc_set_str(doc_push(list, doc_obj()), "Value", tunnel_alg_name(kind, i));
}

static void dh_to_doc(struct doc *obj, const char *key, uint32_t bits)
{
	struct doc *list = doc_set(obj, key, doc_list());
	for (unsigned g = 0; g < 32; g++)
		if (bits & DH_BIT(g))
			doc_set_int(doc_push(list, doc_obj()), "Value", g);
}

void tunnel_options_to_doc(const struct tunnel_options *to, struct doc *obj)
{
	if (to->to_inside_cidr[0])
		doc_set_str(obj, "TunnelInsideCidr", to->to_inside_cidr);
	if (to->to_psk[0])
		doc_set_secret_str(obj, "PreSharedKey", to->to_psk);	/* wiped when the doc lets go of it */
	for (size_t i = 0; i < ARRAY_LEN(int_fields); i++)
		doc_set_int(obj, int_fields[i].if_key, *(const uint32_t *)((const char *)to + int_fields[i].if_offset));
	doc_set_str(obj, "DpdTimeoutAction", tunnel_dpd_action_name(to->to_dpd_action));
	algs_to_doc(obj, "Phase1EncryptionAlgorithms", TUNNEL_ALG_ENCRYPTION, to->to_phase1_encryption);
	algs_to_doc(obj, "Phase2EncryptionAlgorithms", TUNNEL_ALG_ENCRYPTION, to->to_phase2_encryption);
	algs_to_doc(obj, "Phase1IntegrityAlgorithms", TUNNEL_ALG_INTEGRITY, to->to_phase1_integrity);
	algs_to_doc(obj, "Phase2IntegrityAlgorithms", TUNNEL_ALG_INTEGRITY, to->to_phase2_integrity);
	dh_to_doc(obj, "Phase1DHGroupNumbers", to->to_phase1_dh);
	dh_to_doc(obj, "Phase2DHGroupNumbers", to->to_phase2_dh);
	struct doc *ike = doc_set(obj, "IkeVersions", doc_list());
	if (to->to_ike_versions & TUNNEL_IKEV1)
		doc_set_str(doc_push(ike, doc_obj()), "Value", "ikev1");
	if (to->to_ike_versions & TUNNEL_IKEV2)
		doc_set_str(doc_push(ike, doc_obj()), "Value", "ikev2");
	doc_set_str(obj, "StartupAction", tunnel_startup_action_name(to->to_startup_action));
}

#define DOC_LIST_MAX 16	/* more values than any option has */

static int strs_from_doc(const struct doc *obj, const char *key, const char *field, struct tunnel_options *to,
			 struct tunnel_error *err)
{
	const struct doc *list = doc_get(obj, key);
	const char *v[DOC_LIST_MAX];
	size_t n = 0;
	doc_foreach(item, list) {
		if (n == DOC_LIST_MAX)
			return fail(err, "%s has too many values", key);
		v[n++] = doc_get_str(item, "Value");
	}
	return tunnel_options_set_strs(to, field, v, n, err);
}

static int ints_from_doc(const struct doc *obj, const char *key, struct tunnel_options *to, struct tunnel_error *err)
{
	const struct doc *list = doc_get(obj, key);
	int64_t v[DOC_LIST_MAX];
	size_t n = 0;
	doc_foreach(item, list) {
		if (n == DOC_LIST_MAX)
			return fail(err, "%s has too many values", key);
		v[n++] = doc_get_int(item, "Value", -1);
	}
	return tunnel_options_set_ints(to, key, v, n, err);
}

int tunnel_options_from_doc(const struct doc *obj, struct tunnel_options *to, struct tunnel_error *err)
{
	tunnel_options_defaults(to);
	const char *s;
	if ((s = doc_get_str(obj, "TunnelInsideCidr")) && tunnel_options_set_str(to, "TunnelInsideCidr", s, err) < 0)
		return -1;
	if ((s = doc_get_str(obj, "PreSharedKey")) && tunnel_options_set_str(to, "PreSharedKey", s, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(int_fields); i++) {
		const struct doc *v = doc_get(obj, int_fields[i].if_key);
		if (v && tunnel_options_set_int(to, int_fields[i].if_field, doc_get_int(obj, int_fields[i].if_key, -1), err) < 0)
			return -1;
	}
	if ((s = doc_get_str(obj, "DpdTimeoutAction")) && tunnel_options_set_str(to, "DPDTimeoutAction", s, err) < 0)
		return -1;
	if ((s = doc_get_str(obj, "StartupAction")) && tunnel_options_set_str(to, "StartupAction", s, err) < 0)
		return -1;
	static const struct {
		const char *key, *field;
	} lists[] = {
		{ "Phase1EncryptionAlgorithms", "Phase1EncryptionAlgorithms" },
		{ "Phase2EncryptionAlgorithms", "Phase2EncryptionAlgorithms" },
		{ "Phase1IntegrityAlgorithms", "Phase1IntegrityAlgorithms" },
		{ "Phase2IntegrityAlgorithms", "Phase2IntegrityAlgorithms" },
		{ "IkeVersions", "IKEVersions" },
	};
	for (size_t i = 0; i < ARRAY_LEN(lists); i++)
		if (doc_get(obj, lists[i].key) && strs_from_doc(obj, lists[i].key, lists[i].field, to, err) < 0)
			return -1;
	if (doc_get(obj, "Phase1DHGroupNumbers") && ints_from_doc(obj, "Phase1DHGroupNumbers", to, err) < 0)
		return -1;
	if (doc_get(obj, "Phase2DHGroupNumbers") && ints_from_doc(obj, "Phase2DHGroupNumbers", to, err) < 0)
		return -1;
	return tunnel_options_validate(to, err);
}
