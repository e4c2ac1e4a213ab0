/* Compiled by the capi_header_c99 test: the C header alone, strict C99. */
#include <datahub/connections.h>

int main(void) {
  dhc_code code = DHC_OK;
  dhc_key_provider provider = {DHC_KEY_PROVIDER_VERSION, 0, 0, 0, 0, 0};
  (void)provider;
  return (int)code + (dhc_version() == 0);
}
