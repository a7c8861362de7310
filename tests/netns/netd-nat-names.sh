#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-nat-names.sh - forwards to guest names on a nat network: `loom forward add NET tcp PORT web:8000` reaches the namespace whose DHCP lease is named web; when web's lease moves to another address the forward follows; a name without an address holds its port and refuses; kill -9 + restart brings it back pointed at the name's address.
. "$(dirname "$0")/common.bash"
skip_unless_root
if ! busybox udhcpc --help 2>&1 | grep -q Usage; then
	echo "skipped: busybox udhcpc missing (scripts/install-deps.sh)"
	exit 77
fi

TA=lm$$wa
SCRIPT=$ROOT/tests/netns/udhcpc.script
base=$((24000 + ($$ % 2000) * 4))
P_WEB=$base		# forward to web:8000
P_GHOST=$((base + 1))	# forward to a name nobody holds
ns_add a
mkdir -p "/etc/netns/$(ns a)" "$T/www"
: >"/etc/netns/$(ns a)/resolv.conf"
trap 'rm -rf /etc/netns/$(ns a); cleanup' EXIT
echo "web says hi" >"$T/www/file"
cat >"$T/get.py" <<'EOF'
import sys, urllib.request
sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=10).read())
EOF
cat >"$T/refused.py" <<'EOF'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)
EOF
loom() { "$LOOM" --run-dir "$RUN_DIR" "$@"; }
dhcp() { # dhcp [udhcpc options]: one run in the foreground as host "web"
	LEASE_OUT=$T/lease ip netns exec "$(ns a)" busybox udhcpc -i "$TA" \
		-f -q -n -t 6 -T 1 -A 1 -s "$SCRIPT" -x hostname:web "$@"
}
addr() { ip -n "$(ns a)" -o -4 addr show dev "$TA" | awk '{print $4}' | cut -d/ -f1; }
# target PORT: where the forward on PORT points now ("" when it waits).
target() {
	loom forward list nn --json | python3 -c "
import json, sys
f = [x for x in json.load(sys.stdin)['forwards'] if x['host'].endswith(':$1')]
print(f[0].get('target', '') + ' ' + f[0]['state'])"
}
# wait_target PORT WANT: up to 3 s for target PORT to print WANT.
wait_target() {
	for _ in $(seq 30); do
		[ "$(target "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "forward on $1: '$(target "$1")', wanted '$2'"
	return 1
}

netd_start || exit 1
check "net create nn (nat, DHCP on the gateway)" \
	loom net create nn --subnet 10.234.0.0/24
check "port add: a TAP into the namespace" ctl port.add \
	"{\"net\":\"nn\",\"name\":\"pa\",\"tap\":\"$TA\",\"netns\":\"$(ns a)\"}"
ip -n "$(ns a)" link set dev "$TA" address 02:34:00:00:00:0a
check "the namespace gets a lease as host 'web'" dhcp
IP1=$(addr)
ip netns exec "$(ns a)" python3 -m http.server 8000 --bind 0.0.0.0 \
	--directory "$T/www" >/dev/null 2>&1 &
EXTRA_PIDS="$!"
sleep 0.5

check "loom forward add nn tcp PORT web:8000 (a name)" \
	loom forward add nn tcp "$P_WEB" web:8000
check "the forward points at web's lease ($IP1)" \
	wait_target "$P_WEB" "$IP1:8000 up"
check "loom forward list shows the name and its address" \
	bash -c "'$LOOM' --run-dir '$RUN_DIR' forward list nn | grep -q 'web:8000 ($IP1:8000)'"
check "the host reaches web through the name forward" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P_WEB/file)\" = 'web says hi' ]"

check "a forward to a name nobody holds is accepted" \
	loom forward add nn tcp "$P_GHOST" ghost:80
check "... and waits (no address)" wait_target "$P_GHOST" " waiting"
check "... its port refuses connections" python3 "$T/refused.py" "$P_GHOST"
check_not "... and is held: nobody else binds it" python3 -c "
import socket; socket.socket().bind(('127.0.0.1', $P_GHOST))"
# Another program on a port the kernel picks (a fixed one may be taken).
python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)" >"$T/busy.port" &
EXTRA_PIDS="$EXTRA_PIDS $!"
for _ in $(seq 50); do [ -s "$T/busy.port" ] && break; sleep 0.1; done
P_BUSY=$(cat "$T/busy.port")
loom forward add nn tcp "$P_BUSY" ghost:80 >"$T/busy.out" 2>&1
rc=$?
check "a name forward on a port in use: exit 1, the port named" \
	bash -c "[ $rc = 1 ] && grep -q '127.0.0.1:$P_BUSY (tcp) is in use' $T/busy.out"

# web's lease moves: released (-R), then a new client id (another MAC)
# with the same host name gets the next address of the pool.
check "web releases its lease" dhcp -R
ip -n "$(ns a)" link set dev "$TA" address 02:34:00:00:00:0b
check "web comes back with another MAC and gets a lease" dhcp
IP2=$(addr)
check "web's new address differs ($IP1 -> $IP2)" \
	bash -c "[ -n '$IP2' ] && [ '$IP2' != '$IP1' ]"
check "the forward follows web to $IP2" wait_target "$P_WEB" "$IP2:8000 up"
check "the host reaches web at its new address through the same forward" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P_WEB/file)\" = 'web says hi' ]"

kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
netd_start || exit 1
check "after kill -9 + restart: the forward points at web's lease again" \
	wait_target "$P_WEB" "$IP2:8000 up"
# netd recreated the TAP (a new one, no address): web's NIC keeps its MAC
# and asks again, as a VM's would.
ip -n "$(ns a)" link set dev "$TA" address 02:34:00:00:00:0b
check "after restart: web gets its lease again" dhcp
check "... the same address" test "$(addr)" = "$IP2"
check "after restart: the ghost forward still waits" \
	wait_target "$P_GHOST" " waiting"
check "after restart: the host reaches web through the name forward" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P_WEB/file)\" = 'web says hi' ]"
check "loom forward remove of the name forward" loom forward remove nn tcp "$P_WEB"
check "after remove: its port refuses" python3 "$T/refused.py" "$P_WEB"
netd_stop
finish
