/* Out-of-balance suppression and phase rotation. */
#include "chargecore/balance.h"

/* ROT_* -> grid phase (0..2) of the point's phase 1, 2, 3 */
static const int8_t rotations[6][3] = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}};

int32_t cc_balance_limit(int32_t set_ma, int32_t i1, int32_t i2, int32_t i3)
{
    int64_t low = i1, limit;
    if (i2 < low) low = i2;
    if (i3 < low) low = i3;
    limit = low + CC_UNBALANCE_MAX_MA; /* stable: a single-phase vehicle is held at 20 A */
    if (limit > set_ma) limit = set_ma;
    if (limit < 0) limit = 0;
    return (int32_t)limit;
}

int32_t cc_phase_of(int32_t rotation, int32_t phase)
{
    if (rotation < 0 || rotation > 5 || phase < 0 || phase > 2) return -1;
    return rotations[rotation][phase];
}
