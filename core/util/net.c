/*
 * net.c - client sockets (net.h).
 */
#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

int
ndx_dial(const struct sockaddr *addr, socklen_t addr_len)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    if (connect(fd, addr, addr_len) != 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    if (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int
ndx_send_all(int fd, const void *p, size_t len)
{
    const char *s = p;

    while (len) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}
