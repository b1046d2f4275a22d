/* The egress relay: the sandbox's only way out when its policy names hosts (see relay.c). */
#ifndef KAVACH_RELAY_H
#define KAVACH_RELAY_H

/* Supervisor side, before the namespaces exist: opens the egress proxy's Unix socket as an
 * O_PATH descriptor (checked to be a socket) and returns it. Fails the launch on error. */
int relay_open_socket(const char *path);

/* Init side, after every restriction but seccomp: listens on 127.0.0.1:port in the sandbox's
 * network namespace, forks the relay, and reports "egress-relay <port>". The relay forwards each
 * connection to the proxy through socket_fd. Fails the launch if the port cannot be bound. */
void relay_start(int port, int socket_fd);

#endif
