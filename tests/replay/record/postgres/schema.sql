-- Schema, data and roles of the recording cluster (postgres.sh). Run by
-- the superuser with the psql variables app_pw, backup_pw, dave_pw and
-- mallory_pw set.
CREATE DATABASE mail;
\connect mail

CREATE TABLE customers (
	id text PRIMARY KEY,
	name text NOT NULL,
	email text NOT NULL,
	plan text NOT NULL DEFAULT 'basic',
	created_at timestamptz NOT NULL DEFAULT now(),
	last_login timestamptz
);
CREATE TABLE contacts (
	id bigserial PRIMARY KEY,
	customer_id text NOT NULL REFERENCES customers (id),
	name text,
	email text NOT NULL
);
CREATE TABLE messages (
	id bigserial PRIMARY KEY,
	customer_id text NOT NULL REFERENCES customers (id),
	folder text NOT NULL DEFAULT 'INBOX',
	sender text NOT NULL,
	subject text,
	body text,
	received_at timestamptz NOT NULL DEFAULT now(),
	seen boolean NOT NULL DEFAULT false
);
CREATE INDEX ON contacts (customer_id);
CREATE INDEX ON messages (customer_id, received_at);

INSERT INTO customers (id, name, email, plan)
SELECT 'c' || (1000 + i), 'Customer ' || i, 'owner' || i || '@example.org',
       CASE WHEN i % 5 = 0 THEN 'business' ELSE 'basic' END
FROM generate_series(1, 40) AS i;

INSERT INTO contacts (customer_id, name, email)
SELECT c.id, 'Contact ' || j, 'friend' || j || '.' || c.id || '@example.net'
FROM customers AS c, generate_series(1, 5) AS j;

INSERT INTO messages (customer_id, folder, sender, subject, body, received_at)
SELECT c.id, CASE WHEN j = 3 THEN 'Sent' ELSE 'INBOX' END,
       'friend' || j || '.' || c.id || '@example.net',
       'Message ' || j || ' for ' || c.name,
       'Hello ' || c.name || ', this is message ' || j || '.',
       timestamptz '2026-11-01 08:00:00+00' + j * interval '1 hour'
FROM customers AS c, generate_series(1, 3) AS j;

-- The mail application (app servers only).
CREATE ROLE app LOGIN PASSWORD :'app_pw';
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app;
-- The nightly backup (pg_dump).
CREATE ROLE "svc-backup" LOGIN PASSWORD :'backup_pw';
GRANT SELECT ON ALL TABLES IN SCHEMA public TO "svc-backup";
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO "svc-backup";
-- The database administrator.
CREATE ROLE dba_dave LOGIN SUPERUSER PASSWORD :'dave_pw';
-- An analyst account once granted read access for a report, never revoked.
CREATE ROLE mallory LOGIN PASSWORD :'mallory_pw';
GRANT SELECT ON contacts, messages TO mallory;
