-- threadlink metadata store, version 3: each connection's label directory (Gmail labels, Outlook
-- mail folders) with display names. Messages keep label ids; reads join names from here, so a
-- rename is one directory write, never a rewrite of the messages carrying the label.
-- Additive and forward-compatible: one new empty table, nothing existing is rewritten or locked
-- for longer than creating the foreign key on an empty table takes. An older release ignores it.
CREATE TABLE labels (
  tenant_id      text COLLATE "C" NOT NULL,
  connection_id  text COLLATE "C" NOT NULL,
  id             text COLLATE "C" NOT NULL,
  name           text NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('system', 'user')),
  PRIMARY KEY (connection_id, id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
);
