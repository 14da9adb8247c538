/* h_routes.h: the routes fundd serves, and their handlers (h_*.c). */
#ifndef FUND_H_ROUTES_H
#define FUND_H_ROUTES_H

#include <stddef.h>

#include "http_route.h"

extern const struct http_route	h_routes[];
extern const size_t		h_nroutes;

#endif
