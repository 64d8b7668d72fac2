"""SCB's population of the 21 counties on 1 January, 2017–2026.

Close to the published figures (SCB, "Folkmängd i riket, län och kommuner",
31 December of the year before): the national totals are SCB's, and each
county's share moves linearly between the years 2017, 2020 and 2024, so a
county is off by at most a few thousand. That is all the reports need: rates
per 1000 inhabitants with realistic magnitudes and year-to-year change, so a
rate that divides by the wrong year's population shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from schemas.counties import COUNTIES

FIRST_YEAR = 2017
LAST_YEAR = 2026
YEARS: tuple[int, ...] = tuple(range(FIRST_YEAR, LAST_YEAR + 1))

# One value per year of YEARS, in order.
_POPULATION: dict[str, tuple[int, ...]] = {
    "01": (
        2_266_629,
        2_306_500,
        2_343_186,
        2_377_235,
        2_397_463,
        2_422_717,
        2_447_204,
        2_462_681,
        2_479_578,
        2_493_309,
    ),
    "03": (
        360_986,
        369_014,
        376_571,
        383_738,
        389_057,
        395_217,
        401_280,
        405_885,
        410_736,
        415_075,
    ),
    "04": (
        290_030,
        292_968,
        295_452,
        297_559,
        298_668,
        300_385,
        301_989,
        302_466,
        303_110,
        303_358,
    ),
    "05": (
        451_493,
        456_822,
        461_460,
        465_525,
        466_676,
        468_771,
        470_679,
        470_828,
        471_230,
        471_016,
    ),
    "06": (
        354_785,
        358_257,
        361_171,
        363_623,
        364_638,
        366_393,
        368_003,
        368_239,
        368_674,
        368_628,
    ),
    "07": (
        196_763,
        198_629,
        200_184,
        201_482,
        202_118,
        203_165,
        204_132,
        204_338,
        204_655,
        204_705,
    ),
    "08": (
        242_648,
        243_968,
        244_882,
        245_462,
        245_720,
        246_471,
        247_119,
        246_840,
        246_692,
        246_218,
    ),
    "09": (57_941, 58_608, 59_186, 59_690, 60_044, 60_523, 60_980, 61_211, 61_477, 61_663),
    "10": (
        158_283,
        158_980,
        159_409,
        159_616,
        158_891,
        158_474,
        157_979,
        156_882,
        155_862,
        154_632,
    ),
    "12": (
        1_323_146,
        1_343_221,
        1_361_367,
        1_377_916,
        1_387_611,
        1_400_190,
        1_412_299,
        1_419_189,
        1_426_883,
        1_432_746,
    ),
    "13": (
        319_990,
        325_052,
        329_652,
        333_870,
        335_924,
        338_673,
        341_304,
        342_672,
        344_231,
        345_348,
    ),
    "14": (
        1_669_992,
        1_691_041,
        1_709_563,
        1_725_993,
        1_733_198,
        1_743_948,
        1_754_043,
        1_757_610,
        1_762_142,
        1_764_385,
    ),
    "17": (
        279_035,
        280_605,
        281_711,
        282_432,
        282_750,
        283_635,
        284_402,
        284_103,
        283_954,
        283_431,
    ),
    "18": (
        295_952,
        299_339,
        302_270,
        304_825,
        305_450,
        306_691,
        307_809,
        307_774,
        307_905,
        307_632,
    ),
    "19": (
        269_373,
        271_938,
        274_076,
        275_863,
        276_845,
        278_392,
        279_832,
        280_228,
        280_778,
        280_962,
    ),
    "20": (
        284_226,
        285_670,
        286_637,
        287_210,
        287_631,
        288_632,
        289_514,
        289_310,
        289_261,
        288_831,
    ),
    "21": (
        284_329,
        285_802,
        286_798,
        287_401,
        287_622,
        288_421,
        289_097,
        288_688,
        288_432,
        287_795,
    ),
    "22": (
        245_084,
        245_614,
        245_718,
        245_469,
        245_189,
        245_395,
        245_491,
        244_661,
        243_957,
        242_928,
    ),
    "23": (
        128_263,
        129_310,
        130_150,
        130_818,
        131_170,
        131_787,
        132_352,
        132_423,
        132_565,
        132_533,
    ),
    "24": (
        265_904,
        268_254,
        270_179,
        271_754,
        272_679,
        274_159,
        275_534,
        275_881,
        276_378,
        276_515,
    ),
    "25": (
        250_302,
        250_652,
        250_563,
        250_109,
        249_950,
        250_287,
        250_514,
        249_797,
        249_210,
        248_292,
    ),
}


def population(county_code: str, year: int) -> int:
    if year not in YEARS:
        raise ValueError(f"no population for {year}: the table covers {FIRST_YEAR}–{LAST_YEAR}")
    return _POPULATION[county_code][year - FIRST_YEAR]


def population_records(years: Iterable[int] = YEARS) -> list[dict[str, Any]]:
    """`scb.population.v1` records, one per county and year, in county then year order."""
    wanted = sorted(set(years))
    return [
        {"county_code": code, "year": year, "population": population(code, year)}
        for code in COUNTIES
        for year in wanted
    ]
