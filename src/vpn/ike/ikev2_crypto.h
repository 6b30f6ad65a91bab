/*
 * ikev2_crypto — the IKEv2 key schedule (RFC 7296 §2.13, §2.14, §2.17,
 * §2.18), PSK authentication (§2.15) and the Encrypted payload's
 * protection (§3.14 with AES-CBC + HMAC; RFC 5282 with AES-GCM-16).
 *
 * Internal to src/vpn/ike (and its tests). Built on ike_crypto's PRF,
 * hash, AES-CBC and Diffie-Hellman: one PRF implementation for both IKE
 * versions. Every function writes into caller-owned buffers, keeps no
 * state and wipes its intermediate secrets; nothing here logs.
 *
 * A PRF is named by the hash it is HMAC over (enum ike_integ: the tunnel
 * options' "integrity" list names both the PRF and the integrity
 * algorithm, as AWS's do).
 */
#ifndef VPCD_VPN_IKEV2_CRYPTO_H
#define VPCD_VPN_IKEV2_CRYPTO_H

#include "vpn/ike/ike_crypto.h"

#define IKEV2_ENC_KEY_MAX	36	/* AES-256 + 4-byte GCM salt */
#define IKEV2_INTEG_KEY_MAX	64
#define IKEV2_GCM_SALT		4
#define IKEV2_GCM_IV		8
#define IKEV2_GCM_ICV		16
#define IKEV2_NONCE_MIN		16	/* RFC 7296 §2.10 bounds */
#define IKEV2_NONCE_MAX		256
#define IKEV2_PRF_PLUS_MAX	(255 * IKE_PRF_MAX)	/* T1..T255 */

/* The seven keys of an IKE SA (RFC 7296 §2.14). Lengths: SK_d/pi/pr
 * prf_len; SK_ai/ar integ_len (0 with GCM); SK_ei/er enc_len (key plus
 * salt with GCM). */
struct ikev2_keys {
	uint8_t sk_d[IKE_PRF_MAX], sk_pi[IKE_PRF_MAX], sk_pr[IKE_PRF_MAX];
	uint8_t sk_ai[IKEV2_INTEG_KEY_MAX], sk_ar[IKEV2_INTEG_KEY_MAX];
	uint8_t sk_ei[IKEV2_ENC_KEY_MAX], sk_er[IKEV2_ENC_KEY_MAX];
	size_t prf_len, integ_len, enc_len;
};

/* Encryption key length for the SK payload or ESP: 16/32, plus the salt
 * for GCM. Integrity key length: the hash length (0 for NONE). */
size_t ikev2_enc_key_len(enum ike_encr e);
size_t ikev2_integ_key_len(enum ike_integ i);

/* prf+(K, S) = T1 | T2 | ..., T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n).
 * S is the concatenation of seed[0..n); out_len at most IKEV2_PRF_PLUS_MAX. */
bool ikev2_prf_plus(enum ike_integ prf, const uint8_t *key, size_t key_len,
		    const struct ike_chunk *seed, size_t n, uint8_t *out, size_t out_len);

/* SKEYSEED and the SA's keys. Initial exchange (old_sk_d NULL):
 *   SKEYSEED = prf(Ni | Nr, g^ir);
 * IKE SA rekey (§2.18), with the OLD SA's PRF and SK_d:
 *   SKEYSEED = prf_old(SK_d (old), g^ir (new) | Ni | Nr);
 * then {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 *   = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) with the new SA's PRF.
 * skeyseed (prf-sized) may be NULL; it is given out for tests. */
bool ikev2_derive_ike_keys(enum ike_integ prf, enum ike_integ integ, enum ike_encr encr,
			   const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
			   const uint8_t *nr, size_t nr_len, const uint8_t spi_i[8],
			   const uint8_t spi_r[8], enum ike_integ old_prf, const uint8_t *old_sk_d,
			   struct ikev2_keys *out, uint8_t *skeyseed);

/* KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir (new) | Ni | Nr) with
 * PFS (gir non-NULL). The CHILD SA's keys are taken from it in order: the
 * initiator-to-responder SA's encryption then integrity key, then the
 * responder-to-initiator SA's (§2.17). */
bool ikev2_child_keymat(enum ike_integ prf, const uint8_t *sk_d, const uint8_t *gir,
			size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
			size_t nr_len, uint8_t *out, size_t out_len);

/* AUTH for a pre-shared key (§2.15):
 *   prf(prf(PSK, "Key Pad for IKEv2"), msg | nonce | prf(SK_p, ID body))
 * where msg is the sender's IKE_SA_INIT message as sent, nonce the
 * other side's nonce data, SK_p the sender's SK_pi/SK_pr, and the ID
 * body the ID payload without its generic header. out: prf-sized. */
bool ikev2_psk_auth(enum ike_integ prf, const uint8_t *psk, size_t psk_len,
		    const uint8_t *msg, size_t msg_len, const uint8_t *nonce, size_t nonce_len,
		    const uint8_t *sk_p, size_t sk_p_len, const uint8_t *id_body, size_t id_len,
		    uint8_t *out);

/* NAT_DETECTION_*_IP data = SHA-1(SPIi | SPIr | IP | port) (§2.23); SPIr
 * is zero in the IKE_SA_INIT request. out: 20 bytes. */
bool ikev2_natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8], uint32_t ip, uint16_t port,
		     uint8_t out[20]);

/* ---- the Encrypted payload (SK, and SKF's body after its 4 fields) ----
 *
 * Layout of the protected body: IV | ciphertext | ICV.
 *   CBC: IV 16 random bytes; plaintext = inner | padding | pad length,
 *        a multiple of 16; ICV = HMAC truncated (ike_icv_len) over the
 *        message from the IKE header to the end of the ciphertext.
 *   GCM: IV 8 bytes; nonce = salt | IV; AAD = the message before the IV
 *        (IKE header, SK generic header, SKF's fragment numbers);
 *        plaintext = inner | pad length 0; ICV = the 16-byte tag.
 * Call order when sealing: compute the body length with ikev2_sk_len,
 * write the header and payload header with their final lengths, then
 * ikev2_sk_seal. When opening: the ICV is checked before anything is
 * decrypted (CBC) or the plaintext is released only if the tag verified
 * (GCM). */
size_t ikev2_sk_len(enum ike_encr encr, enum ike_integ integ, size_t plain_len);
/* msg[0..aad_len) is already written; the body goes to msg + aad_len
 * (ikev2_sk_len bytes; msg must have room). iv_seed: fresh random IV
 * bytes (16 for CBC, 8 for GCM; GCM's must never repeat under a key). */
bool ikev2_sk_seal(enum ike_encr encr, enum ike_integ integ, const uint8_t *enc_key,
		   const uint8_t *integ_key, uint8_t *msg, size_t aad_len, const uint8_t *plain,
		   size_t plain_len, const uint8_t *iv_seed);
/* The body is msg[aad_len .. aad_len + body_len). plain needs body_len
 * bytes; *plain_len receives the inner payloads' length (padding
 * stripped). false: too short, not a block multiple, bad ICV/tag, bad
 * padding. */
bool ikev2_sk_open(enum ike_encr encr, enum ike_integ integ, const uint8_t *enc_key,
		   const uint8_t *integ_key, const uint8_t *msg, size_t aad_len, size_t body_len,
		   uint8_t *plain, size_t *plain_len);

#endif
