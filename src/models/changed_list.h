/*
 * The connections a single-threaded model must look at again before it
 * waits: those a service changed from outside their own callbacks (a chat
 * line posted to them, a timer of another connection). Each connection is
 * on the list at most once, marked by its on_changed_list, a field that
 * only this list touches.
 */
#ifndef SOCKSERV_CHANGED_LIST_H
#define SOCKSERV_CHANGED_LIST_H

#include <stddef.h>

#include "core/conn_model.h"

struct changed_list {
    struct conn **items;
    size_t count;
    size_t capacity;
};

/* Lists c unless it already is. When memory runs out c is left off: the
 * model reconciles it anyway on its next event. */
void changed_list_add(struct changed_list *l, struct conn *c);

/* Takes c off the list (before it is destroyed), if it is on it. */
void changed_list_forget(struct changed_list *l, struct conn *c);

/* Takes one connection off the list, or NULL when it is empty. One at a
 * time, so the list never holds a connection that reconciling another
 * has already destroyed. */
struct conn *changed_list_pop(struct changed_list *l);

void changed_list_free(struct changed_list *l);

#endif
