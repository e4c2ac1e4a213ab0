// DATAHUB_API marks what the shared library exports; everything else is hidden.
#pragma once

#if defined(DATAHUB_CONNECTIONS_BUILDING) || !defined(_WIN32)
#define DATAHUB_API __attribute__((visibility("default")))
#else
#define DATAHUB_API
#endif
