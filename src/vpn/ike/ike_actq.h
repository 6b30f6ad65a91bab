/*
 * ike_actq — the queue of actions (datagrams to send, SAs to install or
 * delete, status changes) that an IKE core hands its caller, shared by the
 * IKEv1 (ike_peer.c) and IKEv2 (ikev2_peer.c) cores. Internal to
 * src/vpn/ike: the contract is ike.h's / ikev2.h's next_action call.
 *
 * Ownership: a datagram's bytes live in its node; the node handed out by
 * ike_actq_next stays valid until the next call (or ike_actq_free), then
 * is wiped (it may hold key material) and freed.
 */
#ifndef VPCD_IKE_ACTQ_H
#define VPCD_IKE_ACTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpn/ike/ike.h"

struct ike_act_node {
	struct ike_act_node *next;
	struct ike_action act;
	size_t len;
	uint8_t data[];
};

struct ike_actq {
	struct ike_act_node *head, *tail;
	struct ike_act_node *current;	/* the one ike_actq_next handed out */
};

/* A zeroed node with data_len bytes of data appended at the tail; NULL
 * (logged under log_part with the tunnel's name) when out of memory. */
struct ike_act_node *ike_actq_push(struct ike_actq *q, size_t data_len, const char *log_part,
				   const char *name);

/* Queues act as it is (no data). */
void ike_actq_emit(struct ike_actq *q, const struct ike_action *act, const char *log_part,
		   const char *name);

/* Queues a datagram msg to dst from src_port, with the non-ESP marker in
 * front when it leaves from the NAT-T port. True when queued. */
bool ike_actq_send(struct ike_actq *q, const struct ike_addr *dst, uint16_t src_port, const uint8_t *msg,
		   size_t len, const char *log_part, const char *name);

/* The oldest action into *out (false and IKE_ACT_NONE when none); frees
 * the node handed out before. */
bool ike_actq_next(struct ike_actq *q, struct ike_action *out);

/* Wipes and frees every node. */
void ike_actq_free(struct ike_actq *q);

#endif
