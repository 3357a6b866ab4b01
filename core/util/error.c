/*
 * error.c - the thread-local error message behind ndx_error().
 */
#include <stdarg.h>
#include <stdio.h>

#include "newsdex/status.h"

static _Thread_local char err_buf[1024];

ndx_status
ndx_error(ndx_status code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return code;
}

const char *
ndx_errmsg(void)
{
    return err_buf;
}

void
ndx_error_clear(void)
{
    err_buf[0] = '\0';
}

const char *
ndx_status_name(ndx_status code)
{
    switch (code) {
    case NDX_OK: return "ok";
    case NDX_ENOMEM: return "nomem";
    case NDX_EIO: return "io";
    case NDX_EINVAL: return "invalid";
    case NDX_ENOTFOUND: return "not_found";
    case NDX_ECORRUPT: return "corrupt";
    case NDX_ESYNTAX: return "syntax";
    case NDX_ELOCKED: return "locked";
    case NDX_ENOTSUP: return "not_supported";
    case NDX_ETIMEOUT: return "timeout";
    case NDX_EVERSION: return "version";
    case NDX_ELIMIT: return "limit";
    }
    return "unknown";
}
