/*
 * punycode.c - RFC 3492 Punycode and A-label domain normalisation
 *
 * STANDARDS
 *	RFC 3492 (Punycode), RFC 5890 (IDNA definitions), RFC 1035 and
 *	RFC 1123 (host name syntax).
 *
 * SECURITY
 *	Input is untrusted (From header domains, DKIM d=, PSL rules).  All
 *	arithmetic is checked for overflow; output never exceeds outsz.
 */
#include "config.h"

#include <idn2.h>
#include <stdint.h>
#include <string.h>

#include "punycode.h"
#include "str.h"

enum {
	PC_BASE = 36, PC_TMIN = 1, PC_TMAX = 26, PC_SKEW = 38, PC_DAMP = 700,
	PC_INITIAL_BIAS = 72, PC_INITIAL_N = 128
};

static char
pc_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

static uint32_t
pc_adapt(uint32_t delta, uint32_t numpoints, bool first)
{
	uint32_t k = 0;

	delta = first ? delta / PC_DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
		delta /= PC_BASE - PC_TMIN;
		k += PC_BASE;
	}
	return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

int
punycode_encode(const uint32_t *cp, size_t n, char *out, size_t outsz)
{
	uint32_t nn = PC_INITIAL_N, delta = 0, bias = PC_INITIAL_BIAS, h, b, m;
	size_t o = 0, i;

#define PUT(c) do { if (o + 1 >= outsz) return -1; out[o++] = (c); } while (0)
	for (i = 0; i < n; i++)
		if (cp[i] < 0x80)
			PUT((char)cp[i]);
	h = b = (uint32_t)o;
	if (b > 0)
		PUT('-');
	while (h < n) {
		m = UINT32_MAX;
		for (i = 0; i < n; i++)
			if (cp[i] >= nn && cp[i] < m)
				m = cp[i];
		if ((uint64_t)(m - nn) * (h + 1) > UINT32_MAX - delta)
			return -1;
		delta += (m - nn) * (h + 1);
		nn = m;
		for (i = 0; i < n; i++) {
			if (cp[i] < nn && ++delta == 0)
				return -1;
			if (cp[i] == nn) {
				uint32_t q = delta, k;

				for (k = PC_BASE;; k += PC_BASE) {
					uint32_t t = k <= bias ? PC_TMIN :
					    k >= bias + PC_TMAX ? PC_TMAX : k - bias;

					if (q < t)
						break;
					PUT(pc_digit(t + (q - t) % (PC_BASE - t)));
					q = (q - t) / (PC_BASE - t);
				}
				PUT(pc_digit(q));
				bias = pc_adapt(delta, h + 1, h == b);
				delta = 0;
				h++;
			}
		}
		delta++;
		nn++;
	}
#undef PUT
	out[o] = '\0';
	return 0;
}

/* label_ok - LDH label, no hyphen at either end */
static bool
label_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!ch_is_alnum((unsigned char)p[i]) && p[i] != '-')
			return false;
	return true;
}

/*
 * idna_map - the name mapped and encoded by libidn2 (UTS #46
 * non-transitional, IDNA2008); 0 with the ASCII form in out, -1 if
 * libidn2 refuses it or it does not fit
 */
static int
idna_map(const char *p, size_t n, char *out, size_t outsz)
{
	char in[4 * DOMAIN_MAX + 1];
	char *res = NULL;
	int rc;

	if (n >= sizeof(in) || memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(in, p, n);
	in[n] = '\0';
	rc = idn2_lookup_u8((const uint8_t *)in, (uint8_t **)&res,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK || res == NULL || strlen(res) >= outsz) {
		idn2_free(res);
		return -1;
	}
	for (rc = 0; res[rc] != '\0'; rc++)	/* A-labels: ASCII only */
		if ((unsigned char)res[rc] >= 0x80) {
			idn2_free(res);
			return -1;
		}
	memcpy(out, res, strlen(res) + 1);
	idn2_free(res);
	return 0;
}

int
domain_to_alabel(const char *p, size_t n, char *out, size_t outsz)
{
	char mapped[DOMAIN_MAX + 2];
	size_t o = 0, start, i;

	if (outsz < DOMAIN_MAX + 1)
		return -1;
	for (i = 0; i < n && (unsigned char)p[i] < 0x80; i++)
		;
	/* UTF-8: mapped by libidn2, then checked as the ASCII name it is */
	if (i < n && n <= 4 * DOMAIN_MAX &&
	    idna_map(p, n, mapped, sizeof(mapped)) == 0)
		return domain_to_alabel(mapped, strlen(mapped), out, outsz);
	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || n > 4 * DOMAIN_MAX)
		return -1;
	for (start = 0; start <= n;) {
		const char *lab = p + start, *dot;
		size_t ln, before = o;
		bool ascii = true;

		dot = memchr(lab, '.', n - start);
		ln = dot ? (size_t)(dot - lab) : n - start;
		for (i = 0; i < ln; i++)
			if ((unsigned char)lab[i] >= 0x80)
				ascii = false;
		if (ascii) {
			if (o + ln + 1 > DOMAIN_MAX + 1)
				return -1;
			for (i = 0; i < ln; i++)
				out[o++] = (char)ch_lower((unsigned char)lab[i]);
		} else {
			uint32_t cps[64];
			size_t ncp = 0;
			char enc[64];
			int len;

			for (i = 0; i < ln; i += (size_t)len) {
				uint32_t c;

				len = utf8_next((const unsigned char *)lab + i,
				    ln - i, &c);
				if (len < 0 || ncp == 64)
					return -1;
				cps[ncp++] = c < 0x80 ? (uint32_t)ch_lower((int)c) : c;
			}
			if (punycode_encode(cps, ncp, enc, sizeof(enc)) < 0 ||
			    o + 4 + strlen(enc) + 1 > DOMAIN_MAX + 1)
				return -1;
			memcpy(out + o, "xn--", 4);
			memcpy(out + o + 4, enc, strlen(enc));
			o += 4 + strlen(enc);
		}
		if (!label_ok(out + before, o - before))
			return -1;
		if (dot == NULL)
			break;
		out[o++] = '.';
		start += ln + 1;
	}
	if (o > DOMAIN_MAX)
		return -1;
	out[o] = '\0';
	return 0;
}

bool
domain_is_subdomain(const char *d, const char *parent)
{
	size_t dl = strlen(d), pl = strlen(parent);

	if (pl == 0 || dl < pl || !str_nieq(d + dl - pl, pl, parent, pl))
		return false;
	return dl == pl || d[dl - pl - 1] == '.';
}

size_t
domain_labels(const char *d)
{
	size_t n = *d ? 1 : 0;

	for (; *d; d++)
		if (*d == '.')
			n++;
	return n;
}
