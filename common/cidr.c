/*
 * cidr.c - sets of IPv4 and IPv6 networks.
 *
 * Networks are collected as [lo, hi] ranges, one array per family. Freezing
 * sorts each array and merges overlapping and adjacent ranges, so a look-up
 * is one binary search over disjoint, ascending ranges and allocates nothing.
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are IPv4 addresses here: an
 * address is normalised before a look-up, and a network inside
 * ::ffff:0:0/96 is stored as the IPv4 network it maps.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define CIDR_TEXT_MAX 64 /* longest accepted "address/prefix" */
#define ADDR_TEXT_MAX 45 /* INET6_ADDRSTRLEN - 1 */

struct u128 {
	uint64_t hi, lo;
};

struct range4 {
	uint32_t lo, hi;
};

struct range6 {
	struct u128 lo, hi;
};

struct bw_cidr_set {
	struct range4 *v4;
	size_t n4, cap4;
	struct range6 *v6;
	size_t n6, cap6;
	bool frozen;
};

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
					  0, 0, 0, 0, 0xff, 0xff};

struct bw_cidr_set *bw_cidr_new(void)
{
	return xcalloc(1, sizeof(struct bw_cidr_set));
}

void bw_cidr_destroy(struct bw_cidr_set **set)
{
	if (set == NULL || *set == NULL)
		return;
	free((*set)->v4);
	free((*set)->v6);
	free(*set);
	*set = NULL;
}

static uint32_t load32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static uint64_t load64(const uint8_t *b)
{
	return (uint64_t)load32(b) << 32 | load32(b + 4);
}

static struct u128 load128(const uint8_t *b)
{
	return (struct u128){load64(b), load64(b + 8)};
}

static int cmp128(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* The mask of the top `prefix` bits out of 128. */
static struct u128 mask128(unsigned prefix)
{
	struct u128 m = {0, 0};

	if (prefix >= 64) {
		m.hi = UINT64_MAX;
		m.lo = prefix == 64 ? 0 : UINT64_MAX << (128 - prefix);
	} else if (prefix > 0) {
		m.hi = UINT64_MAX << (64 - prefix);
	}
	return m;
}

static uint32_t mask32(unsigned prefix)
{
	return prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
}

/* Turn an IPv4-mapped IPv6 address into the IPv4 address it carries. */
static void normalise(struct bw_addr *a)
{
	if (a->family != 6 || memcmp(a->bytes, mapped_prefix, 12) != 0)
		return;
	memmove(a->bytes, a->bytes + 12, 4);
	memset(a->bytes + 4, 0, 12);
	a->family = 4;
}

static void push4(struct bw_cidr_set *set, uint32_t lo, uint32_t hi)
{
	if (set->n4 == set->cap4) {
		set->cap4 = set->cap4 ? set->cap4 * 2 : 16;
		set->v4 = xreallocarray(set->v4, set->cap4, sizeof(*set->v4));
	}
	set->v4[set->n4++] = (struct range4){lo, hi};
}

static void push6(struct bw_cidr_set *set, struct u128 lo, struct u128 hi)
{
	if (set->n6 == set->cap6) {
		set->cap6 = set->cap6 ? set->cap6 * 2 : 16;
		set->v6 = xreallocarray(set->v6, set->cap6, sizeof(*set->v6));
	}
	set->v6[set->n6++] = (struct range6){lo, hi};
}

/* Parse the prefix length after '/': 1 to 3 decimal digits. */
static int parse_prefix(const char *p, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; p[i] != '\0'; i++) {
		if (i == 3 || p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (i == 0)
		return -1;
	*out = v;
	return 0;
}

static int add4(struct bw_cidr_set *set, const char *text,
		const struct bw_addr *a, unsigned prefix, struct bw_error *err)
{
	uint32_t ip = load32(a->bytes), m;
	char net[INET_ADDRSTRLEN];
	struct in_addr in;

	if (prefix > 32)
		return bw_error_set(err, NULL, 0,
				    "\"%s\": prefix /%u is out of range for "
				    "IPv4 (0-32)",
				    text, prefix);
	m = mask32(prefix);
	if ((ip & ~m) != 0) {
		in.s_addr = htonl(ip & m);
		inet_ntop(AF_INET, &in, net, sizeof(net));
		return bw_error_set(err, NULL, 0,
				    "\"%s\": host bits set below the /%u "
				    "prefix (the network is %s/%u)",
				    text, prefix, net, prefix);
	}
	push4(set, ip & m, ip | ~m);
	return 0;
}

static int add6(struct bw_cidr_set *set, const char *text,
		const struct bw_addr *a, unsigned prefix, struct bw_error *err)
{
	struct u128 ip = load128(a->bytes), m, lo, hi;
	uint8_t netb[16];
	char net[INET6_ADDRSTRLEN];
	int i;

	if (prefix > 128)
		return bw_error_set(err, NULL, 0,
				    "\"%s\": prefix /%u is out of range for "
				    "IPv6 (0-128)",
				    text, prefix);
	m = mask128(prefix);
	lo = (struct u128){ip.hi & m.hi, ip.lo & m.lo};
	hi = (struct u128){ip.hi | ~m.hi, ip.lo | ~m.lo};
	if (cmp128(lo, ip) != 0) {
		for (i = 0; i < 8; i++) {
			netb[i] = (uint8_t)(lo.hi >> (56 - 8 * i));
			netb[8 + i] = (uint8_t)(lo.lo >> (56 - 8 * i));
		}
		inet_ntop(AF_INET6, netb, net, sizeof(net));
		return bw_error_set(err, NULL, 0,
				    "\"%s\": host bits set below the /%u "
				    "prefix (the network is %s/%u)",
				    text, prefix, net, prefix);
	}
	/* Inside ::ffff:0:0/96: the IPv4 network it maps. */
	if (prefix >= 96 && memcmp(a->bytes, mapped_prefix, 12) == 0) {
		push4(set, (uint32_t)lo.lo, (uint32_t)hi.lo);
		return 0;
	}
	push6(set, lo, hi);
	/* Covering all of ::ffff:0:0/96 (like ::/0): every IPv4 address. */
	if (prefix <= 96 && lo.hi == 0 && (0x0000ffff00000000ULL & m.lo) == lo.lo)
		push4(set, 0, UINT32_MAX);
	return 0;
}

int bw_cidr_add(struct bw_cidr_set *set, const char *text,
		struct bw_error *err)
{
	char buf[CIDR_TEXT_MAX + 1];
	const char *slash;
	struct bw_addr a;
	size_t len, alen;
	unsigned prefix;

	if (set->frozen)
		return bw_error_set(err, NULL, 0,
				    "cannot add a network to a frozen set");
	if (text == NULL || text[0] == '\0')
		return bw_error_set(err, NULL, 0, "empty network");
	len = strnlen(text, CIDR_TEXT_MAX + 1);
	if (len > CIDR_TEXT_MAX)
		return bw_error_set(err, NULL, 0,
				    "network \"%.*s...\" is too long",
				    CIDR_TEXT_MAX, text);
	memcpy(buf, text, len + 1);
	slash = strchr(buf, '/');
	alen = slash ? (size_t)(slash - buf) : len;
	if (alen == 0)
		return bw_error_set(err, NULL, 0, "\"%s\": missing address",
				    buf);
	if (bw_addr_parse(buf, alen, &a) != 0)
		return bw_error_set(err, NULL, 0,
				    "\"%s\": \"%.*s\" is not an IPv4 or IPv6 "
				    "address",
				    buf, (int)alen, buf);
	/* bw_addr_parse normalised a mapped address; keep its v6 form for
	 * prefix arithmetic, which counts in IPv6 bits. */
	if (a.family == 4 && memchr(buf, ':', alen) != NULL) {
		memmove(a.bytes + 12, a.bytes, 4);
		memcpy(a.bytes, mapped_prefix, 12);
		a.family = 6;
	}
	if (slash == NULL)
		prefix = a.family == 4 ? 32 : 128;
	else if (parse_prefix(slash + 1, &prefix) != 0)
		return bw_error_set(err, NULL, 0,
				    "\"%s\": the prefix length after '/' must "
				    "be a number",
				    buf);
	if (a.family == 4)
		return add4(set, buf, &a, prefix, err);
	return add6(set, buf, &a, prefix, err);
}

static int cmp_range4(const void *pa, const void *pb)
{
	const struct range4 *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static int cmp_range6(const void *pa, const void *pb)
{
	const struct range6 *a = pa, *b = pb;

	return cmp128(a->lo, b->lo);
}

static struct u128 inc128(struct u128 v)
{
	v.lo++;
	if (v.lo == 0)
		v.hi++;
	return v;
}

static void merge4(struct bw_cidr_set *set)
{
	size_t i, n = 0;

	if (set->n4 == 0)
		return;
	qsort(set->v4, set->n4, sizeof(*set->v4), cmp_range4);
	for (i = 1; i < set->n4; i++) {
		struct range4 *cur = &set->v4[n], next = set->v4[i];

		/* Overlapping or adjacent (cur->hi + 1 == next.lo). */
		if (cur->hi == UINT32_MAX || next.lo <= cur->hi + 1) {
			if (next.hi > cur->hi)
				cur->hi = next.hi;
		} else {
			set->v4[++n] = next;
		}
	}
	set->n4 = n + 1;
}

static void merge6(struct bw_cidr_set *set)
{
	static const struct u128 max = {UINT64_MAX, UINT64_MAX};
	size_t i, n = 0;

	if (set->n6 == 0)
		return;
	qsort(set->v6, set->n6, sizeof(*set->v6), cmp_range6);
	for (i = 1; i < set->n6; i++) {
		struct range6 *cur = &set->v6[n], next = set->v6[i];

		if (cmp128(cur->hi, max) == 0 ||
		    cmp128(next.lo, inc128(cur->hi)) <= 0) {
			if (cmp128(next.hi, cur->hi) > 0)
				cur->hi = next.hi;
		} else {
			set->v6[++n] = next;
		}
	}
	set->n6 = n + 1;
}

void bw_cidr_freeze(struct bw_cidr_set *set)
{
	if (set->frozen)
		return;
	merge4(set);
	merge6(set);
	set->frozen = true;
}

static bool find4(const struct bw_cidr_set *set, uint32_t ip)
{
	size_t lo = 0, hi = set->n4, mid, i;

	if (!set->frozen) {
		for (i = 0; i < set->n4; i++)
			if (set->v4[i].lo <= ip && ip <= set->v4[i].hi)
				return true;
		return false;
	}
	/* The last range whose lo is <= ip, if any, is the only candidate. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (set->v4[mid].lo <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && ip <= set->v4[lo - 1].hi;
}

static bool find6(const struct bw_cidr_set *set, struct u128 ip)
{
	size_t lo = 0, hi = set->n6, mid, i;

	if (!set->frozen) {
		for (i = 0; i < set->n6; i++)
			if (cmp128(set->v6[i].lo, ip) <= 0 &&
			    cmp128(ip, set->v6[i].hi) <= 0)
				return true;
		return false;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cmp128(set->v6[mid].lo, ip) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && cmp128(ip, set->v6[lo - 1].hi) <= 0;
}

bool bw_cidr_contains(const struct bw_cidr_set *set, const struct bw_addr *addr)
{
	struct bw_addr a;

	if (set == NULL || addr == NULL)
		return false;
	a = *addr;
	normalise(&a);
	if (a.family == 4)
		return find4(set, load32(a.bytes));
	if (a.family == 6)
		return find6(set, load128(a.bytes));
	return false;
}

size_t bw_cidr_count(const struct bw_cidr_set *set)
{
	return set->n4 + set->n6;
}

int bw_addr_parse(const char *text, size_t len, struct bw_addr *out)
{
	char buf[ADDR_TEXT_MAX + 1];
	struct bw_addr a;
	int af;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > ADDR_TEXT_MAX)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	/* An embedded NUL would let inet_pton accept a prefix of the text. */
	if (memchr(buf, '\0', len) != NULL)
		return -1;
	memset(&a, 0, sizeof(a));
	af = memchr(buf, ':', len) != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, buf, a.bytes) != 1)
		return -1;
	a.family = af == AF_INET ? 4 : 6;
	normalise(&a);
	*out = a;
	return 0;
}

const char *bw_addr_str(const struct bw_addr *a, char *buf, size_t size)
{
	int af;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (a == NULL || (a->family != 4 && a->family != 6))
		return buf;
	af = a->family == 4 ? AF_INET : AF_INET6;
	if (inet_ntop(af, a->bytes, buf, (socklen_t)size) == NULL)
		buf[0] = '\0';
	return buf;
}

bool bw_addr_equal(const struct bw_addr *a, const struct bw_addr *b)
{
	struct bw_addr x = *a, y = *b;

	normalise(&x);
	normalise(&y);
	if (x.family != y.family)
		return false;
	if (x.family == 4)
		return memcmp(x.bytes, y.bytes, 4) == 0;
	if (x.family == 6)
		return memcmp(x.bytes, y.bytes, 16) == 0;
	return true;
}
