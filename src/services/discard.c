/* discard (RFC 863): every byte received is thrown away. A service with no
 * on_data ignores its input, so there is nothing to write here. */
#include "core/conn.h"

const struct service service_discard = {
    .name = "discard",
    .summary = "reads and throws away every byte (RFC 863)",
    .default_port = 7009,
};
