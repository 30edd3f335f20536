"""Salted PIN hashes for the demo patrons (private to the package).

The encoded form is ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``. Plain PINs are
never stored, logged or put in an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SCHEME = "scrypt"
_N, _R, _P = 2**14, 8, 1  # about 16 MB and tens of milliseconds per check
_LENGTH = 32


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """Hash a PIN with a random salt.

    Args:
        pin: The PIN.
        salt: A fixed salt, for reproducible fixtures only.

    Returns:
        The encoded hash.
    """
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LENGTH)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, encoded: str) -> bool:
    """Check a PIN against an encoded hash in constant time.

    Args:
        pin: The PIN offered.
        encoded: A hash from `hash_pin`.

    Returns:
        Whether the PIN matches.

    Raises:
        ValueError: ``encoded`` is not a hash this module wrote.
    """
    scheme, n, r, p, salt, expected = encoded.split("$")
    if scheme != _SCHEME:
        raise ValueError("unsupported PIN hash scheme")
    digest = hashlib.scrypt(
        pin.encode(),
        salt=bytes.fromhex(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(bytes.fromhex(expected)),
    )
    return hmac.compare_digest(digest.hex(), expected)
