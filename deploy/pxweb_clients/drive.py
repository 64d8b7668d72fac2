"""Drives PxWeb clients no one here wrote against a live statflow: run by the
clients' own virtual environment (requirements.txt beside this file), never
imported by the project. Prints one JSON object: what each client listed,
read and fetched, and the JSON-stat validator's verdicts.

usage: drive.py <pxweb base url> <report api url> <table> <json value codes>
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

import requests


def main() -> None:
    base, report_url, table, raw_codes = sys.argv[1:5]
    value_codes: dict[str, list[str]] = json.loads(raw_codes)
    out: dict[str, Any] = {}
    with contextlib.redirect_stdout(sys.stderr):  # pxstatspy prints progress
        out["pxwebpy"] = pxwebpy(base, table, value_codes)
        out["pxstatspy"] = pxstatspy(base, table, value_codes)
        out["validator"] = validate(base, report_url, table, value_codes)
    print(json.dumps(out))


def pxwebpy(base: str, table: str, value_codes: dict[str, list[str]]) -> dict[str, Any]:
    from pxweb import PxApi

    api = PxApi(base, language="sv", disable_cache=True)
    variables = api.get_table_variables(table)
    return {
        "tables": [t["id"] for t in api.all_tables()],
        "number_of_tables": api.number_of_tables,
        "metadata_id": api.get_table_metadata(table)["id"],
        "variables": {k: sorted(v["category"]["label"]) for k, v in variables.items()},
        "labels": {k: v["label"] for k, v in variables.items()},
        "rows": api.get_table_data(table, value_codes=dict(value_codes), show="code"),
    }


def pxstatspy(base: str, table: str, value_codes: dict[str, list[str]]) -> dict[str, Any]:
    from pxstatspy import PxAPI, PxAPIConfig
    from pxstatspy.pxapi import OutputFormat, OutputFormatParam

    api = PxAPI(PxAPIConfig(base_url=base, language="sv"))
    listed = api.find_tables(display=False, page_size=1000)
    meta = api.get_table_metadata(table, output_format="json-stat2")
    data = api.get_table_data(table, value_codes=value_codes,
                              output_format=OutputFormat.JSON_STAT2)  # fmt: skip
    frame = api.get_data_as_dataframe(table, value_codes=value_codes,
                                      output_format_param=OutputFormatParam.USE_CODES)  # fmt: skip
    return {
        "tables": [t["id"] for t in listed["tables"]],
        "total": listed["page"]["totalElements"],
        "max_data_cells": api.max_data_cells,
        "metadata_id": meta["id"],
        "data": data,
        "frame": json.loads(frame.to_json(orient="records")),
    }


def validate(base: str, report_url: str, table: str, value_codes: dict[str, list[str]]
             ) -> dict[str, str]:  # fmt: skip
    from jsonstat_validator import validate_jsonstat

    params = {f"valueCodes[{k}]": ",".join(v) for k, v in value_codes.items()}
    answers = {
        "pxweb": requests.get(f"{base}/tables/{table}/data", params=params, timeout=120),
        "report_api": requests.get(report_url, timeout=120),
    }
    out = {}
    for name, r in answers.items():
        r.raise_for_status()
        try:
            validate_jsonstat(r.json())
            out[name] = "valid"
        except Exception as exc:  # noqa: BLE001 - the verdict is the output
            out[name] = f"invalid: {exc}"
    return out


if __name__ == "__main__":
    main()
