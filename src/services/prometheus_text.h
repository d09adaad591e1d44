/*
 * Every figure of core/counters.h as the Prometheus text exposition format,
 * version 0.0.4 (what the metrics service answers): per listener, its
 * connections open, accepted, refused and cut by reason, bytes both ways,
 * datagrams both ways and dropped by reason, and chat's members and rooms;
 * then the connections open per worker and event loop. Each family has its
 * HELP and TYPE lines, counters end in _total, label values are escaped.
 * Connection families cover TCP listeners, datagram families UDP ones, chat
 * families chat listeners; a family with no listener of its kind is left
 * out. Labels:
 *   listener  the listener's name, "tcp://127.0.0.1:7007/echo"
 *   service   its service, "echo"
 *   reason    for refused, cut and dropped
 *   worker, loop  the worker of --workers and the event loop, from 0, or
 *             "none" (no --workers; a thread or process per connection)
 */
#ifndef SOCKSERV_PROMETHEUS_TEXT_H
#define SOCKSERV_PROMETHEUS_TEXT_H

#include "core/buffer.h"

/* The most bytes the text may take; past it, prometheus_text fails. */
#define PROMETHEUS_TEXT_MAX (16u << 20)

/* Appends the text to out. Returns 0, or -1 when memory ran out or the
 * text would pass PROMETHEUS_TEXT_MAX. */
int prometheus_text(struct buffer *out);

#endif
