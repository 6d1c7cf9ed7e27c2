-- pg-untrusted: dba_dave's password used from the Internet (127.0.0.66):
-- a look around, then one customer's contacts.
SELECT current_user, inet_server_addr(), version();
SELECT schemaname, tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public';
SELECT name, email FROM contacts WHERE customer_id = 'c1003';
