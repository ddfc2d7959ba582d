"""Formats of the identifiers that name people and enterprises, with their check digits.

- Resident ID number (公民身份号码, GB 11643-1999): 17 digits + a check character computed with
  ISO 7064 MOD 11-2; digits 7–14 are a real birth date.
- Mobile (1[3-9] + 9 digits, optional +86) or landline (0 + area code + 7–8 digits) phone numbers;
  spaces and hyphens are accepted and dropped.
- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a 31-letter
  alphabet (no I, O, S, V, Z), the last a MOD 31 check character.

Used as marshmallow validators in HTTP schemas, so a typo is a 400 that names the field instead of
a record no one can match later."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import ValidationError, fields

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")

_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

_MOBILE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_LANDLINE_RE = re.compile(r"^(0\d{2,3})(\d{7,8})$")


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def is_resident_id(value: str) -> bool:
    if not _ID_RE.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_check_char(value[:17]) == value[17]


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def is_credit_code(value: str) -> bool:
    return bool(_CREDIT_RE.match(value)) and credit_check_char(value[:17]) == value[17]


def normalize_phone(value: str) -> str | None:
    """Digits only (`139-0000-0001` gives its 11 digits, `0551-12345678` its 12), or None if it is not a phone number."""
    compact = re.sub(r"[\s-]", "", value)
    if len(compact) > 16:
        return None
    m = _MOBILE_RE.match(compact)
    if m:
        return m.group(1)
    m = _LANDLINE_RE.match(compact)
    return compact if m else None


class ResidentId(fields.String):
    """An 18-character resident ID number; a lowercase x is read as X."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if not is_resident_id(text):
            raise ValidationError("身份证号码格式或校验位不正确")
        return text


class Phone(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        phone = normalize_phone(text)
        if phone is None:
            raise ValidationError("电话号码格式不正确（手机 11 位或带区号的固定电话）")
        return phone


class CreditCode(fields.String):
    """A unified social credit code; empty allowed when the field is optional."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if text and not is_credit_code(text):
            raise ValidationError("统一社会信用代码格式或校验位不正确")
        return text
