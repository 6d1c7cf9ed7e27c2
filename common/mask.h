/*
 * mask.h - masking secrets and personal data in evidence excerpts.
 *
 * Evidence travels to the security team and into the breach record; it must
 * show what happened without spreading what was exposed. Masked:
 *  - values of secret-looking query and form parameters (password, passwd,
 *    pwd, pass, token, access_token, api_key, apikey, key, secret, session,
 *    sessionid, sid, auth, code, ...): "token=****";
 *  - Authorization / Basic / Bearer credentials, PGPASSWORD=..., and the
 *    quoted literal after "PASSWORD" in SQL;
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
