"""The configuration areas the controller agent owns: the modules it discovered on the backplane bus
("module", also a park client's modules on the server) and, on a park client, the module fields its server
derived for each of its points ("parkpoint").

Written by the park model when the agent discovers a module and by a client's agent replicating its
server's configuration (park/client.py), not by users; `config/areas.py` lists them.
"""

from __future__ import annotations

import pointconfig
from chargeschema import INT, STR, Field
from iomodule.rfid import board as rfid_board

MODULE = (
    Field("station", STR, "", lo=1, hi=64, doc="Device UID of the station's head module"),
    Field("position", INT, 1, lo=1, hi=12, doc="Backplane bus position (1 = the head module's own point)"),
    Field("device_name", STR, "", lo=0, hi=64, doc="Factory designation reported by the module"),
    Field("hardware_version", STR, "", lo=0, hi=32, doc="Hardware version reported by the module"),
    Field("firmware_version", STR, "", lo=0, hi=32, doc="Firmware version reported by the module"),
    Field("rfid_board_firmware", STR, "", lo=0, hi=16,
          doc="Firmware version of its CHARX RFID/NFC board, as the module reported it (event rfid_board)"),
    Field("meter_serial", STR, "", lo=0, hi=32,
          doc="Serial number of its energy meter as read at the meter's start (event meter_ident); "
              "empty where the type has no such register"),
    Field("meter_firmware", STR, "", lo=0, hi=16,
          doc="Firmware version of its energy meter as read at the meter's start (event meter_ident); "
              "empty where the type has no such register"),
    Field("meter_public_key", STR, "", lo=0, hi=256,
          doc="Public key of its signing energy meter (calibration law), the DER SubjectPublicKeyInfo in hex, "
              "as read at the meter's start (event meter_key); empty where the meter does not sign"),
)  # fmt: skip
# No record checks: a missing station is refused by chargeschema.validate ("required"), its default
# is not a valid value.

# A park client's point: the fields its server derives from the server's own areas (load circuit, OCPP keys,
# RFID board) when it configures the point; with the chargepoint record they are what the module is sent.
PARKPOINT = pointconfig.DERIVED
PARKPOINT_CHECKS = (rfid_board.fade_range,)
