/*
 * queue.c — the inter-thread queue of queue.h: a push-only stack of
 * intrusive nodes (compare-and-swap on its head) that the consumer takes
 * whole with one exchange and reverses into push order.
 *
 * No ABA hazard: nothing is ever popped alone, so a producer's
 * compare-and-swap only needs the head to be what it linked its node to;
 * if the consumer took everything and the same node came back meanwhile,
 * linking to it is still right. The closed state is a sentinel head that
 * no push replaces.
 *
 * Memory order: a push publishes its node with release (the item's
 * contents and qn_next), the take acquires them. The wakeup of a consumer
 * set late is Dekker's handshake on seq_cst operations: the pusher
 * stores the head then loads the consumer; queue_set_consumer stores the
 * consumer then loads the head; one of the two sees the other's store,
 * so an item pushed before the consumer was known is never left unseen.
 */
#include "base/queue.h"

#include "base/evloop.h"

/* The head of a closed queue: never a node's address. */
static struct queue_node closed_sentinel;
#define QUEUE_CLOSED (&closed_sentinel)

void queue_init(struct queue *q, struct evloop *consumer)
{
	atomic_init(&q->q_head, NULL);
	atomic_init(&q->q_consumer, consumer);
}

void queue_set_consumer(struct queue *q, struct evloop *consumer)
{
	atomic_store(&q->q_consumer, consumer);
	struct queue_node *head = atomic_load(&q->q_head);
	if (consumer && head && head != QUEUE_CLOSED)
		evloop_wakeup(consumer);
}

bool queue_push(struct queue *q, struct queue_node *node)
{
	struct queue_node *old = atomic_load_explicit(&q->q_head, memory_order_relaxed);
	do {
		if (old == QUEUE_CLOSED)
			return false;
		node->qn_next = old;
	} while (!atomic_compare_exchange_weak_explicit(&q->q_head, &old, node, memory_order_seq_cst,
							memory_order_relaxed));
	if (!old) {	/* empty -> non-empty: the consumer takes it with what follows */
		struct evloop *l = atomic_load(&q->q_consumer);
		if (l)
			evloop_wakeup(l);
	}
	return true;
}

void queue_batch_add(struct queue_batch *b, struct queue_node *node)
{
	node->qn_next = b->qb_newest;
	b->qb_newest = node;
	if (!b->qb_oldest)
		b->qb_oldest = node;
}

bool queue_push_batch(struct queue *q, struct queue_batch *b)
{
	if (!b->qb_newest)
		return false;
	struct queue_node *old = atomic_load_explicit(&q->q_head, memory_order_relaxed);
	do {
		if (old == QUEUE_CLOSED)
			return false;
		b->qb_oldest->qn_next = old;
	} while (!atomic_compare_exchange_weak_explicit(&q->q_head, &old, b->qb_newest, memory_order_seq_cst,
							memory_order_relaxed));
	*b = (struct queue_batch){ NULL, NULL };
	if (!old) {
		struct evloop *l = atomic_load(&q->q_consumer);
		if (l)
			evloop_wakeup(l);
	}
	return true;
}

/* A stack (newest first) as a list in push order. */
static struct queue_node *reverse(struct queue_node *n)
{
	struct queue_node *out = NULL;
	while (n) {
		struct queue_node *next = n->qn_next;
		n->qn_next = out;
		out = n;
		n = next;
	}
	return out;
}

struct queue_node *queue_take_all(struct queue *q)
{
	/* nothing to take: no write, so an idle consumer does not bounce the
	 * head's cache line between the producers' cores */
	struct queue_node *head = atomic_load_explicit(&q->q_head, memory_order_relaxed);
	if (!head || head == QUEUE_CLOSED)
		return NULL;
	head = atomic_exchange_explicit(&q->q_head, NULL, memory_order_acquire);
	return reverse(head);
}

struct queue_node *queue_close(struct queue *q)
{
	struct queue_node *head = atomic_exchange_explicit(&q->q_head, QUEUE_CLOSED, memory_order_acquire);
	return head == QUEUE_CLOSED ? NULL : reverse(head);
}

bool queue_empty(struct queue *q)
{
	struct queue_node *head = atomic_load(&q->q_head);
	return !head || head == QUEUE_CLOSED;
}
