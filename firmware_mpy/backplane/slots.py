"""Firmware slots in the module's flash: two image slots, a trial boot, confirmation and rollback.

Layout (relative to the flash root, the working directory on the simulated board):
    slots/a/, slots/b/   unpacked images (one directory each)
    slots.json           {"active", "trial", "trying", "sha": {slot: sha256 hex}, "rollback": [slot, reason]}
An update fills the inactive slot and sets `trial`. boot.py (the part an update never replaces) then
starts it as `trying`; the bus link confirms it (`confirm`) once the head has talked to it. boot.py rolls
a `trying` slot back to the active one when it is found at start (never confirmed: crash or hang) or
when its main crashes.
"""

import json
import os

STATE_FILE = "slots.json"
SLOT_DIR = "slots"
NAMES = ("a", "b")
RESET_EXIT = 75  # exit status of a requested reset on the unix port: the launcher starts the module again


def slot_path(name):
    return SLOT_DIR + "/" + name


def load():
    try:
        with open(STATE_FILE) as f:
            state = json.load(f)
    except OSError:
        return None
    except ValueError:
        return None  # a torn write cannot happen (rename), but a damaged file must not brick the module
    return state


def save(state):
    tmp = STATE_FILE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.rename(tmp, STATE_FILE)


def running(state):
    """The slot that runs now (the one on trial, else the active one)."""
    return state.get("trying") or state["active"]


def inactive(state):
    return NAMES[1] if running(state) == NAMES[0] else NAMES[0]


def confirm():
    """The bus link reached the head: the running trial slot becomes the active one."""
    state = load()
    if state and state.get("trying"):
        state["active"] = state["trying"]
        state["trying"] = None
        state["rollback"] = None
        save(state)


def set_trial(name, sha):
    state = load()
    state["trial"] = name
    state["sha"][name] = sha
    save(state)


def describe():
    """[running slot, on trial, last rollback "slot: reason" or ""] for IDENTITY; dev tree -> ["", ...]."""
    state = load()
    if not state:
        return ["", False, ""]
    rb = state.get("rollback")
    return [running(state), bool(state.get("trying")), "%s: %s" % (rb[0], rb[1]) if rb else ""]


def firmware_version():
    """Short SHA-256 of the running image, or "dev" when running from the source tree."""
    state = load()
    if not state:
        return "dev"
    return state["sha"].get(running(state), "")[:12] or "unknown"


def reset():
    """Restart the module: machine.reset() on a board, exit RESET_EXIT on the unix port."""
    try:
        import machine

        machine.reset()
    except (ImportError, AttributeError):
        pass
    raise SystemExit(RESET_EXIT)
