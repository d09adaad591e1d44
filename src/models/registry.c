#include <string.h>

#include "models/model.h"

extern const struct model model_iterative, model_fork, model_thread;
extern const struct model model_select, model_poll, model_epoll, model_uring;

static const struct model *const models[] = {
    &model_iterative, &model_fork,  &model_thread, &model_select,
    &model_poll,      &model_epoll, &model_uring,  NULL,
};

const struct model *model_find(const char *name)
{
    for (size_t i = 0; models[i]; i++)
        if (strcmp(models[i]->name, name) == 0)
            return models[i];
    return NULL;
}

const struct model *const *model_all(void)
{
    return models;
}
