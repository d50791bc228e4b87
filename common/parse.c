#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

int parse_int64(int64_t *out, const char *s, int64_t min, int64_t max)
{
	char *end;
	if (!s || !*s || isspace((unsigned char)*s))
		return BERTH_E_INVALID;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return BERTH_E_INVALID;
	*out = v;
	return 0;
}

int parse_port(int *out, const char *s)
{
	int64_t v;
	if (!s || *s == '+' || *s == '-' || parse_int64(&v, s, 0, 65535))
		return BERTH_E_INVALID;
	*out = (int)v;
	return 0;
}

int parse_double(double *out, const char *s)
{
	char *end;
	if (!s || !*s || isspace((unsigned char)*s))
		return BERTH_E_INVALID;
	errno = 0;
	double d = strtod(s, &end);
	if (errno == ERANGE || *end || isnan(d) || isinf(d))
		return BERTH_E_INVALID;
	*out = d;
	return 0;
}

void format_double(struct strbuf *out, double d)
{
	char tmp[64];
	if (d == (double)(int64_t)d && fabs(d) < 1e21) {
		strbuf_addf(out, "%lld", (long long)d);
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*g", p, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* Go prints plain decimals for exponents in [-6, 21), as %g's exponent form otherwise. */
	if (strchr(tmp, 'e') && fabs(d) >= 1e-6 && fabs(d) < 1e21) {
		for (int p = 0; p <= 40; p++) {
			char f[80];
			snprintf(f, sizeof(f), "%.*f", p, d);
			if (strtod(f, NULL) == d) {
				strbuf_addstr(out, f);
				return;
			}
		}
	}
	strbuf_addstr(out, tmp);
}

static const struct {
	const char *name;
	int64_t ns;
} duration_units[] = {
	{"ns", 1LL},           {"us", 1000LL},      {"\xc2\xb5s", 1000LL}, /* U+00B5 micro sign */
	{"\xce\xbcs", 1000LL},                                             /* U+03BC Greek mu */
	{"ms", 1000000LL},     {"s", 1000000000LL}, {"m", 60LL * 1000000000LL}, {"h", 3600LL * 1000000000LL},
};

int parse_duration(int64_t *out_ns, const char *s)
{
	const char *p = s;
	bool neg = false;
	double total = 0;
	if (!s || !*s)
		return BERTH_E_INVALID;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, "0")) {
		*out_ns = 0;
		return 0;
	}
	if (!*p)
		return BERTH_E_INVALID;
	while (*p) {
		const char *num = p;
		while (isdigit((unsigned char)*p))
			p++;
		bool have_int = p > num;
		if (*p == '.') {
			p++;
			const char *frac = p;
			while (isdigit((unsigned char)*p))
				p++;
			if (!have_int && p == frac)
				return BERTH_E_INVALID;
		} else if (!have_int) {
			return BERTH_E_INVALID;
		}
		double v = strtod(num, NULL);
		const char *u = p;
		while (*p && !isdigit((unsigned char)*p) && *p != '.')
			p++;
		size_t ulen = (size_t)(p - u);
		int64_t mult = 0;
		for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
			if (strlen(duration_units[i].name) == ulen && !strncmp(u, duration_units[i].name, ulen))
				mult = duration_units[i].ns;
		if (!mult)
			return BERTH_E_INVALID;
		total += v * (double)mult;
		if (total > 9.2e18)
			return BERTH_E_INVALID;
	}
	*out_ns = (int64_t)llround(neg ? -total : total);
	return 0;
}

/* Writes v with prec fractional digits, trailing zeros dropped, into out. */
static void add_frac(struct strbuf *out, uint64_t v, int prec)
{
	uint64_t pow = 1;
	for (int i = 0; i < prec; i++)
		pow *= 10;
	strbuf_addf(out, "%llu", (unsigned long long)(v / pow));
	uint64_t frac = v % pow;
	if (!frac)
		return;
	char digits[24];
	snprintf(digits, sizeof(digits), "%0*llu", prec, (unsigned long long)frac);
	size_t n = strlen(digits);
	while (n && digits[n - 1] == '0')
		n--;
	strbuf_addch(out, '.');
	strbuf_add(out, digits, n);
}

void format_duration(struct strbuf *out, int64_t ns)
{
	uint64_t u = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
	if (ns < 0)
		strbuf_addch(out, '-');
	if (u == 0) {
		strbuf_addstr(out, "0s");
		return;
	}
	if (u < 1000000000ULL) {
		if (u < 1000ULL) {
			strbuf_addf(out, "%lluns", (unsigned long long)u);
		} else if (u < 1000000ULL) {
			add_frac(out, u, 3);
			strbuf_addstr(out, "\xc2\xb5s");
		} else {
			add_frac(out, u, 6);
			strbuf_addstr(out, "ms");
		}
		return;
	}
	uint64_t secs_ns = u % 60000000000ULL;
	uint64_t mins = u / 60000000000ULL;
	uint64_t hours = mins / 60;
	mins %= 60;
	if (hours)
		strbuf_addf(out, "%lluh", (unsigned long long)hours);
	if (hours || mins)
		strbuf_addf(out, "%llum", (unsigned long long)mins);
	add_frac(out, secs_ns, 9);
	strbuf_addch(out, 's');
}

int parse_bytes(int64_t *out, const char *s)
{
	const char *p = s;
	if (!s)
		return BERTH_E_INVALID;
	const char *num = p;
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	if (p == num || *num == '.')
		return BERTH_E_INVALID;
	char numbuf[64];
	if ((size_t)(p - num) >= sizeof(numbuf))
		return BERTH_E_INVALID;
	memcpy(numbuf, num, (size_t)(p - num));
	numbuf[p - num] = '\0';
	double v;
	if (parse_double(&v, numbuf))
		return BERTH_E_INVALID;
	if (*p == ' ')
		p++;
	double mult = 1;
	switch (tolower((unsigned char)*p)) {
	case 'k':
		mult = 1024.0;
		p++;
		break;
	case 'm':
		mult = 1024.0 * 1024;
		p++;
		break;
	case 'g':
		mult = 1024.0 * 1024 * 1024;
		p++;
		break;
	case 't':
		mult = 1024.0 * 1024 * 1024 * 1024;
		p++;
		break;
	case 'p':
		mult = 1024.0 * 1024 * 1024 * 1024 * 1024;
		p++;
		break;
	default: break;
	}
	if (mult > 1 && tolower((unsigned char)*p) == 'i')
		p++;
	if (tolower((unsigned char)*p) == 'b')
		p++;
	if (*p)
		return BERTH_E_INVALID;
	double r = v * mult;
	if (r > 9.2e18)
		return BERTH_E_INVALID;
	*out = (int64_t)r;
	return 0;
}

bool utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			n = 1;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}
