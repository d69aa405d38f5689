"""What the point shows: its status and IEC state, and the edges (events) the Event Actions and the head see."""

import chargecore as core
import chargedefs as d

# Errors that stop charging with state F. The configuration error blocks through `configured` instead: an
# unconfigured point stays Unavailable (+12 V, no PWM), its factory-default face.
STOPS = d.ERRORS_FAULT & ~d.ERR_CONFIG

_E = d.EA_EVENTS.index
EVB_NEW_ERROR = 1 << _E("new_error")
EVB_ERROR_RESOLVED = 1 << _E("error_resolved")
EVB_PLUG_CONNECTED = 1 << _E("plug_connected")
EVB_PLUG_DISCONNECTED = 1 << _E("plug_disconnected")
EVB_EV_CONNECTED = 1 << _E("ev_connected")
EVB_EV_DISCONNECTED = 1 << _E("ev_disconnected")
EVB_RFID_RELEASE = 1 << _E("rfid_release")
EVB_RFID_DENIED = 1 << _E("rfid_denied")
EVB_DERATING_STARTED = 1 << _E("derating_started")
EVB_DERATING_ENDED = 1 << _E("derating_ended")
EVB_CONTACTOR_FAILURE = 1 << _E("contactor_failure")
EVB_TEACH = {
    "in_ok": 1 << _E("teach_in_ok"),
    "out_ok": 1 << _E("teach_out_ok"),
    "in_failed": 1 << _E("teach_in_failed"),
}


def edges(p, errors, ev):
    """Event bits for the Event Actions of this tick; error events for the head."""
    events = p.rfid_event
    p.rfid_event = 0
    new = errors & ~p.error_bits
    gone = p.error_bits & ~errors
    if new & d.ERRORS_FAULT:
        events |= EVB_NEW_ERROR
    if gone & d.ERRORS_FAULT and not errors & d.ERRORS_FAULT:
        events |= EVB_ERROR_RESOLVED
    if new:
        p.push(d.EV_ERROR_NEW, new)
    if gone:
        p.push(d.EV_ERROR_RESOLVED, gone)
    if new & d.ERR_CONTACTOR:
        events |= EVB_CONTACTOR_FAILURE
    p.error_bits = errors
    if p.plugged != p.prev_plugged:
        events |= EVB_PLUG_CONNECTED if p.plugged else EVB_PLUG_DISCONNECTED
        p.prev_plugged = p.plugged
    if ev != p.prev_ev:
        events |= EVB_EV_CONNECTED if ev else EVB_EV_DISCONNECTED
        p.prev_ev = ev
    der = p.flags & d.FLAG_DERATING != 0
    if der != p.prev_derating:
        events |= EVB_DERATING_STARTED if der else EVB_DERATING_ENDED
        p.prev_derating = der
    return events


def update(p, letter, st):
    """Status (docs/point-api.md, "Statuses") and the IEC state shown for this tick."""
    charged = p.session.charged
    if not p.enabled or p.error_bits & STOPS:
        s = d.ST_FAULTED
    elif not p.configured or not p.available_now:
        s = d.ST_UNAVAILABLE
    elif letter <= 0 and not (p.socket and p.plugged):
        s = d.ST_RESERVED if p.reserved else d.ST_AVAILABLE
    elif p.contactor_cmd and (st == core.STATE_C or st == core.STATE_D):
        s = d.ST_CHARGING
    elif p.locking.enforced or (charged and not p.release_now):
        s = d.ST_FINISHING
    elif 0 < p.duty < 1000:
        s = d.ST_SUSPENDED_EV if charged else d.ST_PREPARING
    else:
        s = d.ST_SUSPENDED_EVSE
    p.status = s
    if s != p.prev_status:
        p.prev_status = s
        p.push(d.EV_STATUS, s)
    p.iec_letter = letter
    if p.duty == 0:
        p.iec_state = d.STATE_F
    elif st == core.STATE_E or st == core.STATE_PILOT_FAULT:
        p.iec_state = d.STATE_E
    elif st == core.STATE_F:
        p.iec_state = d.STATE_F  # the vehicle holds the pilot at -12 V
    elif letter < 0:
        p.iec_state = d.STATE_A1
    else:
        p.iec_state = letter * 2 + (1 if 0 < p.duty < 1000 else 0)
