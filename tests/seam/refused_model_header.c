/* Must not compile: a service that includes the model-side header. */
#include "core/conn_model.h"
