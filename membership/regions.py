"""Countries (ISO 3166-1 alpha-2) to world regions, after the UN M49 standard.

The selection criteria ask for geographical spread; these six regions are what the workbench
counts. The Americas are split as M49 does (Northern America; Latin America and the Caribbean),
since the two differ so much in the aluminium value chain.
"""

from __future__ import annotations

AFRICA = "Africa"
ASIA = "Asia"
EUROPE = "Europe"
LATIN_AMERICA = "Latin America and the Caribbean"
NORTHERN_AMERICA = "Northern America"
OCEANIA = "Oceania"
UNKNOWN = "Unknown"

REGIONS = [AFRICA, ASIA, EUROPE, LATIN_AMERICA, NORTHERN_AMERICA, OCEANIA]

_BY_REGION = {
    AFRICA: (
        "DZ EG LY MA SD TN EH IO BI KM DJ ER ET TF KE MG MW MU YT MZ RE RW SC SO SS UG TZ ZM ZW "
        "AO CM CF TD CG CD GQ GA ST BW SZ LS NA ZA BJ BF CV CI GM GH GN GW LR ML MR NE NG SH SN "
        "SL TG"
    ),
    ASIA: (
        "KZ KG TJ TM UZ CN HK MO KP JP MN KR TW BN KH ID LA MY MM PH SG TH TL VN AF BD BT IN IR "
        "MV NP PK LK AM AZ BH CY GE IQ IL JO KW LB OM QA SA PS SY TR AE YE"
    ),
    EUROPE: (
        "BY BG CZ HU PL MD RO RU SK UA AX DK EE FO FI GG IS IE IM IT JE LV LT NO SJ SE GB AL AD "
        "BA HR GI GR VA ME MK MT PT SM RS SI ES XK AT BE FR DE LI LU MC NL CH"
    ),
    LATIN_AMERICA: (
        "AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC VI BZ "
        "CR SV GT HN MX NI PA AR BO BV BR CL CO EC FK GF GY PY PE GS SR UY VE"
    ),
    NORTHERN_AMERICA: "BM CA GL PM US",
    OCEANIA: (
        "AU CX CC HM NZ NF FJ NC PG SB VU GU KI MH FM NR MP PW UM AS CK PF NU PN WS TK TO TV WF"
    ),
}

COUNTRY_REGION: dict[str, str] = {
    code: region for region, codes in _BY_REGION.items() for code in codes.split()
}


def region_for(country_code: str | None) -> str:
    """The region of a country code, or ``UNKNOWN`` for an empty or unlisted one."""
    if not country_code:
        return UNKNOWN
    return COUNTRY_REGION.get(str(country_code).upper(), UNKNOWN)
