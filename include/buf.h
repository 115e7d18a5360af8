/*
 * buf.h - growable byte buffers and allocation that does not fail
 *
 * DESCRIPTION
 *	xmalloc() and friends either succeed or abort the process: every
 *	size that comes from the network is capped before it reaches them.
 *	struct buf is a length-carrying byte buffer that is always kept
 *	NUL-terminated (data[len] == 0) so it can be handed to C string
 *	functions once its content is known not to hold NUL bytes.
 */
#ifndef MW_BUF_H
#define MW_BUF_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT	{ NULL, 0, 0 }

void	 buf_init(struct buf *);
void	 buf_reset(struct buf *);		/* len = 0, keeps memory */
void	 buf_release(struct buf *);		/* frees memory */
void	 buf_reserve(struct buf *, size_t);	/* room for n more bytes */
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_truncate(struct buf *, size_t);
/* buf_newline - a newline unless empty: one message per line in a why */
void	 buf_newline(struct buf *);
char	*buf_steal(struct buf *);		/* returns data, resets buf */
const char *buf_cstr(const struct buf *);	/* never NULL */

/*
 * buf_addc - append one byte.  Inline: decoders (base64, quoted-printable,
 * charsets, HTML, JSON) call it for every byte of a message, and a call
 * through buf_add() and buf_reserve() per byte cost a fifth of the CPU of
 * a scan.  The room check keeps the terminating NUL as buf_reserve does.
 */
static inline void
buf_addc(struct buf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
	} else
		buf_add(b, &c, 1);
}

#endif
