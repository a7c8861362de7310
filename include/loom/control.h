/* SPDX-License-Identifier: MIT */
/* control.h - loom-netd control protocol: socket, framing, commands, errors. */
#ifndef LOOM_CONTROL_H
#define LOOM_CONTROL_H

/*
 * The control protocol between loom-netd and its clients (`loom`, loom-vmm,
 * scripts). docs/control-protocol.md is the full reference with one example
 * per command; this header holds the constants both sides compile against.
 *
 * Transport: a Unix SOCK_STREAM socket LOOM_CONTROL_SOCKET in the run dir:
 *   --run-dir DIR, else $LOOM_RUN_DIR, else LOOM_RUN_DIR_ROOT as root,
 *   else $XDG_RUNTIME_DIR/loom, else /tmp/loom-UID (mode 0700, ours):
 *   common/rundir.h holds the rule, both sides call it.
 * The daemon checks the peer with SO_PEERCRED (uid 0 or its own uid) before
 * it reads a byte; other peers get one "EPERM" reply ("id": null) and are
 * closed, nothing they send is read.
 *
 * Framing, both directions: a 4-byte big-endian length N, then N bytes of
 * one UTF-8 JSON object. Requests: 1 <= N <= LOOM_CONTROL_MSG_MAX; a
 * length above it gets an "E2BIG" reply, 0 an "EPROTO" reply (both with
 * "id": null), then the connection is closed (the stream cannot be
 * resynchronised). Replies may be longer (a big MAC table), up to
 * LOOM_CONTROL_REPLY_MAX.
 *
 * Request:  {"id": <integer>, "cmd": "<command>", "args": {...}}
 *           ("args" may be left out when a command takes none).
 * Reply:    {"id": <same>, "ok": true,  "result": {...}}
 *           {"id": <same>, "ok": false,
 *            "error": {"code": "ENOENT", "message": "..."}}
 * A client may send several requests without waiting; replies come in
 * request order on that connection.
 */

#define LOOM_CONTROL_SOCKET "netd.sock"
#define LOOM_RUN_DIR_ROOT "/run/loom"
#define LOOM_RUN_DIR_ENV "LOOM_RUN_DIR"
#define LOOM_STATE_DIR_ROOT "/var/lib/loom"
#define LOOM_CONTROL_VERSION 1

enum loom_control_limits {
	LOOM_CONTROL_HDR_LEN = 4,	   /* big-endian uint32 length prefix */
	LOOM_CONTROL_MSG_MAX = 64 * 1024, /* bytes of JSON per request */
	LOOM_CONTROL_REPLY_MAX = 16 * 1024 * 1024, /* bytes per reply */
	LOOM_CONTROL_CLIENTS_MAX = 64,	   /* connections; then the idlest goes */
	LOOM_CONTROL_IDLE_SECS = 60,	   /* idle connections are closed */
};

/* Command names ("cmd"). */
#define LOOM_CMD_NET_CREATE "net.create"
#define LOOM_CMD_NET_APPLY "net.apply"
#define LOOM_CMD_NET_LIST "net.list"
#define LOOM_CMD_NET_SHOW "net.show"
#define LOOM_CMD_NET_DELETE "net.delete"
#define LOOM_CMD_PORT_ADD "port.add"
#define LOOM_CMD_PORT_DEL "port.del"
#define LOOM_CMD_PORT_LIST "port.list"
#define LOOM_CMD_PORT_SET "port.set"
#define LOOM_CMD_FDB_SHOW "fdb.show"
#define LOOM_CMD_FDB_FLUSH "fdb.flush"
#define LOOM_CMD_DAEMON_STATUS "daemon.status"
#define LOOM_CMD_FORWARD_ADD "forward.add"
#define LOOM_CMD_FORWARD_REMOVE "forward.remove"
#define LOOM_CMD_FORWARD_LIST "forward.list"
/*
 * Captures (docs/capture.md): capture.start carries the output fd
 * (SCM_RIGHTS) and turns its connection into the capture's: after the
 * reply netd sends nothing but the final LOOM_EVENT_CAPTURE_END message;
 * the client ends the capture by shutting down its side of the socket.
 */
#define LOOM_CMD_CAPTURE_START "capture.start"
#define LOOM_CMD_CAPTURE_LIST "capture.list"
#define LOOM_EVENT_CAPTURE_END "capture.end"
enum loom_capture_limits {
	LOOM_CAPTURE_PER_NET_MAX = 8,	   /* captures running per network */
	LOOM_CAPTURE_MAX = 32,		   /* captures running in one netd */
	LOOM_CAPTURE_SNAPLEN_MAX = 262144, /* also the default */
	LOOM_CAPTURE_FILTER_MAX = 4096,	   /* bytes of BPF filter text */
};
/*
 * A VM NIC on the kernel path (docs/control-protocol.md): nic.open makes
 * a TAP on a bridge network (args net, port, mac[, vlan, model]) or a
 * macvtap (args macvtap: PARENT[, mode], port, mac) and passes its fd with
 * the reply (SCM_RIGHTS); the connection then belongs to the device: its
 * close removes it. Send it first on a connection of its own. A network
 * whose frames move in netd's switch answers "EOPNOTSUPP" (use shm).
 */
#define LOOM_CMD_NIC_OPEN "nic.open"
#define LOOM_CMD_LEASE_LIST "lease.list"
#define LOOM_CMD_LEASE_RELEASE "lease.release"
/* Reserved: hands the connection over to the shm attach handshake. */
#define LOOM_CMD_PORT_ATTACH "port.attach"

/*
 * Error codes ("error"."code"): errno names, so a client can map them to
 * exit codes. The message is for a person and names the object at fault.
 */
#define LOOM_ERR_INVAL "EINVAL"	 /* bad args: wrong type, missing, invalid */
#define LOOM_ERR_NOENT "ENOENT"	 /* no such network or port */
#define LOOM_ERR_EXIST "EEXIST"	 /* network, port or TAP name taken */
#define LOOM_ERR_PROTO "EPROTO"	 /* not JSON, not an object, no "cmd" */
#define LOOM_ERR_2BIG "E2BIG"	 /* message above LOOM_CONTROL_MSG_MAX */
#define LOOM_ERR_NOSYS "ENOSYS"	 /* unknown command */
#define LOOM_ERR_OPNOTSUPP "EOPNOTSUPP" /* a mode or feature this version lacks */
#define LOOM_ERR_PERM "EPERM"	 /* needs CAP_NET_ADMIN (TAP, netns) */
#define LOOM_ERR_NOSPC "ENOSPC"	 /* a limit reached (networks, ports) */
#define LOOM_ERR_BUSY "EBUSY"	 /* the kernel object is in use */
#define LOOM_ERR_IO "EIO"	 /* state could not be written; rolled back */
#define LOOM_ERR_ADDRINUSE "EADDRINUSE" /* a forward's host port is taken */
#define LOOM_ERR_INTERNAL "EFAULT" /* anything else; see netd's log */

#endif
