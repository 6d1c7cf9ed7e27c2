/*
 * gen_nginx.c - a deterministic nginx `combined` access log of an e-mail
 * service provider's API, for benchmarks.
 *
 *   gen_nginx [--fresh-ips] LINES [SEED] > access.log
 *
 * The mix: customers (c1001..c9999, an API principal named as its own
 * customer id) reading their own contacts, messages and profile; web-mail
 * static assets; logins that mostly succeed; and, spread through the file, a
 * few attacks the default rules are for (a scraper reading many customers'
 * contact lists, SQL injection probes, a password brute force). Time starts
 * on 2026-11-23 09:00:00 UTC and advances about 1,000 lines per second.
 * The same arguments always give the same bytes.
 *
 * Client addresses: each customer has a home address (9 requests in 10)
 * and roams from a random one otherwise, as people with a desk and a phone
 * do. --fresh-ips gives every line a new random address instead: the worst
 * case for state kept per address (a botnet spraying requests), where every
 * rule keyed by address meets a new key on every line.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state;

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rng() % n);
}

/* A public-looking IPv4 address from 64 bits. */
static void format_ip(char *buf, size_t size, uint64_t h)
{
	snprintf(buf, size, "%u.%u.%u.%u", 1 + (unsigned)(h % 223),
		 (unsigned)((h >> 8) & 0xff), (unsigned)((h >> 16) & 0xff),
		 1 + (unsigned)((h >> 24) % 254));
}

/* The customer's home address: fixed per customer (and seed). */
static void home_ip(char *buf, size_t size, unsigned cust, uint64_t seed)
{
	uint64_t z = seed ^ ((uint64_t)cust * 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 29)) * 0x94d049bb133111ebULL;
	format_ip(buf, size, z ^ (z >> 32));
}

static const char *const agents[] = {
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	"ESPMail-Android/4.2.1 okhttp/4.12.0",
	"ESPMail-iOS/4.2.0 CFNetwork/1490.0.4 Darwin/23.2.0",
	"Thunderbird/128.3.0",
};

static const char *const statics[] = {
	"/static/app.js", "/static/app.css", "/static/logo.svg",
	"/favicon.ico", "/static/fonts/inter.woff2",
};

static const char *const sqli[] = {
	"id=1%27%20OR%20%271%27=%271",
	"q=x%27%20UNION%20SELECT%20password%20FROM%20users--",
	"sort=name;DROP%20TABLE%20contacts",
	"id=1%20AND%20SLEEP(5)",
};

static void line(time_t t, const char *ip, const char *user,
		 const char *method, const char *path, const char *query,
		 int status, unsigned bytes, const char *agent)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
					   "Jun", "Jul", "Aug", "Sep", "Oct",
					   "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	printf("%s - %s [%02d/%s/%04d:%02d:%02d:%02d +0000] \"%s %s%s%s "
	       "HTTP/1.1\" %d %u \"-\" \"%s\"\n",
	       ip, user, tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	       tm.tm_hour, tm.tm_min, tm.tm_sec, method, path,
	       query ? "?" : "", query ? query : "", status, bytes, agent);
}

int main(int argc, char **argv)
{
	uint64_t n, i, seed;
	time_t t0 = 1795424400; /* 2026-11-23T09:00:00Z */
	char ip[32], user[16], path[128];
	int fresh = 0;

	if (argc > 1 && strcmp(argv[1], "--fresh-ips") == 0) {
		fresh = 1;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: gen_nginx [--fresh-ips] LINES [SEED]\n");
		return 2;
	}
	n = strtoull(argv[1], NULL, 10);
	seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
	rng_state = seed;

	for (i = 0; i < n; i++) {
		time_t t = t0 + (time_t)(i / 1000);
		unsigned r = pick(1000);
		unsigned cust = 1001 + pick(8999);
		const char *agent = agents[pick(6)];

		if (fresh || pick(10) == 0)
			format_ip(ip, sizeof(ip), rng());
		else
			home_ip(ip, sizeof(ip), cust, seed);
		snprintf(user, sizeof(user), "c%u", cust);
		if (r < 2) {
			/* The scraper: one principal, many customers. */
			snprintf(path, sizeof(path),
				 "/api/v1/customers/c%u/contacts", cust);
			line(t, "203.0.113.66", "c1001", "GET", path, NULL, 200,
			     2048 + pick(4096), "python-requests/2.31.0");
		} else if (r < 3) {
			snprintf(path, sizeof(path),
				 "/api/v1/customers/c%u/messages", cust);
			line(t, "198.51.100.23", "-", "GET", path, sqli[pick(4)],
			     400, 157, "sqlmap/1.7.2#stable");
		} else if (r < 6) {
			line(t, "192.0.2.77", "c1500", "POST",
			     "/api/v1/session", NULL, 401, 64,
			     "Mozilla/5.0 Hydra");
		} else if (r < 250) {
			line(t, ip, "-", "GET", statics[pick(5)], NULL,
			     pick(10) ? 200 : 304, 512 + pick(200000), agent);
		} else if (r < 270) {
			line(t, ip, user, "POST", "/api/v1/session", NULL,
			     pick(20) ? 200 : 401, 64, agent);
		} else {
			static const char *const what[] = { "contacts",
							    "messages",
							    "profile" };
			const char *w = what[pick(3)];

			snprintf(path, sizeof(path), "/api/v1/customers/c%u/%s",
				 cust, w);
			line(t, ip, user, "GET", path,
			     w[0] == 'm' ? "page=1&limit=50" : NULL,
			     pick(200) ? 200 : 404, 300 + pick(40000), agent);
		}
	}
	return 0;
}
