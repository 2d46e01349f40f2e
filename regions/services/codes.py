"""Validation of official codes (统计用区划代码) against the level rules.

12 digits: 1–2 province, 3–4 city, 5–6 county, 7–9 town level (001–099 街道, 100–199 镇,
200–399 乡), 10–12 village level (001–199 居委会, 200–399 村委会). A grid's code is its
community's 12 digits followed by a 3-digit number (001–999).
"""

from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError

from ..models import Level


def _bad(message, **params):
    return DomainError("region_code_invalid", message, field="code", **params)


def validate_code(level: int, code: str, parent_code: str | None) -> str:
    code = (code or "").strip()
    if not code.isdigit():
        raise _bad(_("A region code has digits only."))
    if level == Level.GRID:
        if len(code) != 15:
            raise _bad(_("A grid code has 15 digits: its community's 12 and a 3-digit number."))
        if parent_code and not code.startswith(parent_code):
            raise _bad(_("A grid code must start with its community's code %(p)s."), p=parent_code)
        if code[12:] == "000":
            raise _bad(_("A grid number runs from 001 to 999."))
        return code
    if len(code) != 12:
        raise _bad(_("A region code has 12 digits."))
    prov, city, county, town, village = code[:2], code[2:4], code[4:6], code[6:9], code[9:12]
    if prov == "00":
        raise _bad(_("The province part (digits 1–2) cannot be 00."))
    if level == Level.CITY:
        if city == "00" or code[4:] != "00000000":
            raise _bad(_("A city code ends in eight zeros, e.g. 320500000000."))
    elif level == Level.DISTRICT:
        if county == "00" or code[6:] != "000000":
            raise _bad(_("A district code has digits 5–6 set and ends in six zeros, e.g. 320508000000."))
    elif level == Level.STREET:
        if not 1 <= int(town) <= 399 or village != "000":
            raise _bad(_("A street code has digits 7–9 from 001 to 399 and ends in 000."))
    elif level == Level.COMMUNITY:
        if not 1 <= int(town) <= 399 or not 1 <= int(village) <= 399:
            raise _bad(_("A community code has digits 10–12 from 001 to 399 (001–199 residents', 200–399 village)."))
    prefix = {Level.DISTRICT: 4, Level.STREET: 6, Level.COMMUNITY: 9}.get(level)
    if prefix and parent_code and code[:prefix] != parent_code[:prefix]:
        raise _bad(_("The code must start with its parent's %(p)s."), p=parent_code[:prefix])
    return code
