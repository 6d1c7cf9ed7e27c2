-- db-login-untrusted: dba_dave's password used from the Internet
-- (127.0.0.66) to look around.
SELECT current_user, inet_server_addr(), version();
SELECT schemaname, tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public';
