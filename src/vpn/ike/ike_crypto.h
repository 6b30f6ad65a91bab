/*
 * ike_crypto — the IKEv1 key schedule (RFC 2409 §5, §5.5, appendix B),
 * AES-CBC for ISAKMP payloads and Diffie-Hellman, over OpenSSL 3 EVP.
 *
 * Internal to src/vpn/ike (and its tests). Every function writes into
 * caller-owned buffers; nothing here keeps state or logs a secret.
 * Outputs of the PRF are at most IKE_PRF_MAX bytes.
 */
#ifndef VPCD_VPN_IKE_CRYPTO_H
#define VPCD_VPN_IKE_CRYPTO_H

#include "vpn/ike/ike.h"

#define IKE_PRF_MAX	64
#define IKE_BLOCK	16	/* AES */
#define IKE_DH_MAX	1024	/* modp8192 public value */

/* A piece of PRF/hash input. */
struct ike_chunk {
	const uint8_t *p;
	size_t len;
};

/* Output size of hash/PRF `h` (20, 32, 48, 64); 0 for IKE_INTEG_NONE. */
size_t ike_hash_len(enum ike_integ h);

/* HMAC-h(key, c[0] | c[1] | ...) into out (ike_hash_len(h) bytes).
 * Returns false only if OpenSSL fails. */
bool ike_prf(enum ike_integ h, const uint8_t *key, size_t key_len,
	     const struct ike_chunk *c, size_t n, uint8_t *out);
/* Plain hash h(c[0] | c[1] | ...). */
bool ike_hash(enum ike_integ h, const struct ike_chunk *c, size_t n, uint8_t *out);

/* SKEYID = prf(PSK, Ni_b | Nr_b). */
bool ike_skeyid_psk(enum ike_integ h, const uint8_t *psk, size_t psk_len,
		    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		    uint8_t *skeyid);
/* SKEYID_d, _a, _e from SKEYID, g^xy and the cookies (each prf-sized). */
bool ike_skeyid_derive(enum ike_integ h, const uint8_t *skeyid, const uint8_t *gxy,
		       size_t gxy_len, const uint8_t cky_i[8], const uint8_t cky_r[8],
		       uint8_t *skeyid_d, uint8_t *skeyid_a, uint8_t *skeyid_e);
/* The ISAKMP encryption key: SKEYID_e truncated, or, when too short,
 * Ka = K1 | K2 | ... with K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1). */
bool ike_enc_key(enum ike_integ h, const uint8_t *skeyid_e, uint8_t *key, size_t key_len);

/* HASH_I = mm_hash(SKEYID, g^xi, g^xr, CKY-I, CKY-R, SAi_b, IDii_b);
 * HASH_R = mm_hash(SKEYID, g^xr, g^xi, CKY-R, CKY-I, SAi_b, IDir_b). */
bool ike_mm_hash(enum ike_integ h, const uint8_t *skeyid, const uint8_t *gx_a,
		 const uint8_t *gx_b, size_t gx_len, const uint8_t ck_a[8],
		 const uint8_t ck_b[8], const uint8_t *sai_b, size_t sai_len,
		 const uint8_t *id_b, size_t id_len, uint8_t *out);

/* Phase 1 IV = hash(g^xi | g^xr) truncated to the block. */
bool ike_iv_phase1(enum ike_integ h, const uint8_t *gxi, const uint8_t *gxr, size_t gx_len,
		   uint8_t iv[IKE_BLOCK]);
/* Phase 2 / informational IV = hash(last phase 1 block | M-ID). */
bool ike_iv_phase2(enum ike_integ h, const uint8_t last[IKE_BLOCK], uint32_t msgid,
		   uint8_t iv[IKE_BLOCK]);

/* HASH(1) = prf(SKEYID_a, M-ID | rest)  (QM message 1 and informational)
 * HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest)
 * HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) */
bool ike_qm_hash1(enum ike_integ h, const uint8_t *skeyid_a, uint32_t msgid,
		  const uint8_t *rest, size_t rest_len, uint8_t *out);
bool ike_qm_hash2(enum ike_integ h, const uint8_t *skeyid_a, uint32_t msgid,
		  const uint8_t *ni, size_t ni_len, const uint8_t *rest, size_t rest_len,
		  uint8_t *out);
bool ike_qm_hash3(enum ike_integ h, const uint8_t *skeyid_a, uint32_t msgid,
		  const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		  uint8_t *out);

/* KEYMAT = K1 | K2 | ..., K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
 * Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b).
 * gxy may be NULL (no PFS). spi in host order, hashed big-endian. */
bool ike_keymat(enum ike_integ h, const uint8_t *skeyid_d, const uint8_t *gxy, size_t gxy_len,
		uint8_t protocol, uint32_t spi, const uint8_t *ni, size_t ni_len,
		const uint8_t *nr, size_t nr_len, uint8_t *out, size_t out_len);

/* NAT-D = hash(CKY-I | CKY-R | IP | port), RFC 3947. */
bool ike_natd_hash(enum ike_integ h, const uint8_t cky_i[8], const uint8_t cky_r[8],
		   uint32_t ip, uint16_t port, uint8_t *out);

/* AES-CBC without padding over len (a multiple of 16) bytes. in may equal
 * out. Returns false on OpenSSL failure or bad length. */
bool ike_aes_cbc(bool encrypt, const uint8_t *key, size_t key_len, const uint8_t iv[IKE_BLOCK],
		 const uint8_t *in, size_t len, uint8_t *out);

/* Diffie-Hellman over the RFC groups 2, 5, 14-18 (MODP), 19-21 (ECP),
 * 22-24 (MODP with prime-order subgroup). */
struct ike_dh;
bool ike_dh_supported(uint16_t group);
size_t ike_dh_pub_len(uint16_t group);		/* KE payload data length */
struct ike_dh *ike_dh_new(uint16_t group);	/* generates a key pair */
/* Our public value, ike_dh_pub_len() bytes, big-endian / x|y for ECP. */
const uint8_t *ike_dh_pub(const struct ike_dh *dh);
/* g^xy (padded to the modulus; x coordinate for ECP) into out
 * (IKE_DH_MAX bytes); false on a bad peer value. */
bool ike_dh_shared(struct ike_dh *dh, const uint8_t *peer, size_t peer_len,
		   uint8_t *out, size_t *out_len);
void ike_dh_free(struct ike_dh *dh);

/* "modp1024", "ecp256", ... (strongSwan's names); "modp?" if unknown. */
const char *ike_dh_name(uint16_t group);

#endif
