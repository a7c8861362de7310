#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-badinput.sh - bad control input gets a clear error; netd keeps serving others.
#
# Malformed JSON, an oversized message, an unknown command, wrong types, an
# invalid network (JSON) and an invalid YAML file (via --config and via the
# `loom` client), all while one client stays connected and idle clients
# fill the connection table; a second client is served after each of them.
. "$(dirname "$0")/common.bash"
skip_unless_root

cat >"$T/bad.yaml" <<'EOF'
networks:
  - name: ok1
    mode: switch
  - name: broken
    mode: switch
    mtu: 12
EOF
netd_start --config "$T/bad.yaml" || exit 1
check "invalid YAML in --config: error names file, line and field" \
	grep -Eq 'bad\.yaml:6:.*mtu' "$T/netd.log"
check "netd serves after an invalid --config" ctl daemon.status

# One client stays connected through everything and is served at the end.
python3 - "$SOCK" >"$T/longlived.out" 2>&1 <<'EOF' &
import json, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
def call(i, cmd):
    req = json.dumps({"id": i, "cmd": cmd}).encode()
    s.sendall(struct.pack(">I", len(req)) + req)
    n, = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))
    return json.loads(s.recv(n, socket.MSG_WAITALL))
ok = 0
for i in range(16):   # one request every 0.25 s, on the same connection
    ok += call(i, "daemon.status")["ok"]
    time.sleep(0.25)
r = call(42, "net.list")
print("LONGLIVED", r["id"], r["ok"], ok)
EOF
long_pid=$!
EXTRA_PIDS=$long_pid
sleep 0.3

code() { ctl_code "$@" 2>/dev/null; }
check "malformed JSON -> EPROTO" test "$(code --raw '{"id": 1, "cmd": ')" = EPROTO
check "served after malformed JSON" ctl daemon.status
check "not an object -> EPROTO" test "$(code --raw '[1,2,3]')" = EPROTO
check "oversized message -> E2BIG" test "$(code --oversize)" = E2BIG
check "served after an oversized message" ctl daemon.status
check "unknown command -> ENOSYS" test "$(code net.explode)" = ENOSYS
check "wrong type (mtu as string) -> EINVAL" \
	test "$(code net.create '{"name":"x","mtu":"big"}')" = EINVAL
check "invalid network (vlan 5000) -> EINVAL naming the field" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.create '{\"name\":\"x\",\"ports\":[{\"tap\":\"lmx\",\"vlan\":5000}]}' |
		grep -q 'ports\\[0\\].vlan'"
check "unknown network -> ENOENT" test "$(code net.show '{"name":"nope"}')" = ENOENT
check "create ok1" ctl net.create '{"name":"ok1","mode":"switch"}'
check "duplicate network -> EEXIST" \
	test "$(code net.create '{"name":"ok1","mode":"isolated"}')" = EEXIST
check "mode bridge with a bad bridge name -> error naming the field" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	! ctl net.create '{\"name\":\"n2\",\"mode\":\"bridge\",\"bridge\":\"a/b\"}' >'$T/br.out' &&
	grep -q 'bridge: a bridge name may hold only' '$T/br.out'"
check "forwards on a switch network -> EOPNOTSUPP" test "$(code forward.add \
	'{"net":"ok1","proto":"tcp","host":"18999","guest":"10.0.2.5"}')" = EOPNOTSUPP
check "create nat1" ctl net.create '{"name":"nat1","mode":"nat"}'
check "bad forward host -> EINVAL" test "$(code forward.add \
	'{"net":"nat1","host":"99999","guest":"10.0.2.5"}')" = EINVAL
check "forward guest outside the subnet -> EINVAL" test "$(code forward.add \
	'{"net":"nat1","host":"18998","guest":"192.0.2.5"}')" = EINVAL
check "port in a missing netns -> ENOENT, nothing left" bash -c "
	$(declare -f ctl ctl_code); CTL=$CTL SOCK=$SOCK
	test \"\$(ctl_code port.add '{\"net\":\"ok1\",\"tap\":\"lm$$bad\",\"netns\":\"lmt-no-such-ns\"}')\" = ENOENT &&
	! ip link show lm$$bad 2>/dev/null"

# 70 idle connections: more than the table holds; a new client still gets in.
python3 - "$SOCK" <<'EOF' &
import socket, sys, time
conns = []
for _ in range(70):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    conns.append(s)
time.sleep(3)
EOF
idle_pid=$!
EXTRA_PIDS="$long_pid $idle_pid"
sleep 0.5
check "served while 70 idle clients are connected" ctl daemon.status

# A peer that is neither root nor netd's uid is refused before parsing.
if id nobody >/dev/null 2>&1; then
	chmod 755 "$T" "$RUN_DIR"
	chmod 666 "$SOCK"
	check "a peer of another uid gets EPERM (SO_PEERCRED)" bash -c "
		su -s /bin/sh nobody -c \"python3 '$CTL' '$SOCK' daemon.status\" |
			grep -q '\"EPERM\"'"
	check "served after refusing a foreign peer" ctl daemon.status
fi

if [ -x "$LOOM" ]; then
	export LOOM_RUN_DIR=$RUN_DIR
	"$LOOM" net apply "$T/bad.yaml" >"$T/apply.out" 2>&1
	rc=$?
	check "loom net apply bad.yaml fails with file:line:field" \
		bash -c "[ $rc -ne 0 ] && grep -Eq 'bad\.yaml:6:.*mtu' '$T/apply.out'"
else
	echo "note: loom client check left out: $LOOM not built"
fi

wait "$long_pid"
check "the long-lived client was served at the end" \
	grep -q "LONGLIVED 42 True 16" "$T/longlived.out"
wait "$idle_pid" 2>/dev/null
EXTRA_PIDS=
check "netd still alive" kill -0 "$NETD_PID"
finish
