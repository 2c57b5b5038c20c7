-- threadlink metadata store, version 2: the provider id is an open slug.
-- 001 allowed only 'gmail' and 'outlook'; core's ProviderId is now any lower-case slug (a letter,
-- then 1 to 31 of a-z, 0-9 and -), so a host can plug in a third adapter ('imap', 'fastmail-jmap').
-- Forward only: 001 stays as applied. Every existing row ('gmail', 'outlook') satisfies the new check.
-- An inline column CHECK gets Postgres's default name <table>_<column>_check.
ALTER TABLE connections DROP CONSTRAINT connections_provider_check;
ALTER TABLE connections ADD CONSTRAINT connections_provider_check CHECK (provider ~ '^[a-z][a-z0-9-]{1,31}$');
