-- db-unexpected-role: the analyst account mallory, from a staff host
-- (127.0.0.22), reads one customer's (c1007) mail and contacts.
SELECT subject, body, received_at FROM messages WHERE customer_id = 'c1007' ORDER BY received_at DESC LIMIT 5;
SELECT name, email FROM contacts WHERE customer_id = 'c1007';
