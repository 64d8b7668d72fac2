"""A PxWeb API 2.0 style open table API over every open report (issue 22).

The tables are read from the report declarations (reports/catalogue.py), one
per open report and drill-down level; their answers come from the report
engine (reports/engine.py) under the open tier. Pure parts: `tables` (the
table model), `selection` (valueCodes expressions), `cube` (the answer as a
PxWeb cube and the categories of each dimension), `bodies` (the JSON bodies),
`px` (the PX file). `run` asks the engine, `saved` stores saved queries.
"""
