"""Module start: pick the firmware slot (A/B with trial boot and rollback), then run that slot's main.

The bootloader part of the firmware: an update never replaces it, so it depends on nothing in a slot.
State file and slot layout: backplane/slots.py. Without a slots.json (a source tree, tests) the main.py
beside this file runs. Launched as `micropython boot.py [main's options]` with cwd = the flash root.
"""

import json
import os
import sys

STATE_FILE = "slots.json"
RESET_EXIT = 75  # backplane.slots.RESET_EXIT: the launcher (or watchdog) starts the module again


def _save(state):
    with open(STATE_FILE + ".tmp", "w") as f:
        json.dump(state, f)
    os.rename(STATE_FILE + ".tmp", STATE_FILE)


def _load():
    try:
        with open(STATE_FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def choose(state):
    """Slot to run; starts a pending trial, or rolls back a trial that never got confirmed."""
    if state.get("trying"):
        state["rollback"] = [state["trying"], "never confirmed by the bus"]
        state["trying"] = None
    elif state.get("trial"):
        state["trying"] = state["trial"]
        state["trial"] = None
    _save(state)
    return state.get("trying") or state["active"]


def _here():
    path = __file__ if "/" in __file__ else "./" + __file__
    return path.rsplit("/", 1)[0]


def run():
    state = _load()
    root = _here() if state is None else os.getcwd() + "/slots/" + choose(state)
    sys.path.insert(0, root)
    try:
        with open(root + "/main.py") as f:
            code = f.read()
        exec(code, {"__name__": "__main__", "__file__": root + "/main.py"})
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as e:
        state = _load()
        if state is None or not state.get("trying"):
            raise
        state["rollback"] = [state["trying"], "crashed: %s: %s" % (type(e).__name__, e)]
        state["trying"] = None
        _save(state)
        print("boot: slot %s rolled back (%s)" % tuple(state["rollback"]))
        raise SystemExit(RESET_EXIT) from None


run()
