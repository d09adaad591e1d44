/*
 * sockserv chat: one person's connection to a sockserv chat server
 * (docs/chat-protocol.md).
 *
 * The caller (src/cli/chat.c) parses the command line; chat_client_run
 * connects and relays until the conversation ends, and says how it ended.
 * Nothing here prints errors or exits.
 *
 * Interactive mode (a terminal on both sides) draws a prompt with the line
 * being typed (line_editor.h) under the lines that arrive: each arrival
 * clears the prompt, prints the lines, and draws the prompt again with the
 * typed line intact. Streaming mode relays input lines to the server and
 * server lines to the output, so the client can be scripted.
 *
 * Both modes are one poll() loop over fixed buffers; a full buffer stops
 * reading from its source, so a flood from the server or a server that
 * stops reading never makes the client grow. Every server line is passed
 * through core/text.h before it is shown, so even a server that is not
 * sockserv cannot drive the user's terminal, and is printed ending in LF
 * (CRLF on a raw terminal).
 */
#ifndef SOCKSERV_CHATCLIENT_CHAT_CLIENT_H
#define SOCKSERV_CHATCLIENT_CHAT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/endpoint.h"

struct chat_client_config {
    struct endpoint target;
    const char *url; /* As the user wrote it, for messages. */
    int in_fd;
    int out_fd;
    bool interactive;
    int64_t connect_timeout_ms;
    /* After the input ends (or /quit is sent), how long the server may
     * stay silent without closing before the client leaves anyway. */
    int64_t linger_ms;
};

enum chat_client_end {
    CHAT_END_LEFT,          /* The user left: /quit, Ctrl-C, Ctrl-D, or the end of input. */
    CHAT_END_SERVER_CLOSED, /* The server closed the connection first. */
    CHAT_END_RESET          /* The connection was reset. */
};

/* Returns 0 with *end set, or -1 with a one-line reason in err (the
 * connect failed, or a system call did). */
int chat_client_run(const struct chat_client_config *cfg, enum chat_client_end *end, char *err,
                    size_t errlen);

#endif
