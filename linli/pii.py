"""Personal data: AES-256-GCM encryption with key ids, HMAC blind indexes, masking.

Ciphertexts are stored as "kid$base64(nonce || ciphertext+tag)" so that keys can rotate:
every key listed in LINLI_DATA_KEYS can decrypt, the one named by LINLI_DATA_KEY_ID encrypts,
and `manage.py rotate_data_key` re-encrypts rows under the current key. The blind index is
HMAC-SHA256 under a separate key (LINLI_INDEX_KEY), truncated to 128 bits, so exact search
works without decrypting.
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


class KeyError_(Exception):
    pass


@lru_cache(maxsize=1)
def _keys() -> dict[str, AESGCM]:
    keys = {}
    for part in settings.LINLI_DATA_KEYS.split(","):
        part = part.strip()
        if not part:
            continue
        kid, _, b64 = part.partition(":")
        raw = base64.b64decode(b64)
        if len(raw) != 32:
            raise KeyError_(f"data key {kid!r} must be 32 bytes (base64 of 32 random bytes)")
        keys[kid] = AESGCM(raw)
    if settings.LINLI_DATA_KEY_ID not in keys:
        raise KeyError_("LINLI_DATA_KEY_ID names no key in LINLI_DATA_KEYS")
    return keys


@lru_cache(maxsize=1)
def _index_key() -> bytes:
    return hashlib.sha256(("linli-blind-index:" + settings.LINLI_INDEX_KEY).encode()).digest()


def reset_key_cache() -> None:
    _keys.cache_clear()
    _index_key.cache_clear()


def current_kid() -> str:
    return settings.LINLI_DATA_KEY_ID


def encrypt(plaintext: str, aad: bytes) -> str:
    if not plaintext:
        return ""
    kid = settings.LINLI_DATA_KEY_ID
    nonce = os.urandom(12)
    ct = _keys()[kid].encrypt(nonce, plaintext.encode(), aad)
    return kid + "$" + base64.b64encode(nonce + ct).decode()


def decrypt(token: str, aad: bytes) -> str:
    if not token:
        return ""
    kid, _, b64 = token.partition("$")
    raw = base64.b64decode(b64)
    return _keys()[kid].decrypt(raw[:12], raw[12:], aad).decode()


def encryptor(aad: bytes):
    """`encrypt(plaintext, aad)` as a function of the plaintext, for bulk work (the key is looked
    up once). Same output format, a fresh random nonce per value."""
    kid = settings.LINLI_DATA_KEY_ID
    aes = _keys()[kid]
    prefix = kid + "$"
    urandom, b64 = os.urandom, binascii.b2a_base64

    def enc(plaintext: str) -> str:
        if not plaintext:
            return ""
        nonce = urandom(12)
        return prefix + b64(nonce + aes.encrypt(nonce, plaintext.encode(), aad), newline=False).decode()

    return enc


def key_id_of(token: str) -> str:
    return token.partition("$")[0]


def blind_index(value: str, purpose: str) -> str:
    if not value:
        return ""
    mac = hmac.new(_index_key(), purpose.encode() + b"\x00" + value.encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def blind_indexer(purpose: str):
    """`blind_index(value, purpose)` as a function of the value, for bulk work: the same
    HMAC-SHA256 (RFC 2104: H(K^opad || H(K^ipad || message))) with the two keyed SHA-256 states
    prepared once and copied per value."""
    key = _index_key()  # 32 bytes, shorter than SHA-256's 64-byte block: zero-padded
    key = key.ljust(64, b"\x00")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(purpose.encode() + b"\x00")
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def index(value: str) -> str:
        if not value:
            return ""
        i = inner.copy()
        i.update(value.encode())
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()[:32]

    return index


def mask_id_number(number: str) -> str:
    if not number:
        return ""
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 1)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    digits = phone.replace("-", "")
    if len(digits) <= 7:
        return digits[:2] + "*" * (len(digits) - 2)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}\d{7,8})$")


def clean_text(value) -> str:
    """Full-width to half-width, trim, collapse inner whitespace."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return " ".join(text.split())


def normalize_phone(raw) -> str:
    """Digits only (a landline keeps no dash); '' for empty. Raises ValueError when invalid."""
    text = clean_text(raw)
    if not text:
        return ""
    if text.endswith(".0"):  # a number cell read from Excel
        text = text[:-2]
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _PHONE_RE.match(digits):
        raise ValueError(digits)
    return digits
