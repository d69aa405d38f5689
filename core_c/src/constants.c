/* Every named constant, by name, for the bindings (they export these instead of repeating the values). */
#include "chargecore/chargecore.h"

#define CC_TABLE_ENTRY(name, value) {#name, CC_##name},

const cc_named_const cc_constants[] = {CC_ALL_CONSTANTS(CC_TABLE_ENTRY)};
const int32_t cc_constant_count = (int32_t)(sizeof cc_constants / sizeof cc_constants[0]);
