// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --listen ADDR:PORT: the metrics over HTTP for a Prometheus without
 * node_exporter.  A server of one path: GET /metrics answers 200 with
 * the last frame's exposition (metrics.c; text format 0.0.4, whatever
 * the Accept header asks: every Prometheus takes it), any other path
 * 404, any other method 405, a request that is not HTTP 400.  One
 * request per connection (Connection: close).
 *
 * No thread: klptop's frame loop poll()s the sockets with its session
 * (top_listen_pollfds(), top_listen_handle()), and nothing here blocks.
 * A client cannot stall or exhaust klptop: at most LISTEN_CLIENTS
 * connections at once (more wait in the kernel's backlog), a request
 * head of at most LISTEN_REQ_MAX bytes (else 431), and LISTEN_TIMEOUT_MS
 * from accept to the last byte of the answer, after which the
 * connection is closed whatever its state (a client that sends or
 * reads slowly).  Writes are non-blocking and never raise SIGPIPE.
 *
 * Addresses are numeric (no name lookup): 127.0.0.1:9101,
 * [::1]:9101, 0.0.0.0:9101 for every interface; a bare PORT or :PORT is
 * the loopback 127.0.0.1, so that nothing is exposed unless asked.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "klptop.h"

#define LISTEN_CLIENTS		8
#define LISTEN_REQ_MAX		4096
#define LISTEN_TIMEOUT_MS	5000

struct client {
	int fd;			/* -1: a free slot */
	uint64_t deadline_ms;
	size_t len;		/* of the request head read so far */
	char req[LISTEN_REQ_MAX];
	char *resp;		/* the answer, once the head is read */
	size_t resp_len, sent;
};

struct top_listen {
	int fd;
	char *body;		/* the last frame's exposition */
	size_t body_len;
	struct client c[LISTEN_CLIENTS];
};

static uint64_t now_ms(void)
{
	return top_mono_ns() / 1000000;
}

static int listen_error(const char *spec, const char *what, int err)
{
	char shown[256];

	fprintf(stderr, PROG ": --listen %s: %s%s%s\n",
		top_esc_text(shown, sizeof(shown), spec), what,
		err ? ": " : "", err ? strerror(err) : "");
	return err ? -err : -EINVAL;
}

/* spec into host and port: [v6]:port, v4:port, :port or port. */
static int split_spec(const char *spec, char *host, size_t hsize,
		      char *port, size_t psize)
{
	const char *colon, *p = spec;
	size_t n;

	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (!close || close[1] != ':')
			return -1;
		n = (size_t)(close - p - 1);
		if (!n || n >= hsize)
			return -1;
		memcpy(host, p + 1, n);
		host[n] = '\0';
		p = close + 2;
	} else if ((colon = strrchr(p, ':'))) {
		n = (size_t)(colon - p);
		if (n >= hsize || memchr(p, ':', n))
			return -1;	/* a bare v6 address: needs [] */
		memcpy(host, p, n);
		host[n] = '\0';
		p = colon + 1;
	} else {
		host[0] = '\0';
	}
	if (!*host)
		snprintf(host, hsize, "127.0.0.1");
	n = strspn(p, "0123456789");
	if (!n || p[n] || n >= psize || atol(p) > 65535)
		return -1;
	snprintf(port, psize, "%s", p);
	return 0;
}

int top_listen_open(const char *spec, struct top_listen **out)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
	};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64], port[8], shost[64], sport[8];
	struct addrinfo *ai;
	struct top_listen *l;
	int fd, one = 1, err, i;

	if (split_spec(spec, host, sizeof(host), port, sizeof(port)) ||
	    getaddrinfo(host, port, &hints, &ai))
		return listen_error(spec, "not a numeric ADDR:PORT "
				    "(127.0.0.1:9101, [::1]:9101, 9101)", 0);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		err = errno;
		freeaddrinfo(ai);
		return listen_error(spec, "socket", err);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)	/* [::] is v6 only, as written */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		err = errno;
		close(fd);
		freeaddrinfo(ai);
		return listen_error(spec, "cannot listen", err);
	}
	freeaddrinfo(ai);
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return listen_error(spec, "out of memory", ENOMEM);
	}
	l->fd = fd;
	for (i = 0; i < LISTEN_CLIENTS; i++)
		l->c[i].fd = -1;
	/* the port bound (PORT 0: the kernel's choice), for the operator */
	if (!getnameinfo((struct sockaddr *)&ss, sl, shost, sizeof(shost),
			 sport, sizeof(sport), NI_NUMERICHOST | NI_NUMERICSERV))
		fprintf(stderr, PROG ": serving http://%s%s%s:%s/metrics\n",
			ss.ss_family == AF_INET6 ? "[" : "", shost,
			ss.ss_family == AF_INET6 ? "]" : "", sport);
	*out = l;
	return 0;
}

int top_listen_set(struct top_listen *l, const char *buf, size_t len)
{
	char *b = malloc(len ? len : 1);

	if (!b)
		return -ENOMEM;
	memcpy(b, buf, len);
	free(l->body);
	l->body = b;
	l->body_len = len;
	return 0;
}

static void drop(struct client *c)
{
	close(c->fd);
	free(c->resp);
	c->fd = -1;
	c->resp = NULL;
	c->len = c->resp_len = c->sent = 0;
}

static int answer(struct client *c, const char *status, const char *extra,
		  const char *body, size_t len)
{
	int n = snprintf(NULL, 0, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, extra, len);

	c->resp = malloc((size_t)n + 1 + len);
	if (!c->resp)
		return -ENOMEM;
	snprintf(c->resp, (size_t)n + 1, "HTTP/1.1 %s\r\n%sContent-Length: "
		 "%zu\r\nConnection: close\r\n\r\n", status, extra, len);
	memcpy(c->resp + n, body, len);
	c->resp_len = (size_t)n + len;
	return 0;
}

static int error_page(struct client *c, const char *status,
		      const char *extra)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	return answer(c, status, extra, body, (size_t)n);
}

/* The head is complete (or too long): what to answer. */
static int respond(struct top_listen *l, struct client *c, bool complete)
{
	char method[8], target[64];
	const char *line = c->req, *sp1, *sp2, *eol;

	if (!complete)
		return error_page(c, "431 Request Header Fields Too Large", "");
	eol = strpbrk(line, "\r\n");
	sp1 = memchr(line, ' ', (size_t)(eol - line));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) ||
	    (size_t)(sp1 - line) >= sizeof(method))
		return error_page(c, "400 Bad Request", "");
	memcpy(method, line, (size_t)(sp1 - line));
	method[sp1 - line] = '\0';
	snprintf(target, sizeof(target), "%.*s",
		 (int)(sp2 - sp1 - 1), sp1 + 1);
	if (strcmp(method, "GET"))
		return error_page(c, "405 Method Not Allowed",
				  "Allow: GET\r\n");
	/* a query string (Prometheus' params) changes nothing */
	if (strcmp(target, "/metrics") && strncmp(target, "/metrics?", 9))
		return error_page(c, "404 Not Found", "");
	return answer(c, "200 OK", "Content-Type: text/plain; version=0.0.4; "
		      "charset=utf-8\r\nCache-Control: no-store\r\n",
		      l->body ? l->body : "", l->body ? l->body_len : 0);
}

int top_listen_pollfds(struct top_listen *l, struct pollfd *pfd, int max)
{
	int i, n = 0, busy = 0;

	for (i = 0; i < LISTEN_CLIENTS && n < max - 1; i++) {
		struct client *c = &l->c[i];

		if (c->fd < 0)
			continue;
		busy++;
		pfd[n].fd = c->fd;
		pfd[n].events = c->resp ? POLLOUT : POLLIN;
		pfd[n++].revents = 0;
	}
	if (n < max) {
		/* full: new connections wait in the backlog */
		pfd[n].fd = busy < LISTEN_CLIENTS ? l->fd : -1;
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
	}
	return n;
}

static void accept_new(struct top_listen *l)
{
	int i;

	for (i = 0; i < LISTEN_CLIENTS; i++) {
		struct client *c = &l->c[i];

		if (c->fd >= 0)
			continue;
		c->fd = accept4(l->fd, NULL, NULL,
				SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c->fd < 0)
			return;		/* EAGAIN, or the client gone */
		c->deadline_ms = now_ms() + LISTEN_TIMEOUT_MS;
	}
}

static void client_read(struct top_listen *l, struct client *c)
{
	ssize_t n = recv(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len,
			 MSG_DONTWAIT);
	bool complete;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c);	/* gone before asking */
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	complete = strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n");
	if (memchr(c->req, '\0', c->len)) {
		drop(c);	/* NUL in a head: not HTTP */
		return;
	}
	if ((complete || c->len == sizeof(c->req) - 1) &&
	    respond(l, c, complete))
		drop(c);	/* out of memory: no answer */
}

static void client_write(struct client *c)
{
	ssize_t n = send(c->fd, c->resp + c->sent, c->resp_len - c->sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c);
		return;
	}
	c->sent += (size_t)n;
	if (c->sent == c->resp_len) {
		shutdown(c->fd, SHUT_WR);
		drop(c);
	}
}

void top_listen_handle(struct top_listen *l, const struct pollfd *pfd,
		       int n)
{
	uint64_t now = now_ms();
	int i, k;

	for (k = 0; k < n; k++) {
		if (!pfd[k].revents || pfd[k].fd < 0)
			continue;
		if (pfd[k].fd == l->fd) {
			accept_new(l);
			continue;
		}
		for (i = 0; i < LISTEN_CLIENTS; i++) {
			struct client *c = &l->c[i];

			if (c->fd != pfd[k].fd)
				continue;
			if (c->resp && (pfd[k].revents & (POLLOUT | POLLERR |
							  POLLHUP)))
				client_write(c);
			else if (!c->resp)
				client_read(l, c);
			break;
		}
	}
	for (i = 0; i < LISTEN_CLIENTS; i++)
		if (l->c[i].fd >= 0 && now >= l->c[i].deadline_ms)
			drop(&l->c[i]);		/* too slow */
}

int top_listen_timeout(const struct top_listen *l)
{
	uint64_t now = now_ms(), first = UINT64_MAX;
	int i;

	for (i = 0; i < LISTEN_CLIENTS; i++)
		if (l->c[i].fd >= 0 && l->c[i].deadline_ms < first)
			first = l->c[i].deadline_ms;
	if (first == UINT64_MAX)
		return -1;
	return first > now ? (int)(first - now) : 0;
}

void top_listen_close(struct top_listen *l)
{
	int i;

	if (!l)
		return;
	for (i = 0; i < LISTEN_CLIENTS; i++)
		if (l->c[i].fd >= 0)
			drop(&l->c[i]);
	close(l->fd);
	free(l->body);
	free(l);
}
