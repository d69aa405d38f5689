/* Shared by every module of the safety core: error codes, ticks, the one rounding rule. */
#ifndef CHARGECORE_COMMON_H
#define CHARGECORE_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Each header lists its constants once as an X-macro: X(NAME, value) becomes the enum CC_NAME and an
 * entry of cc_constants[] (constants.c), from which every binding exports NAME. */
#define CC_COMMON_CONSTANTS(X) \
    X(TICK_MASK, 0x3FFFFFFF)

#define CC_ENUM_ENTRY(name, value) CC_##name = (value),
enum { CC_COMMON_CONSTANTS(CC_ENUM_ENTRY) };

#define CC_OK 0
#define CC_EINVAL (-1)

/* Milliseconds from `then` to `now` on a tick that wraps at 2**30 (a MicroPython small int). */
static inline uint32_t cc_elapsed(uint32_t now, uint32_t then)
{
    return (now - then) & (uint32_t)CC_TICK_MASK;
}

/* a / b rounded half away from zero, for b > 0: the twin's div_round, bit for bit. */
static inline int64_t cc_div_round(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b / 2) / b : -((b / 2 - a) / b);
}

/* cffi-begin */
typedef struct {
    const char *name;
    int32_t value;
} cc_named_const;

extern const cc_named_const cc_constants[];
extern const int32_t cc_constant_count;
/* cffi-end */

#endif
