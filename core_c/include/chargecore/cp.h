/* Control pilot: window statistics from raw ADC codes, state classification with hysteresis, diode check.
 * mV = (code - adc_zero) * mv_num / mv_den. See docs/core-api.md for the exact rules. */
#ifndef CHARGECORE_CP_H
#define CHARGECORE_CP_H

#include "chargecore/common.h"

#define CC_CP_CONSTANTS(X) \
    X(STATE_NONE, 0) X(STATE_A, 1) X(STATE_B, 2) X(STATE_C, 3) X(STATE_D, 4) X(STATE_E, 5) X(STATE_F, 6) \
    X(STATE_PILOT_FAULT, 7) \
    X(WIN_OK, 0) X(WIN_NOISY, 1) X(WIN_EMPTY, 2) \
    X(CP_FAULT_DIODE, 1) X(CP_FAULT_NOISY, 2) \
    X(CP_PILOT_FAULT_ABOVE_MV, 13000) X(CP_A_MIN_MV, 11000) X(CP_A_HYST_MIN_MV, 10000) \
    X(CP_B_MIN_MV, 8000) X(CP_B_HYST_MIN_MV, 7000) X(CP_C_MIN_MV, 5000) X(CP_C_HYST_MIN_MV, 4000) \
    X(CP_D_MIN_MV, 2000) X(CP_E_MIN_MV, -1000) X(CP_F_MIN_MV, -13000) X(CP_F_MAX_MV, -11000) \
    X(CP_DIODE_NEG_MAX_MV, -11000) X(CP_MIN_SWING_MV, 2000) X(CP_MAX_SAMPLES, 32767) X(CP_MAX_FULL_SCALE_MV, 1000000) \
    X(CP_DEFAULT_SAMPLE_RATE_HZ, 400000) X(CP_DEFAULT_EDGE_SKIP, 4) X(CP_DEFAULT_NOISE_MV, 1000) \
    X(CP_DEFAULT_NOISY_LIMIT, 8)

enum { CC_CP_CONSTANTS(CC_ENUM_ENTRY) };

/* cffi-begin */
typedef struct {
    int32_t adc_zero;       /* code of 0 mV, 0..65535 */
    int32_t mv_num;         /* > 0 */
    int32_t mv_den;         /* > 0 */
    int32_t sample_rate_hz; /* > 0, only for the frequency estimate */
    int32_t edge_skip;      /* samples never averaged after an edge and at the window start */
    int32_t noise_mv;       /* largest spread inside one plateau */
    int32_t noisy_limit;    /* consecutive bad windows before CP_FAULT_NOISY, >= 1 */
} cc_cp_config;

typedef struct {
    cc_cp_config cfg;
    int32_t status; /* of the last window */
    int32_t high_mv;
    int32_t low_mv;
    int32_t high_n;
    int32_t low_n;
    int32_t duty; /* tenths of a percent */
    int32_t freq_hz;
    int32_t state;
    int32_t faults;
    int32_t diode_ok;
    int32_t noisy;
} cc_cp;

int cc_cp_init(cc_cp *cp, const cc_cp_config *cfg);
void cc_cp_reset(cc_cp *cp);
int32_t cc_cp_window(cc_cp *cp, const uint16_t *samples, size_t n);
int32_t cc_cp_classify(cc_cp *cp, int pwm_on);
int32_t cc_cp_update(cc_cp *cp, const uint16_t *samples, size_t n, int pwm_on);
int32_t cc_cp_state(int32_t prev, int32_t high_n, int32_t high_mv, int32_t low_n, int32_t low_mv);
/* cffi-end */

#endif
