/*
 * ike_actq.c — the IKE cores' action queue (ike_actq.h): a singly linked
 * FIFO of nodes, each one allocation with its datagram appended. Control
 * plane only: one allocation per action.
 */
#include "vpn/ike/ike_actq.h"

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static void node_free(struct ike_act_node *n)
{
	if (!n)
		return;
	secret_wipe(n, sizeof(*n) + n->len);
	free(n);
}

struct ike_act_node *ike_actq_push(struct ike_actq *q, size_t data_len, const char *log_part,
				   const char *name)
{
	struct ike_act_node *n = calloc(1, sizeof(*n) + data_len);
	if (!n) {
		log_error(log_part, "%s: out of memory, action lost", name);
		return NULL;
	}
	n->len = data_len;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	return n;
}

void ike_actq_emit(struct ike_actq *q, const struct ike_action *act, const char *log_part,
		   const char *name)
{
	struct ike_act_node *n = ike_actq_push(q, 0, log_part, name);
	if (n)
		n->act = *act;
}

bool ike_actq_send(struct ike_actq *q, const struct ike_addr *dst, uint16_t src_port, const uint8_t *msg,
		   size_t len, const char *log_part, const char *name)
{
	size_t marker = src_port == IKE_NATT_PORT ? IKE_NON_ESP_MARKER_LEN : 0;
	struct ike_act_node *n = ike_actq_push(q, marker + len, log_part, name);
	if (!n)
		return false;
	memset(n->data, 0, marker);
	memcpy(n->data + marker, msg, len);
	n->act.kind = IKE_ACT_SEND;
	n->act.send.dst = *dst;
	n->act.send.src_port = src_port;
	n->act.send.len = marker + len;
	return true;
}

bool ike_actq_next(struct ike_actq *q, struct ike_action *out)
{
	node_free(q->current);
	q->current = NULL;
	struct ike_act_node *n = q->head;
	if (!n) {
		memset(out, 0, sizeof(*out));
		out->kind = IKE_ACT_NONE;
		return false;
	}
	q->head = n->next;
	if (!q->head)
		q->tail = NULL;
	q->current = n;
	*out = n->act;
	if (n->act.kind == IKE_ACT_SEND)
		out->send.data = n->data;
	return true;
}

void ike_actq_free(struct ike_actq *q)
{
	while (q->head) {
		struct ike_act_node *n = q->head;
		q->head = n->next;
		node_free(n);
	}
	node_free(q->current);
	memset(q, 0, sizeof(*q));
}
