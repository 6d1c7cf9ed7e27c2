-- db-benign-app: the mail application on app server 127.0.0.10 (role app)
-- serves customers c1001 and c1002, one customer per statement.
SELECT id, name, email, plan FROM customers WHERE id = 'c1001';
UPDATE customers SET last_login = now() WHERE id = 'c1001';
SELECT m.id, m.folder, m.sender, m.subject, m.received_at
  FROM messages AS m
 WHERE m.customer_id = 'c1001'
   AND m.folder = 'INBOX'
 ORDER BY m.received_at DESC
 LIMIT 50;
SELECT body FROM messages WHERE customer_id = 'c1001' AND id = 2;
UPDATE messages SET seen = true WHERE customer_id = 'c1001' AND id = 2;
INSERT INTO messages (customer_id, folder, sender, subject, body)
VALUES ('c1002', 'INBOX', 'news@example.com', 'Weekly news', 'Hello, here is the news.');
SELECT name, email FROM contacts WHERE customer_id = 'c1002' ORDER BY name;
INSERT INTO contacts (customer_id, name, email) VALUES ('c1002', 'New Friend', 'new.friend@example.net');
DELETE FROM contacts WHERE customer_id = 'c1002' AND email = 'friend1.c1002@example.net';
