-- threadlink metadata store, version 1.
-- Runs with search_path set to the store's schema (see src/migrations.ts), so names are unqualified.
-- Dates are epoch milliseconds (bigint), like the domain schemas. Key columns use COLLATE "C" so
-- keyset pagination orders ids by code point, exactly as the in-memory store and JavaScript do.
-- Privacy: no column can hold message content (body, snippet, preview, html, text); a test checks
-- the column list of every table.

CREATE TABLE connections (
  tenant_id      text COLLATE "C" NOT NULL,
  id             text COLLATE "C" NOT NULL PRIMARY KEY,
  user_id        text NOT NULL,
  provider       text NOT NULL CHECK (provider IN ('gmail', 'outlook')),
  account_email  text NOT NULL,
  display_name   text,
  status         text NOT NULL,
  -- AES-256-GCM sealed by the engine before it reaches the store; never clear-text tokens.
  sealed_tokens  text NOT NULL,
  scopes         text[] NOT NULL,
  subscription   jsonb,
  cursor         text,
  backfill       jsonb NOT NULL,
  health         jsonb NOT NULL,
  shared         boolean NOT NULL,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL,
  UNIQUE (tenant_id, id)
);
CREATE INDEX connections_tenant_user ON connections (tenant_id, user_id);
CREATE INDEX connections_account ON connections (account_email);
-- Webhooks find their connection by push subscription id (Graph subscription, Gmail watch) on
-- every notification: `subscription -> 'items' @> '[{"id": …}]'` uses this index.
CREATE INDEX connections_subscription_items ON connections USING gin ((subscription -> 'items') jsonb_path_ops);

CREATE TABLE messages (
  tenant_id            text COLLATE "C" NOT NULL,
  id                   text COLLATE "C" NOT NULL,
  connection_id        text COLLATE "C" NOT NULL,
  user_id              text NOT NULL,
  provider             text NOT NULL,
  provider_message_id  text NOT NULL,
  provider_thread_id   text NOT NULL,
  thread_id            text COLLATE "C" NOT NULL,
  internet_message_id  text,
  in_reply_to          text,
  message_references   text[] NOT NULL,
  subject              text NOT NULL,
  sent_at              bigint,
  received_at          bigint NOT NULL,
  direction            text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  folder               text NOT NULL,
  labels               text[] NOT NULL,
  -- Names, MIME types and sizes only; attachment contents never reach the store.
  attachments          jsonb NOT NULL,
  has_attachments      boolean NOT NULL,
  synced_at            bigint NOT NULL,
  -- Ids are derived from (connection, provider id), so they are unique across tenants too.
  PRIMARY KEY (id),
  UNIQUE (connection_id, provider_message_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_thread ON messages (tenant_id, thread_id, received_at);
CREATE INDEX messages_internet_message_id ON messages (tenant_id, internet_message_id) WHERE internet_message_id IS NOT NULL;

-- Child rows of a message (participants, reference tokens, links) carry no foreign key to it:
-- checking one against a message written earlier in the same transaction locks that message
-- row once per child (a heap write each), which made bulk sync batches several times slower.
-- The store writes and deletes them together with their message, in one transaction. Their
-- primary keys lead with (tenant_id, message_id), which is how they are read and purged; the
-- connection_id column says whose rows they are without a join.

-- One row per address on a message (from, to, cc, bcc, reply_to), the index behind rematch.
CREATE TABLE participants (
  tenant_id      text COLLATE "C" NOT NULL,
  message_id     text COLLATE "C" NOT NULL,
  connection_id  text COLLATE "C" NOT NULL,
  role           text NOT NULL CHECK (role IN ('from', 'to', 'cc', 'bcc', 'reply_to')),
  position       integer NOT NULL,
  address        text NOT NULL,
  domain         text NOT NULL,
  display_name   text,
  PRIMARY KEY (tenant_id, message_id, role, position)
);
CREATE INDEX participants_address ON participants (tenant_id, address);
CREATE INDEX participants_domain ON participants (tenant_id, domain);

-- Reference numbers found by the host's patterns (PRJ-1042), so rematch is an index look-up.
CREATE TABLE reference_tokens (
  tenant_id      text COLLATE "C" NOT NULL,
  message_id     text COLLATE "C" NOT NULL,
  connection_id  text COLLATE "C" NOT NULL,
  position       integer NOT NULL,
  token          text NOT NULL,
  PRIMARY KEY (tenant_id, message_id, position)
);
CREATE INDEX reference_tokens_token ON reference_tokens (tenant_id, token);

CREATE TABLE record_links (
  tenant_id      text COLLATE "C" NOT NULL,
  message_id     text COLLATE "C" NOT NULL,
  connection_id  text COLLATE "C" NOT NULL,
  record_type    text COLLATE "C" NOT NULL,
  record_id      text COLLATE "C" NOT NULL,
  record_label   text,
  rule           text NOT NULL,
  reason         text NOT NULL,
  confidence     double precision NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  -- A user's decision: survives re-matching. suppressed = a manual unlink that hides the record.
  manual         boolean NOT NULL,
  suppressed     boolean NOT NULL,
  created_at     bigint NOT NULL,
  PRIMARY KEY (tenant_id, message_id, record_type, record_id)
);
CREATE INDEX record_links_record ON record_links (tenant_id, record_type, record_id) WHERE NOT suppressed;

-- Coordination rows are keyed by opaque engine keys (`connection:<id>`), not by tenant: the port
-- has no tenant for them, and they carry no mailbox data. Times come from the engine's clock
-- (`now` in the call), stored as double precision: exact for epoch ms, and any clock value fits.
CREATE TABLE leases (
  key         text COLLATE "C" NOT NULL PRIMARY KEY,
  owner       text NOT NULL,
  expires_at  double precision NOT NULL
);

-- claimOnce: notification dedupe and OAuth state replay protection.
CREATE TABLE claims (
  key         text COLLATE "C" NOT NULL PRIMARY KEY,
  expires_at  double precision NOT NULL
);
CREATE INDEX claims_expiry ON claims (expires_at);
