-- threadlink metadata store, version 4: ingestion policies (issue 18).
-- One row per tenant (connection_id '') and per connection with its own rules. The policy is core's
-- strict TenantPolicy / ConnectionPolicy as jsonb: core owns its meaning, the store only keeps it.
-- Additive only: a new table, no lock on existing ones. No foreign key to connections (the tenant
-- row names none); purgeConnection deletes a connection's row with the rest of its rows.
CREATE TABLE IF NOT EXISTS ingestion_policies (
  tenant_id      text COLLATE "C" NOT NULL,
  connection_id  text COLLATE "C" NOT NULL DEFAULT '',
  policy         jsonb NOT NULL,
  PRIMARY KEY (tenant_id, connection_id)
);
