/* Must not compile: a service that calls a model-side function. */
#include "core/conn.h"

void refused_take(struct conn *c);

void refused_take(struct conn *c)
{
    conn_take_output(c, 0);
}
