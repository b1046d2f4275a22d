/*
 * The framed protocol between the host (kavach's Java side) and kavach-agent.
 * Specified in docs/agent-protocol.md; dev.kavach.internal.guest.AgentProtocol is the host side.
 *
 * frame   = type (1 byte) | length (4 bytes, big-endian) | payload (length bytes)
 * strings = length (4 bytes, big-endian) | bytes, no NUL inside
 */
#ifndef KAVACH_FRAME_H
#define KAVACH_FRAME_H

#include <stdint.h>
#include <stddef.h>

#define PROTOCOL_VERSION 1
#define FRAME_HEADER 5
#define MAX_REQUEST (1u << 20)   /* request payload: argv + env + cwd */
#define MAX_CHUNK (64u * 1024)   /* stdin, stdout and stderr chunks */
#define MAX_STRINGS 65536        /* argv or env entries in one request */

/* host -> agent */
#define T_REQUEST 'Q'
#define T_STDIN 'I'
#define T_STDIN_CLOSE 'C'
#define T_KILL 'K'
#define T_PING 'P'
/* agent -> host */
#define T_STDOUT 'O'
#define T_STDERR 'E'
#define T_EXIT 'X'
#define T_ERROR 'F'
/* T_PING is answered with T_PING carrying the agent's version string. */

#define REQ_FLAG_STDIN 1u /* stdin frames follow; otherwise the command's stdin is /dev/null */

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t now_ms(void);

/* Writes a whole frame, waiting at most until deadline_ms for the peer to accept it.
 * Returns 0, or -1 with errno set (ETIMEDOUT when the peer stalled). */
int frame_write(int fd, uint8_t type, const void *payload, uint32_t len, int64_t deadline_ms);

/* Reads exactly len bytes, waiting at most until deadline_ms. Returns 0, or -1 with errno
 * (0 when the peer closed the connection first, ETIMEDOUT on timeout). */
int read_full(int fd, void *buf, size_t len, int64_t deadline_ms);

/* Writes exactly len bytes, waiting at most until deadline_ms. Returns 0 or -1 with errno. */
int write_full(int fd, const void *buf, size_t len, int64_t deadline_ms);

static inline uint32_t get_u32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

#endif
