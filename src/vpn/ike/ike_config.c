/*
 * ike_config.c — the tunnel configuration both IKE cores take
 * (ike_config.h): AWS's defaults with the seed's algorithms
 * (ike_tunnel_config_defaults, ike.h), the check of what a core can run,
 * the defaults a core fills in.
 */
#include "vpn/ike/ike_config.h"

#include "model/tunnel_limits.h"
#include "vpn/ike/ike_crypto.h"
#include "vpn/ike/ike_proposal.h"

#include <stdio.h>
#include <string.h>

#define IKE_RETRANSMIT_BASE_MS	2000	/* doubles on every try */
#define IKE_RETRANSMIT_TRIES	5

void ike_tunnel_config_defaults(struct ike_tunnel_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->name, sizeof(cfg->name), "tunnel");
	cfg->p1_encr[0] = IKE_ENCR_AES128_CBC;
	cfg->p1_encr_n = 1;
	cfg->p1_integ[0] = IKE_INTEG_SHA1;
	cfg->p1_integ_n = 1;
	cfg->p1_dh[0] = 2;
	cfg->p1_dh_n = 1;
	cfg->p2_encr[0] = IKE_ENCR_AES128_CBC;
	cfg->p2_encr_n = 1;
	cfg->p2_integ[0] = IKE_INTEG_SHA1;
	cfg->p2_integ_n = 1;
	cfg->p2_dh[0] = 2;
	cfg->p2_dh_n = 1;
	cfg->p1_lifetime_s = TUNNEL_PHASE1_LIFETIME_DEFAULT;
	cfg->p2_lifetime_s = TUNNEL_PHASE2_LIFETIME_DEFAULT;
	cfg->rekey_margin_s = TUNNEL_REKEY_MARGIN_DEFAULT;
	cfg->rekey_fuzz_pct = TUNNEL_REKEY_FUZZ_DEFAULT;
	cfg->replay_window = TUNNEL_REPLAY_WINDOW_DEFAULT;
	cfg->dpd_delay_s = TUNNEL_DPD_DELAY;
	cfg->dpd_timeout_s = TUNNEL_DPD_TIMEOUT_DEFAULT;
	cfg->dpd_action = IKE_DPD_CLEAR;
	cfg->startup = IKE_STARTUP_ADD;
}

/* The lists' lengths: each at most IKE_MAX_ALGS (p1_aead read by IKEv2 only). */
static bool lists_too_long(const struct ike_tunnel_config *c, bool v2)
{
	return c->p1_encr_n > IKE_MAX_ALGS || (v2 && c->p1_aead_n > IKE_MAX_ALGS) ||
	       c->p1_integ_n > IKE_MAX_ALGS || c->p1_dh_n > IKE_MAX_ALGS ||
	       c->p2_encr_n > IKE_MAX_ALGS || c->p2_integ_n > IKE_MAX_ALGS || c->p2_dh_n > IKE_MAX_ALGS;
}

/* What each version needs at least one of. An empty p2_dh list is no PFS. */
static bool lists_empty(const struct ike_tunnel_config *c, bool v2)
{
	if (!v2)
		return !c->p1_encr_n || !c->p1_integ_n || !c->p1_dh_n || !c->p2_encr_n || !c->p2_integ_n;
	bool p2_cbc = false;
	for (size_t i = 0; i < c->p2_encr_n; i++)
		p2_cbc |= !ike_encr_is_gcm(c->p2_encr[i]);
	return !(c->p1_encr_n + c->p1_aead_n) || !c->p1_integ_n || !c->p1_dh_n || !c->p2_encr_n ||
	       (p2_cbc && !c->p2_integ_n);
}

const char *ike_config_check(const struct ike_tunnel_config *c, unsigned version)
{
	bool v2 = version == IKE_V2;

	if (!c->local_ip || !c->remote_ip)
		return "local and remote address are required";
	if (!c->psk_len || c->psk_len > IKE_PSK_MAX)
		return "pre-shared key missing or too long";
	if (lists_too_long(c, v2))
		return "algorithm list too long";
	if (lists_empty(c, v2))
		return "algorithm list empty";
	/* IKEv1 offers every combination in one SA payload */
	if (!v2 && (c->p1_encr_n * c->p1_integ_n * c->p1_dh_n > IKE_P1_MAX_OFFER ||
		    c->p2_encr_n * c->p2_integ_n > IKE_P2_MAX_OFFER))
		return "too many algorithm combinations to offer";
	if (!c->p1_lifetime_s || !c->p2_lifetime_s)
		return "lifetimes must be positive";
	if (c->local_ts.prefix_len > 32 || c->remote_ts.prefix_len > 32)
		return "bad traffic selector prefix";
	for (size_t i = 0; i < c->p1_encr_n; i++)
		if (c->p1_encr[i] != IKE_ENCR_AES128_CBC && c->p1_encr[i] != IKE_ENCR_AES256_CBC)
			return v2 ? "p1_encr holds AES-CBC only (AES-GCM goes in p1_aead)"
				  : "phase 1 allows AES-CBC only";
	for (size_t i = 0; v2 && i < c->p1_aead_n; i++)
		if (!ike_encr_is_gcm(c->p1_aead[i]))
			return "p1_aead holds AES-GCM only";
	for (size_t i = 0; i < c->p1_integ_n; i++)
		if (!ike_hash_len(c->p1_integ[i]))
			return "phase 1 needs a hash";
	for (size_t i = 0; i < c->p1_dh_n; i++)
		if (!ike_dh_supported(c->p1_dh[i]) || c->p1_dh[i] == TUNNEL_DH_PHASE2_ONLY)
			return "unsupported phase 1 DH group";
	for (size_t i = 0; i < c->p2_encr_n; i++)
		if (c->p2_encr[i] < IKE_ENCR_AES128_CBC || c->p2_encr[i] > IKE_ENCR_AES256_GCM16)
			return "unsupported phase 2 cipher";
	/* phase 2 integrity names: checked for IKEv2 only, as each core did
	 * before the checks were one */
	for (size_t i = 0; v2 && i < c->p2_integ_n; i++)
		if (!ike_hash_len(c->p2_integ[i]))
			return "phase 2 integrity needs a hash";
	for (size_t i = 0; i < c->p2_dh_n; i++)
		if (!ike_dh_supported(c->p2_dh[i]))
			return "unsupported phase 2 DH group";
	return NULL;
}

void ike_config_defaults(struct ike_tunnel_config *cfg)
{
	cfg->name[IKE_NAME_MAX - 1] = 0;
	if (!cfg->remote_id)
		cfg->remote_id = cfg->remote_ip;
	if (!cfg->retransmit_base_ms)
		cfg->retransmit_base_ms = IKE_RETRANSMIT_BASE_MS;
	if (!cfg->retransmit_tries)
		cfg->retransmit_tries = IKE_RETRANSMIT_TRIES;
	if (cfg->rekey_fuzz_pct > TUNNEL_REKEY_FUZZ_MAX)
		cfg->rekey_fuzz_pct = TUNNEL_REKEY_FUZZ_MAX;
}
