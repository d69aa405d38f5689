"""Values that must outlive a restart of the module (the weld lock-out), in one small file in the flash root.

Written only when a value changes (a latch set or reset, never in steady state), atomically: a new file,
then a rename over the old one (LittleFS and POSIX replace in one step). A file that exists but cannot be
read counts as `damaged`: the point then assumes the worst (docs/point-api.md, latches).
"""

import json
import os


class NvState:
    def __init__(self, path=None):
        self.path = path  # None: kept in memory only (tests, a point without a flash root)
        self.data = {}
        self.damaged = False
        if path:
            try:
                with open(path) as f:
                    data = json.load(f)
            except OSError:
                return  # nothing stored yet
            except ValueError:
                self.damaged = True
                return
            if isinstance(data, dict):
                self.data = data
            else:
                self.damaged = True

    def get(self, key, default=None):
        return self.data.get(key, default)

    def put(self, key, value):
        if self.data.get(key) == value and not self.damaged:
            return
        self.data[key] = value
        self.damaged = False
        if self.path:
            new = self.path + ".new"
            with open(new, "w") as f:
                json.dump(self.data, f)
            os.rename(new, self.path)
