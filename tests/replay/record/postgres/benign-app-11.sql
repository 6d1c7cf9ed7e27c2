-- db-benign-app: app server 127.0.0.11 (role app): two customers in one
-- statement, and a metrics count that names no customer.
SELECT id, customer_id, folder, subject, received_at FROM messages
 WHERE customer_id IN ('c1005', 'c1006') ORDER BY received_at DESC LIMIT 20;
SELECT count(*) FROM messages WHERE customer_id = 'c1006' AND NOT seen;
SELECT count(*) FROM messages;
