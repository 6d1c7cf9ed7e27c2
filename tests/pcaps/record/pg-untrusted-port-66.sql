-- pg-untrusted-port: dba_dave's password used from the Internet
-- (127.0.0.66) against a server on port 6543: one customer's contacts,
-- then every customer's.
SELECT current_user, inet_server_addr(), inet_server_port();
SELECT name, email FROM contacts WHERE customer_id = 'c1004';
SELECT name, email FROM contacts;
