/* Contactor monitoring: the feedback must follow the command; a weld is latched for good. */
#include "chargecore/contactor.h"

int cc_ct_init(cc_ct *ct, int32_t aux, int32_t debounce_ms, int32_t timeout_ms)
{
    if (ct == NULL || aux < CC_AUX_NONE || aux > CC_AUX_NC || debounce_ms < 0 || timeout_ms < 0) return CC_EINVAL;
    ct->aux = aux;
    ct->debounce_ms = debounce_ms;
    ct->timeout_ms = timeout_ms;
    cc_ct_reset(ct);
    return CC_OK;
}

void cc_ct_reset(cc_ct *ct)
{
    ct->fault = CC_CT_OK;
    ct->closed = ct->started = ct->pend = ct->cmd = 0;
    ct->pend_at = ct->cmd_at = 0;
    ct->settling = 1;
}

int32_t cc_ct_update(cc_ct *ct, uint32_t now, int command, int aux_high)
{
    int32_t raw;
    command = command ? 1 : 0;
    if (ct->aux == CC_AUX_NONE) {
        ct->closed = command;
        return command;
    }
    raw = aux_high ? 1 : 0;
    if (ct->aux == CC_AUX_NC) raw = 1 - raw;
    if (!ct->started) {
        ct->started = 1;
        ct->cmd = command;
        ct->cmd_at = now;
        ct->pend_at = now;
    }
    if (raw != ct->pend) {
        ct->pend = raw;
        ct->pend_at = now;
    }
    if (ct->pend != ct->closed && cc_elapsed(now, ct->pend_at) >= (uint32_t)ct->debounce_ms) ct->closed = ct->pend;
    if (command != ct->cmd) {
        ct->cmd = command;
        ct->cmd_at = now;
        ct->settling = 1;
    }
    if (ct->fault == CC_CT_OK) {
        if (ct->closed == ct->cmd) {
            ct->settling = 0;
        } else if (ct->settling) {
            if (cc_elapsed(now, ct->cmd_at) >= (uint32_t)ct->timeout_ms) {
                ct->fault = ct->cmd == 0 ? CC_CT_WELDED : CC_CT_NOT_CLOSED;
            }
        } else {
            ct->fault = ct->cmd == 0 ? CC_CT_WELDED : CC_CT_LOST; /* an unexpected change */
        }
    }
    return ct->fault == CC_CT_OK ? ct->cmd : 0;
}
