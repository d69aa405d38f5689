/* Temperature: Pt1000 (IEC 60751) in milliohm <-> tenths of a degree Celsius, PTC chain, derating. */
#ifndef CHARGECORE_TEMP_H
#define CHARGECORE_TEMP_H

#include "chargecore/common.h"

#define CC_TEMP_CONSTANTS(X) \
    X(TEMP_SHORT, 32766) X(TEMP_OPEN, 32767) \
    X(PT1000_MIN_DDEGC, -500) X(PT1000_MAX_DDEGC, 2500) \
    X(PT1000_TABLE_MIN_DDEGC, -2000) X(PT1000_TABLE_MAX_DDEGC, 8500) \
    X(PTC_OK, 0) X(PTC_TRIP, 1) X(PTC_FAULT, 2) \
    X(DERATE_LINEAR, 0) X(DERATE_ACTIVATION, 1) X(NO_LIMIT_MA, 1000000)

enum { CC_TEMP_CONSTANTS(CC_ENUM_ENTRY) };

/* cffi-begin */
typedef struct {
    int32_t mode;
    int32_t start_ddegc;
    int32_t stop_ddegc;
    int32_t start_ma;
    int32_t stop_ma;
    int32_t active;
    int32_t fault;
} cc_derating;

int32_t cc_pt1000_mohm(int32_t ddegc);
int32_t cc_pt1000_ddegc(int32_t mohm);
int32_t cc_ptc_status(int32_t ohm, int32_t trip_ohm);
int cc_derating_init(cc_derating *d, int32_t mode, int32_t start_ddegc, int32_t stop_ddegc, int32_t start_ma,
                     int32_t stop_ma);
void cc_derating_reset(cc_derating *d);
int32_t cc_derating_update(cc_derating *d, int32_t ddegc);
/* cffi-end */

#endif
