#include <string.h>

#include "core/service.h"

extern const struct service service_echo, service_discard, service_daytime;
extern const struct service service_chargen, service_time, service_upper, service_chat;
extern const struct service service_metrics;

static const struct service *const services[] = {
    &service_echo,    &service_discard, &service_daytime,
    &service_chargen, &service_time,    &service_upper,
    &service_chat,    &service_metrics, NULL,
};

const struct service *service_find(const char *name)
{
    for (size_t i = 0; services[i]; i++)
        if (strcmp(services[i]->name, name) == 0)
            return services[i];
    return NULL;
}

const struct service *const *service_all(void)
{
    return services;
}
