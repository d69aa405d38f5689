"""A card's UID as the head sees it: hex digits, in the order the OCPP keys RFIDByteOrder and
RFIDCharacterOrder ask for (module fields rfid_byte_order, rfid_char_order).

The reader delivers the UID bytes in the order it read them from the card ("BE", as printed on most
cards). "LE" reverses the bytes; the character order swaps the two bytes of each 16-bit word (a trailing
odd byte stays), for backends that expect the UID as little-endian 16-bit data words.
"""

_HEX = "0123456789ABCDEF"


def render(uid, n, little_endian=False, word_swap=False):
    """Upper-case hex text of uid[0:n]; allocates only the string (once per card presented)."""
    out = []
    for k in range(n):
        if word_swap and k ^ 1 < n:
            k ^= 1  # the other byte of this 16-bit word of the ordered UID
        b = uid[n - 1 - k if little_endian else k]
        out.append(_HEX[b >> 4])
        out.append(_HEX[b & 15])
    return "".join(out)
