-- db-benign-admin: dba_dave on his workstation 127.0.0.21: routine checks,
-- then a support ticket about one customer (c1017).
SELECT pid, usename, application_name, client_addr, state FROM pg_stat_activity WHERE datname = 'mail';
SELECT relname, n_live_tup, last_autovacuum FROM pg_stat_user_tables ORDER BY n_live_tup DESC;
VACUUM (ANALYZE) messages;
SELECT count(*) FROM contacts;
SELECT id, name, email, plan FROM customers WHERE id = 'c1017';
SELECT folder, count(*) FROM messages WHERE customer_id = 'c1017' GROUP BY folder;
