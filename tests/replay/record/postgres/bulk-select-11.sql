-- db-bulk-select: someone with a shell on app server 127.0.0.11 uses the
-- application's role to dump every customer's contacts and mail: no
-- customer condition at all.
SELECT current_user, count(*) FROM customers GROUP BY 1;
SELECT customer_id, name, email FROM contacts;
SELECT customer_id, sender, subject, body FROM messages ORDER BY customer_id;
