/*
 * Turning received datagrams into datagram connections, for the models
 * that multiplex many clients on one thread (the event loops and io_uring):
 * one recvmmsg batch, the UDP defences, then a connection per admitted
 * request, handed back to the model to track.
 */
#ifndef SOCKSERV_DATAGRAM_INTAKE_H
#define SOCKSERV_DATAGRAM_INTAKE_H

#include "core/conn_model.h"
#include "core/datagram.h"
#include "core/udp_guard.h"

/*
 * Receives one batch of at most max datagrams from l, so a model never
 * takes more requests than its connection limit leaves room for. Each
 * admitted datagram becomes a connection
 * owned by owner, is passed to started (which must record it before
 * anything else), and is then delivered to its service. Returns the number
 * of datagrams received (0: none waiting), or -1 after logging an error.
 */
int datagram_intake(struct datagram_in *in, int max, struct udp_guard *guard, struct listener *l,
                    struct conn_owner *owner, void (*started)(void *ctx, struct conn *c),
                    void (*delivered)(void *ctx, struct conn *c), void *ctx);

#endif
