/*
 * srv_listen.c - the server's listening sockets: reads a --listen address
 * (tcp:HOST:PORT, tcp:PORT, http:HOST:PORT, http:PORT, unix:/PATH), binds
 * it non-blocking, names it as bound (port 0 becomes the port the system
 * gave), and closes it, removing a Unix socket's file.  Accepting is
 * srv_conn.c's.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "srv.h"

static int
all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int
srv_addr_parse(const char *spec, srv_addr *a)
{
    const char *s = spec, *colon;
    size_t hl;

    memset(a, 0, sizeof *a);
    if (strncmp(s, "unix:", 5) == 0 || s[0] == '/' || s[0] == '.') {
        if (strncmp(s, "unix:", 5) == 0)
            s += 5;
        if (!*s || strlen(s) >= sizeof a->path) {
            srv_complain("bad --listen %s: a Unix socket path of 1 to %zu "
                         "bytes", spec, sizeof a->path - 1);
            return -1;
        }
        strcpy(a->path, s);
        return 0;
    }
    a->tcp = 1;
    strcpy(a->port, "7878");
    if (strncmp(s, "tcp:", 4) == 0) {
        s += 4;
    } else if (strncmp(s, "http:", 5) == 0) {
        s += 5;
        a->http = 1;
        strcpy(a->port, "8080");
    }
    strcpy(a->host, "127.0.0.1");
    if (!*s)
        return 0;
    if (all_digits(s)) {
        if (strlen(s) > 5 || atol(s) > 65535)
            goto bad;
        strcpy(a->port, s);
        return 0;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close || (close[1] && close[1] != ':'))
            goto bad;
        hl = (size_t)(close - s - 1);
        colon = close[1] ? close + 1 : NULL;
        s++;
    } else {
        colon = strrchr(s, ':');
        hl = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (hl == 0 || hl >= sizeof a->host)
        goto bad;
    memcpy(a->host, s, hl);
    a->host[hl] = '\0';
    if (colon) {
        if (!all_digits(colon + 1) || strlen(colon + 1) > 5 ||
            atol(colon + 1) > 65535)
            goto bad;
        strcpy(a->port, colon + 1);
    }
    return 0;
bad:
    srv_complain("bad --listen %s: use tcp:HOST:PORT, tcp:PORT, "
                 "http:HOST:PORT, http:PORT or unix:/PATH", spec);
    return -1;
}

static int
listen_tcp(listener *l, const srv_addr *a)
{
    struct addrinfo hints, *res = NULL, *ai;
    char host[NI_MAXHOST], port[NI_MAXSERV];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = -1, rc, err = 0, one = 1;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(a->host, a->port, &hints, &res);
    if (rc) {
        srv_complain("cannot listen on tcp:%s:%s: %s; check the host "
                     "name", a->host, a->port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
                                       SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, 1024) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        srv_complain("cannot listen on tcp:%s:%s: %s; %s", a->host,
                     a->port, strerror(err),
                     err == EADDRINUSE
                         ? "another program holds the port: stop it or pass "
                           "another --listen address"
                     : err == EACCES
                         ? "ports below 1024 need privileges: pick a "
                           "higher port"
                         : "check that the address belongs to this machine");
        return -1;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port,
                    sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(l->name, sizeof l->name,
                 ss.ss_family == AF_INET6 ? "%s:[%s]:%s" : "%s:%s:%s",
                 a->http ? "http" : "tcp", host, port);
    else
        snprintf(l->name, sizeof l->name, "%s:%s:%s",
                 a->http ? "http" : "tcp", a->host, a->port);
    l->ev.kind = EV_LISTEN;
    l->ev.fd = fd;
    l->tcp = 1;
    l->http = a->http;
    return 0;
}

static int
listen_unix(listener *l, const srv_addr *a)
{
    struct sockaddr_un sun;
    struct stat sb;
    int fd = -1;

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
    if (lstat(a->path, &sb) == 0) {
        int probe;

        if (!S_ISSOCK(sb.st_mode)) {
            srv_complain("cannot listen on unix:%s: the path exists and "
                         "is not a socket; pick another path", a->path);
            return -1;
        }
        /* A socket file nobody answers on is left by a server that did
         * not stop cleanly: take its place. */
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 &&
            connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
            close(probe);
            srv_complain("cannot listen on unix:%s: another server is "
                         "listening there; stop it or pick another path",
                         a->path);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(a->path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
        listen(fd, 1024) != 0) {
        srv_complain("cannot listen on unix:%s: %s; check that the "
                     "directory exists and is writable", a->path,
                     strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    l->unix_path = strdup(a->path);
    snprintf(l->name, sizeof l->name, "unix:%s", a->path);
    l->ev.kind = EV_LISTEN;
    l->ev.fd = fd;
    l->tcp = 0;
    return 0;
}

void
srv_listener_close(listener *l)
{
    if (l->ev.fd >= 0) {
        if (l->unix_path)
            unlink(l->unix_path);
        close(l->ev.fd);
        l->ev.fd = -1;
    }
    free(l->unix_path);
    l->unix_path = NULL;
}

int
srv_listen(listener *l, const srv_addr *a)
{
    l->ev.fd = -1;
    return a->tcp ? listen_tcp(l, a) : listen_unix(l, a);
}
