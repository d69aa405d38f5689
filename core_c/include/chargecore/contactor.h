/* Contactor: command against auxiliary-contact feedback (N/O or N/C), debounce, timeout, weld detection. */
#ifndef CHARGECORE_CONTACTOR_H
#define CHARGECORE_CONTACTOR_H

#include "chargecore/common.h"

#define CC_CT_CONSTANTS(X) \
    X(AUX_NONE, 0) X(AUX_NO, 1) X(AUX_NC, 2) \
    X(CT_OK, 0) X(CT_WELDED, 1) X(CT_NOT_CLOSED, 2) X(CT_LOST, 3) \
    X(CT_DEFAULT_DEBOUNCE_MS, 10) X(CT_DEFAULT_TIMEOUT_MS, 250)

enum { CC_CT_CONSTANTS(CC_ENUM_ENTRY) };

/* cffi-begin */
typedef struct {
    int32_t aux;
    int32_t debounce_ms;
    int32_t timeout_ms;
    int32_t fault;  /* latched until cc_ct_reset */
    int32_t closed; /* debounced feedback */
    int32_t started;
    int32_t pend;
    uint32_t pend_at;
    int32_t cmd;
    uint32_t cmd_at;
    int32_t settling;
} cc_ct;

int cc_ct_init(cc_ct *ct, int32_t aux, int32_t debounce_ms, int32_t timeout_ms);
void cc_ct_reset(cc_ct *ct);
int32_t cc_ct_update(cc_ct *ct, uint32_t now_ms, int command, int aux_high);
/* cffi-end */

#endif
