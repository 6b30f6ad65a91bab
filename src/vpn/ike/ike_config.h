/*
 * ike_config — the tunnel configuration (struct ike_tunnel_config, ike.h)
 * as both IKE cores take it: one check of what a core can run, and the
 * defaults each core fills into its own copy. AWS's numbers (lifetimes,
 * rekey margin and fuzz, replay window, DPD) are not checked here: their
 * ranges are model/tunnel_options' (the API refuses what AWS refuses) and
 * their defaults model/tunnel_limits.h's (ike_tunnel_config_defaults);
 * this only refuses what the cores themselves cannot do.
 *
 * Pure functions: no logging, no allocation, no global state.
 */
#ifndef VPCD_VPN_IKE_CONFIG_H
#define VPCD_VPN_IKE_CONFIG_H

#include "vpn/ike/ike.h"

/* NULL when the core of IKE version `version` (IKE_V1 or IKE_V2) can run
 * cfg; else why not (a constant string for the log line). The cores share
 * the checks of addresses, key, list lengths, lifetimes, selectors, phase
 * 1 hashes and groups, phase 2 ciphers and groups; IKEv1 also bounds the
 * combinations it offers and needs a phase 2 integrity list; IKEv2 takes
 * AES-GCM for its IKE SA from p1_aead and needs phase 2 integrity only
 * with a CBC cipher. */
const char *ike_config_check(const struct ike_tunnel_config *cfg, unsigned version);

/* What a core fills into its own copy of a checked cfg: the name ended,
 * remote_id the peer's address when 0, retransmissions (2,000 ms base, 5
 * tries) when 0, the rekey fuzz at most 100 %. */
void ike_config_defaults(struct ike_tunnel_config *cfg);

#endif
