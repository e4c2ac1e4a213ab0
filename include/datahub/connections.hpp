// The DataHub Connections SDK, C++ API. Include this one header.
#pragma once

#include <datahub/cipher.hpp>
#include <datahub/connection.hpp>
#include <datahub/connection_type.hpp>
#include <datahub/details.hpp>
#include <datahub/error.hpp>
#include <datahub/key_provider.hpp>
#include <datahub/store.hpp>
#include <datahub/target.hpp>
#include <datahub/transfer.hpp>
#include <datahub/version.h>
