/* The control: a service that keeps to core/conn.h compiles, so the refusals
 * beside it fail for the reason they name and not for a broken command. */
#include "core/conn.h"

void allowed_on_data(struct conn *c, const unsigned char *data, size_t len);

void allowed_on_data(struct conn *c, const unsigned char *data, size_t len)
{
    if (conn_write(c, data, len) != 0)
        conn_close(c);
}
