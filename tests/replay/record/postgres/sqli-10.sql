-- db-sqli: the contact search of the app on 127.0.0.10, first as
-- meant, then with the search term ' OR '1'='1 injected: every customer's
-- contacts come back.
SELECT name, email FROM contacts WHERE customer_id = 'c1001' AND name LIKE '%Contact 2%';
SELECT name, email FROM contacts WHERE customer_id = 'c1001' AND name LIKE '%' OR '1'='1';
