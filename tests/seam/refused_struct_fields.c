/* Must not compile: a service that reads a connection's fields. */
#include "core/conn.h"

int refused_peek(struct conn *c);

int refused_peek(struct conn *c)
{
    return c->fd;
}
