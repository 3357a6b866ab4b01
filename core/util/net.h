/*
 * net.h - the client side of a stream socket, for the programs and tests
 * that talk to the query server (net.c): connect, send every byte.  The
 * server's own non-blocking I/O is searcher/'s.
 */
#ifndef NDX_UTIL_NET_H
#define NDX_UTIL_NET_H

#include <stddef.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A connected blocking stream socket (close-on-exec) to the address, with
 * Nagle's delay off for TCP; -1 with errno set on failure. */
int ndx_dial(const struct sockaddr *addr, socklen_t addr_len);

/* Sends len bytes at p, going on after signals, never raising SIGPIPE.
 * 0, or -1 when the peer is gone or send fails (errno set). */
int ndx_send_all(int fd, const void *p, size_t len);

#ifdef __cplusplus
}
#endif
#endif
