"""The simulated meter's RS-485 line on the simulated board: one end of a pty pair that the simulated park
opened (non-blocking) and handed down as a file descriptor; the pymodbus meter sits on the other end."""


class FdPort:
    """An inherited file descriptor as a Modbus RTU port (write, non-blocking readinto), like machine.UART."""

    def __init__(self, fd):
        self.f = open(fd, "r+b")

    def write(self, buf):
        try:
            self.f.write(buf)
        except OSError:
            pass  # nobody on the line (EIO) or it is full: the request is lost, as on a wire

    def readinto(self, buf):
        try:
            return self.f.readinto(buf) or 0  # None: nothing there (EAGAIN)
        except OSError:
            return 0  # EIO: the other end is not open (the park's meter restarts); the driver times out
