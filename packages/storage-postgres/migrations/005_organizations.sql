-- threadlink metadata store, version 5: organization connections (issue 19). One admin approval
-- (Microsoft admin consent, Google domain-wide delegation) owns ordinary mailbox connections.
-- `organizations` keeps core's Organization: the app credentials AES-256-GCM sealed by the engine
-- (never clear text), the mailbox selection and the per-mailbox problems as jsonb (core owns their
-- meaning). Connections get three nullable columns naming the org that owns them.
-- Forward-compatible: a new table, three nullable columns without default (a catalog-only change,
-- no rewrite), and one index on connections (see the ALLOWED entry in reliability's migration lint).
-- Release N-1 never reads or writes the new columns and keeps working.
CREATE TABLE IF NOT EXISTS organizations (
  tenant_id           text COLLATE "C" NOT NULL,
  id                  text COLLATE "C" NOT NULL PRIMARY KEY,
  user_id             text NOT NULL,
  provider            text NOT NULL,
  directory_id        text NOT NULL,
  display_name        text,
  status              text NOT NULL,
  sealed_credentials  text NOT NULL,
  selection           jsonb NOT NULL,
  problems            jsonb NOT NULL DEFAULT '[]'::jsonb,
  last_sync_at        bigint,
  created_at          bigint NOT NULL,
  updated_at          bigint NOT NULL,
  UNIQUE (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS organizations_tenant ON organizations (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS organizations_directory ON organizations (tenant_id, provider, directory_id);

ALTER TABLE connections ADD COLUMN IF NOT EXISTS org_id text COLLATE "C";
ALTER TABLE connections ADD COLUMN IF NOT EXISTS mailbox_id text;
ALTER TABLE connections ADD COLUMN IF NOT EXISTS mailbox_kind text;
CREATE INDEX IF NOT EXISTS connections_org ON connections (org_id) WHERE org_id IS NOT NULL;
