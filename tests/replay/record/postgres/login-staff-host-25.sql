-- db-login-staff-host: the application's role used from a staff
-- workstation (127.0.0.25) instead of an app server.
SELECT id, name, email, plan FROM customers WHERE id = 'c1003';
