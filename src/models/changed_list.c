#include "models/changed_list.h"
#include "core/conn_model.h"

#include <stdlib.h>

void changed_list_add(struct changed_list *l, struct conn *c)
{
    if (c->on_changed_list)
        return;
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? l->capacity * 2 : 64;
        struct conn **grown = realloc(l->items, capacity * sizeof(*grown));
        if (!grown)
            return;
        l->items = grown;
        l->capacity = capacity;
    }
    c->on_changed_list = true;
    l->items[l->count++] = c;
}

void changed_list_forget(struct changed_list *l, struct conn *c)
{
    if (!c->on_changed_list)
        return;
    c->on_changed_list = false;
    for (size_t i = 0; i < l->count; i++) {
        if (l->items[i] == c) {
            l->items[i] = l->items[--l->count];
            return;
        }
    }
}

struct conn *changed_list_pop(struct changed_list *l)
{
    if (l->count == 0)
        return NULL;
    struct conn *c = l->items[--l->count];
    c->on_changed_list = false;
    return c;
}

void changed_list_free(struct changed_list *l)
{
    free(l->items);
    *l = (struct changed_list){0};
}
