-- An admin's read is audited with the scope it was made under: a region_admin
-- names a county and a unit_admin units, not care providers, so `statflow
-- audit` showed them as `developer ()` (issue 20).
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS county_code LowCardinality(String) DEFAULT '' AFTER care_providers;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS unit_ids Array(String) AFTER county_code;
