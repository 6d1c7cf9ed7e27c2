/*
 * mask.h - masking secrets and personal data in evidence excerpts.
 *
 * Evidence travels to the security team and into the breach record; it must
 * show what happened without spreading what was exposed. Masked:
 *  - values of secret-looking query and form parameters (password, passwd,
 *    pwd, pass, token, access_token, api_key, apikey, key, secret, session,
 *    sessionid, sid, auth, code, ...): "token=****";
 *  - Authorization / Basic / Bearer credentials, PGPASSWORD=...;
 *  - in SQL, the content of a string that holds a secret, in any quoting
 *    ('x', E'x', U&'x', $$x$$, $tag$x$tag$, MySQL's "x"), its quotes or
 *    tags kept: "PASSWORD $$****$$". Such a string is
 *      - the password after PASSWORD (also ENCRYPTED PASSWORD, PASSWORD =
 *        'x', PASSWORD('x')) or after a name ending in _PASSWORD
 *        (MASTER_PASSWORD = 'x'), and in MySQL's IDENTIFIED [WITH plugin]
 *        BY [PASSWORD] 'x', IDENTIFIED WITH plugin AS 'x', SET PASSWORD
 *        FOR user = 'x';
 *      - a key: the second argument of pgp_sym_encrypt, pgp_sym_decrypt
 *        (and their _bytea forms), encrypt, decrypt, encrypt_iv,
 *        decrypt_iv, hmac and MySQL's aes_encrypt, aes_decrypt; the third
 *        of pgp_pub_decrypt (the key's password); the first of crypt (the
 *        password);
 *      - the value of a custom setting whose last part is a secret name
 *        as for parameters above: set_config('app.secret', 'x', ...),
 *        SET [LOCAL | SESSION] app.jwt_secret {= | TO} 'x'.
 *    The string must start that argument or value, or be the first thing
 *    in calls wrapped around it (password = md5('x'), decode('6b', 'hex')),
 *    and start within 512 bytes of the word that leads to it (a key after
 *    a longer first argument stays).
 *    All other strings stay, as do customer ids in a WHERE clause and the
 *    data given to pgp_sym_encrypt (other rules, such as cards, still
 *    apply there), and an empty string: PASSWORD '' shows that none is
 *    set. A string cut off by the end of the excerpt is masked to the end;
 *  - e-mail addresses: local part reduced to its first character,
 *    "j***@example.com";
 *  - digit runs of 13-19 digits that pass Luhn (payment cards): all but the
 *    last four digits replaced by '*'.
 * Non-printable bytes and invalid UTF-8 are shown as "\xNN".
 */
#ifndef BW_MASK_H
#define BW_MASK_H

#include <stddef.h>

/* Write the masked form of in[0..len) to out (NUL-terminated, at most
 * size-1 bytes; a longer result is cut and ends in "..."). Returns the
 * length written. */
size_t bw_mask_excerpt(const char *in, size_t len, char *out, size_t size);

#endif
