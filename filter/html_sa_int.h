/*
 * html_sa_int.h - shared between html_sa.c and html_sa_style.c
 */
#ifndef MW_HTML_SA_INT_H
#define MW_HTML_SA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "html_sa.h"

/* colour values besides 0xRRGGBB */
#define HSA_COLOR_INVALID	(-1)	/* SpamAssassin's "invalid" */
#define HSA_COLOR_HASH		(-2)	/* "#": a hex value without digits */
#define HSA_COLOR_TRANSPARENT	(-3)	/* until resolved */
#define HSA_COLOR_NONE		(-4)	/* no colour found */

/* one entry of SpamAssassin's text_style stack */
struct hsa_style {
	const char *tag;	/* interned: compared by address */
	int32_t	 fg, bg;
	int	 size;
	bool	 display_none;
	bool	 visibility_hidden;
};

/* html_sa_color - SpamAssassin's name_to_rgb of s[0..n) */
int32_t	 html_sa_color(const char *s, size_t n);
/* html_sa_color_rgb - a CSS value holding "rgb": its first three numbers */
int32_t	 html_sa_color_rgb(const char *v);
/* html_sa_css - apply a style attribute's declarations to st */
void	 html_sa_css(const char *s, size_t n, const struct hsa_style *parent,
	    struct hsa_style *st);
/* html_sa_face_bad - a <font face> value SpamAssassin finds odd */
bool	 html_sa_face_bad(const char *s, size_t n);

#endif
