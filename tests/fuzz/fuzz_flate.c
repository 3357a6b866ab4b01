/*
 * fuzz_flate.c - differential libFuzzer target: the fixed-code deflate
 * decoder that reads passages' stored text (core/util/flate.c) against
 * zlib's inflate on the same stream and preset dictionary.
 *
 * The first input byte chooses the dictionary's length (the end of a
 * fixed text, 0 to 63 bytes or up to 32 KB) and the mode:
 * - even: the rest of the input is a raw deflate stream as it comes;
 * - odd: the rest is text, deflated here by zlib with the fixed codes
 *   against the dictionary, so that the decoder's successful path is
 *   reached on every input; and by the encoder (ndx_flate_encode, as the
 *   segment writer does it), whose stream zlib and the decoder must read
 *   back to the text.
 * zlib inflates the stream (Z_FINISH, room for 64 KB more than the
 * decoder is asked for).  Where zlib ends the stream with L bytes, the
 * decoder given L must say OK with the same bytes (or DYNAMIC when a block
 * has dynamic codes), and given L - 1 or L + 1 must say BAD; where zlib
 * does not end it, no output length may be OK.  A disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "util/flate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DICT_MAX (32 * 1024)
#define OUT_MAX (256 * 1024)

static unsigned char dict_text[DICT_MAX];

static void
make_dict(void)
{
    static const char *const words[] = {
        "the ", "minister ", "said ", "on ", "Tuesday ", "that ", "a ",
        "new ", "report ", "shows ", "markets ", "fell ", "after ",
        "elections ", "in ", "the state ", ", ", ". ", "police ", "were ",
    };
    uint32_t x = 12345;
    size_t n = 0;

    while (n < DICT_MAX) {
        const char *w;
        size_t l;

        x = x * 1103515245u + 12345u;
        w = words[(x >> 16) % (sizeof words / sizeof *words)];
        l = strlen(w);
        if (l > DICT_MAX - n)
            l = DICT_MAX - n;
        memcpy(dict_text + n, w, l);
        n += l;
    }
}

static void
fail(const char *why, size_t len)
{
    fprintf(stderr, "flate and zlib disagree: %s (output length %zu)\n", why,
            len);
    abort();
}

static int
one_input(const uint8_t *data, size_t size, const unsigned char *dict,
          size_t dict_len)
{
    static unsigned char zout[OUT_MAX + 65536], out[OUT_MAX + 1];
    static unsigned char packed[OUT_MAX + 4096], mine[OUT_MAX + 4096];
    static ndx_flate_enc *enc;
    const unsigned char *in;
    size_t in_len, len, n;
    z_stream z;
    int zend, r;

    in = data + 1;
    in_len = size - 1;

    if (data[0] & 1) {
        /* Text deflated as the writer does it. */
        if (in_len > OUT_MAX)
            return 0;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, 3, Z_DEFLATED, -15, 8, Z_FIXED) != Z_OK)
            return 0;
        if (dict_len && deflateSetDictionary(&z, dict, (uInt)dict_len) !=
                            Z_OK) {
            deflateEnd(&z);
            return 0;
        }
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)in_len;
        z.next_out = packed;
        z.avail_out = sizeof packed;
        r = deflate(&z, Z_FINISH);
        deflateEnd(&z);
        if (r != Z_STREAM_END)
            return 0;
        len = in_len;
        in_len = sizeof packed - z.avail_out;
        in = packed;
        if (ndx_flate_fixed(dict, dict_len, in, in_len, out, len) !=
                NDX_FLATE_OK ||
            memcmp(out, data + 1, len))
            fail("zlib's own fixed-code stream not read back", len);
        /* The encoder's stream of the same text: within its bound, and
         * read back by zlib and by the decoder. */
        if (!enc && !(enc = ndx_flate_enc_new()))
            return 0;
        if (ndx_flate_enc_dict(enc, dict, dict_len) != 0)
            return 0;
        n = ndx_flate_encode(enc, data + 1, len, mine, sizeof mine);
        if (n == 0 || n > ndx_flate_bound(len))
            fail("the encoder wrote nothing or past its bound", len);
        if (ndx_flate_fixed(dict, dict_len, mine, n, out, len) !=
                NDX_FLATE_OK ||
            memcmp(out, data + 1, len))
            fail("the encoder's stream not read back", len);
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, -15) != Z_OK)
            return 0;
        if (dict_len)
            inflateSetDictionary(&z, dict, (uInt)dict_len);
        z.next_in = mine;
        z.avail_in = (uInt)n;
        z.next_out = zout;
        z.avail_out = sizeof zout;
        r = inflate(&z, Z_FINISH);
        inflateEnd(&z);
        if (r != Z_STREAM_END || sizeof zout - z.avail_out != len ||
            memcmp(zout, data + 1, len))
            fail("zlib does not read the encoder's stream back", len);
    }

    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return 0;
    if (dict_len && inflateSetDictionary(&z, dict, (uInt)dict_len) != Z_OK) {
        inflateEnd(&z);
        return 0;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)in_len;
    z.next_out = zout;
    z.avail_out = sizeof zout;
    zend = inflate(&z, Z_FINISH) == Z_STREAM_END;
    len = sizeof zout - z.avail_out;
    inflateEnd(&z);

    if (zend) {
        if (len > OUT_MAX)
            return 0;
        r = ndx_flate_fixed(dict, dict_len, in, in_len, out, len);
        if (r == NDX_FLATE_DYNAMIC)
            return 0;
        if (r != NDX_FLATE_OK)
            fail("zlib ends the stream, flate refuses it", len);
        if (memcmp(out, zout, len))
            fail("different bytes", len);
        if (len > 0 && ndx_flate_fixed(dict, dict_len, in, in_len, out,
                                       len - 1) == NDX_FLATE_OK)
            fail("OK one byte short", len - 1);
        if (ndx_flate_fixed(dict, dict_len, in, in_len, out, len + 1) ==
            NDX_FLATE_OK)
            fail("OK one byte long", len + 1);
    } else {
        /* Whatever length is asked, a stream zlib cannot end is not OK;
         * asked for the most, the decoder reads as far as it can. */
        if (ndx_flate_fixed(dict, dict_len, in, in_len, out, OUT_MAX) ==
            NDX_FLATE_OK)
            fail("zlib cannot end the stream, flate says OK", OUT_MAX);
        if (len > OUT_MAX)
            len = OUT_MAX;
        if (ndx_flate_fixed(dict, dict_len, in, in_len, out, len) ==
            NDX_FLATE_OK)
            fail("zlib cannot end the stream, flate says OK", len);
        if (len > 0 && ndx_flate_fixed(dict, dict_len, in, in_len, out,
                                       len - 1) == NDX_FLATE_OK)
            fail("zlib cannot end the stream, flate says OK", len - 1);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    unsigned char *dict;
    size_t dict_len;

    if (!ready) {
        make_dict();
        ready = 1;
    }
    if (size < 1)
        return 0;
    /* Half the inputs a dictionary of at most 63 bytes, for matches that
     * reach its start and just past it; half up to the whole 32 KB. */
    dict_len = (size_t)(data[0] >> 1);
    if (dict_len >= 64)
        dict_len = (dict_len - 63) * (DICT_MAX / 64);
    if (dict_len > DICT_MAX)
        dict_len = DICT_MAX;
    /* The dictionary in a block of its own size: a read before or past
     * it is the sanitizer's to see. */
    if (!(dict = malloc(dict_len ? dict_len : 1)))
        return 0;
    memcpy(dict, dict_text + DICT_MAX - dict_len, dict_len);
    one_input(data, size, dict, dict_len);
    free(dict);
    return 0;
}
