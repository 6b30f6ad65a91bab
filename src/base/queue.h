/*
 * queue — the one inter-thread queue of vpcd: producers on any thread push
 * items, one consumer thread takes everything pushed so far in one call,
 * and the consumer's event loop (base/evloop.h) is woken only when the
 * queue goes from empty to non-empty.
 *
 * Used for the engine's events to the API thread (src/engine/engine.c)
 * and the API's inbox (I/O thread -> API thread) and outbox (API and
 * syncer threads -> I/O thread) in src/api/server.c. Not for packets:
 * those go through base/ring.h's bounded rings.
 *
 * Items are intrusive: the caller embeds a struct queue_node in its own
 * struct and gets the struct back with container_of-style arithmetic
 * (QUEUE_ITEM). A node is on at most one queue at a time, and nothing may
 * touch the item between its push and its take but the taker (the push
 * publishes it: what the producer wrote before is visible to the
 * consumer after the take). The queue never allocates and never frees.
 *
 * Ordering: queue_take_all returns the items in the order their pushes
 * took effect, each producer's own in the order it pushed them; items
 * pushed concurrently by two producers come in one of the two orders (a
 * batch's items in a row, in the order they were added).
 *
 * Waking: the push that finds the queue empty (the consumer has taken
 * everything before it, or nothing was ever pushed) calls
 * evloop_wakeup(consumer) after its item is in; every other push costs no
 * system call. The consumer takes in its loop's wakeup callback (or a
 * hook of the round): a push that comes after the loop read its eventfd
 * and before the take is taken with the others, and a push after the
 * take finds the queue empty and wakes the loop again, so no item waits
 * for a wakeup that does not come.
 *
 * Cost, honestly: a push is one compare-and-swap on the queue's head
 * (retried when another producer won: lock-free, not wait-free) plus one
 * eventfd write when the queue was empty; a batch of items costs the
 * same as one (queue_push_batch), and its items stay together. A take is one atomic exchange
 * and a walk over the items taken to put them in push order (the head is
 * a stack, newest first): O(items), each touched once, which the
 * consumer does anyway. No mutex: a producer never waits for the
 * consumer, nor the consumer for a producer.
 *
 * Threads: any number of producers; one consumer at a time (queue_take_all
 * and queue_close from one thread, or from several with a happens-before
 * between them). queue_set_consumer from any thread.
 */
#ifndef VPCD_BASE_QUEUE_H
#define VPCD_BASE_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct evloop;

/* Embed in the item. qn_next links the items that queue_take_all returns,
 * in push order, NULL after the last; it is the queue's until then. */
struct queue_node {
	struct queue_node *qn_next;
};

/* The item of type `type` whose member `member` is node. */
#define QUEUE_ITEM(node, type, member) ((type *)(void *)((char *)(node) - offsetof(type, member)))

struct queue {
	_Atomic(struct queue_node *) q_head;	/* newest first; QUEUE_CLOSED once closed */
	_Atomic(struct evloop *) q_consumer;	/* woken on empty -> non-empty; NULL: nobody yet */
};

/* Empty and open; consumer may be NULL (see queue_set_consumer). Nothing
 * to free: the queue owns no memory and no fd. */
void queue_init(struct queue *q, struct evloop *consumer);

/* Any thread: the loop woken from now on (its owner may be created after
 * the producers started). When items wait already, it is woken now. */
void queue_set_consumer(struct queue *q, struct evloop *consumer);

/* Any thread: appends node's item. false when the queue is closed
 * (nothing appended; the item is still the caller's). Wakes the consumer
 * when the queue was empty. Allocates nothing. */
bool queue_push(struct queue *q, struct queue_node *node);

/* Several items pushed at once, in the order they were added, with one
 * compare-and-swap and at most one wakeup (a run of answers is one
 * event for the consumer, not one each). Fill a zeroed batch with
 * queue_batch_add (items not yet published: the batch is the caller's
 * alone), then queue_push_batch; the batch is empty again after it. */
struct queue_batch {
	struct queue_node *qb_newest, *qb_oldest;	/* linked newest first */
};
void queue_batch_add(struct queue_batch *b, struct queue_node *node);
/* false when the queue is closed (nothing appended; the items are still
 * the caller's, linked newest first from qb_newest) or the batch is
 * empty. */
bool queue_push_batch(struct queue *q, struct queue_batch *b);

/* The consumer: everything pushed so far, oldest first, linked by
 * qn_next (NULL: nothing); the items are the caller's again. */
struct queue_node *queue_take_all(struct queue *q);

/* The consumer: no push succeeds from now on; returns what was left, as
 * queue_take_all does. Closing twice returns NULL the second time. */
struct queue_node *queue_close(struct queue *q);

/* Any thread: nothing waits now (a hint: a push may come right after). */
bool queue_empty(struct queue *q);

#endif
