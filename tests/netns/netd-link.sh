#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-link.sh - `loom port set NET PORT link down|up`: a TAP's carrier in its namespace and a VM NIC's link (shm header), kept across kill -9 of netd, and the errors.
. "$(dirname "$0")/common.bash"
skip_unless_root
PEER=$ROOT/build/tests/netns/shm_attach_peer
if [ ! -x "$PEER" ] || [ ! -x "$LOOM" ]; then
	echo "FAIL: $PEER or $LOOM not built (run make)"
	exit 1
fi

ns_add a
ns_add b
TA=lm$$la
TB=lm$$lb
loom() { "$LOOM" --run-dir "$RUN_DIR" "$@"; }
carrier() { ip netns exec "$(ns a)" cat "/sys/class/net/$TA/carrier" 2>/dev/null; }
# wait_for FILE PATTERN: up to 5 s for a line in FILE.
wait_for() {
	for _ in $(seq 50); do grep -q "$2" "$1" && return 0; sleep 0.1; done
	return 1
}
port_json() { # port_json PORT KEY: the key of PORT in `loom --json port list`
	loom --json port list ln | python3 -c "
import json, sys
p = [x for x in json.load(sys.stdin)['ports'] if x['name'] == '$1']
print(p[0].get('$2', '-') if p else 'absent')"
}

netd_start || exit 1
check "net create" loom net create ln --mode switch --subnet 10.236.0.0/24 \
	--no-dhcp --no-dns
check "port a (TAP in a namespace)" loom port add ln --tap "$TA" --name a \
	--netns "$(ns a)" --address 10.236.0.11/24
check "port b (TAP in a namespace)" loom port add ln --tap "$TB" --name b \
	--netns "$(ns b)" --address 10.236.0.12/24
# The loopback port hairpins every frame: on a network of its own.
check "net lx with a loopback port" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom net create lx --mode switch && loom port add lx --type loopback --name lo"
check "a pings b" ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.236.0.12
check "carrier of a is 1" test "$(carrier)" = 1

loom port set ln a link down >"$T/set.out" 2>&1
check "port set a link down: exit 0, says so" grep -q 'link down' "$T/set.out"
check "a's interface shows carrier 0" test "$(carrier)" = 0
check "a's interface is NO-CARRIER" \
	bash -c "ip -n $(ns a) link show $TA | grep -q NO-CARRIER"
check_not "a cannot ping b without carrier" \
	ip netns exec "$(ns a)" ping -c 1 -W 1 10.236.0.12
check "port list shows link-down" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom port list ln | grep -E '^ln +a .*link-down'"
check "--json port list: link down" test "$(port_json a link)" = down
check "--json port set answers the port" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom --json port set ln a link down | python3 -c '
import json, sys; p = json.load(sys.stdin)[\"port\"]; assert p[\"link\"] == \"down\", p'"
check "net show lists it in link_down" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom --json net show ln | grep -q '\"link_down\"'"

# A VM NIC (the shm port protocol, as loom-vmm's backend sees it).
"$PEER" "$SOCK" ln 10.236.0.99 60 >"$T/peer.out" 2>&1 &
peer_pid=$!
EXTRA_PIDS=$peer_pid
check "VM NIC attached, link up" wait_for "$T/peer.out" '^link up'
check "b pings the VM NIC" ip netns exec "$(ns b)" ping -c 2 -i 0.2 -W 2 10.236.0.99
check "port set VM link down" loom port set ln vm-004c4d01 link down
check "the VM NIC sees link down" wait_for "$T/peer.out" '^link down'
check_not "b cannot ping the VM NIC with its link down" \
	ip netns exec "$(ns b)" ping -c 1 -W 1 10.236.0.99
check "port list: the VM port is link-down" test "$(port_json vm-004c4d01 link)" = down
check "port set VM link up" loom port set ln vm-004c4d01 link up
check "the VM NIC sees link up again" bash -c "
	for _ in \$(seq 50); do
		grep '^link' '$T/peer.out' | tail -1 | grep -q 'link up' && exit 0
		sleep 0.1
	done; exit 1"
check "b pings the VM NIC again" ip netns exec "$(ns b)" ping -c 2 -i 0.2 -W 2 10.236.0.99
check "port set VM link down (kept for the restart)" \
	loom port set ln vm-004c4d01 link down

# Errors: clear messages, non-zero exits.
check_not "unknown network: non-zero exit" loom port set nonet a link down
check "unknown network: message" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom port set nonet a link down 2>&1 | grep -q \"network 'nonet' does not exist\""
check "unknown port: message" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom port set ln nope link down 2>&1 | grep -q \"network 'ln' has no port 'nope'\""
check_not "unknown port: non-zero exit" loom port set ln nope link down
check "bad value: usage error" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom port set ln a link sideways 2>&1 | grep -q \"link must be 'up' or 'down'\""
check "unknown setting: usage error" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom port set ln a speed 10 2>&1 | grep -q \"unknown setting 'speed'\""
check "a loopback port has no link: says so" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom port set lx lo link down 2>&1 | grep -q 'has no link loom can set'"
check "port set --help" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom port set --help | grep -q 'Usage: loom port set NET PORT link up|down'"

# A bridge network: a veth port's far end (in its namespace) loses its
# carrier when netd sets its own end down.
ns_add c
TC=lm$$lc
vcarrier() { ip netns exec "$(ns c)" cat "/sys/class/net/$TC/carrier" 2>/dev/null; }
check "bridge network with a veth port" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom net create lbr --mode bridge --bridge lb$$l --subnet 10.238.0.0/24 --no-dhcp --no-dns &&
	loom port add lbr --type veth --tap $TC --name c --netns $(ns c) --address 10.238.0.13/24"
for _ in $(seq 30); do [ "$(vcarrier)" = 1 ] && break; sleep 0.1; done
check "veth end in the namespace: carrier 1" test "$(vcarrier)" = 1
check "port set lbr c link down" loom port set lbr c link down
for _ in $(seq 30); do [ "$(vcarrier)" = 0 ] && break; sleep 0.1; done
check "veth end in the namespace: carrier 0" test "$(vcarrier)" = 0
check "bridge port list: link-down" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom port list lbr | grep -E '^lbr +c .*(link-down|down)' && loom --json port list lbr | grep -q '\"link\": \"down\"'"
check "port set lbr c link up" loom port set lbr c link up
for _ in $(seq 30); do [ "$(vcarrier)" = 1 ] && break; sleep 0.1; done
check "veth end in the namespace: carrier 1 again" test "$(vcarrier)" = 1
check "bridge network deleted" loom net delete lbr

# kill -9 and restart: the acknowledged setting is declared state.
kill "$peer_pid" 2>/dev/null
wait "$peer_pid" 2>/dev/null
EXTRA_PIDS=
kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
netd_start || exit 1
for _ in $(seq 50); do [ -n "$(carrier)" ] && break; sleep 0.1; done
check "after kill -9 + restart: a's TAP is back with carrier 0" test "$(carrier)" = 0
check "after restart: port list still link-down" test "$(port_json a link)" = down
check "after restart: b's link is up" \
	test "$(ip netns exec "$(ns b)" cat "/sys/class/net/$TB/carrier")" = 1
"$PEER" "$SOCK" ln 10.236.0.99 2 >"$T/peer2.out" 2>&1
check "a VM NIC re-attaching after the restart starts with link down" \
	grep -q '^link down' "$T/peer2.out"
check "port set a link up" loom port set ln a link up
check "carrier of a is 1 again" test "$(carrier)" = 1
check "a pings b again" ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.236.0.12
check "link up is saved: only the VM port is left in link_down" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom --json net show ln | python3 -c '
import json, sys; n = json.load(sys.stdin)[\"network\"]; assert n[\"link_down\"] == [\"vm-004c4d01\"], n'"
# loom net apply: the file's link_down list, applied live.
bcarrier() { ip netns exec "$(ns b)" cat "/sys/class/net/$TB/carrier" 2>/dev/null; }
loom --json net show ln | python3 -c '
import json, sys
n = json.load(sys.stdin)["network"]
keep = {k: n[k] for k in ("name", "mode", "subnet", "mtu") if k in n}
keep["ports"] = [{k: p[k] for k in ("name", "tap", "netns", "address") if k in p}
                 for p in n["ports"]]
keep["dhcp"] = {"enabled": False}
keep["dns"] = {"enabled": False}
print(json.dumps({"networks": [dict(keep, link_down=["b", "vm-004c4d01"])]}))
' >"$T/down.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["networks"][0]["link_down"]=["vm-004c4d01"]; print(json.dumps(d))' "$T/down.json" >"$T/up.json"
check "net apply with link_down: [b, ...]" loom net apply "$T/down.json"
check "b's carrier follows the file: 0" test "$(bcarrier)" = 0
check "net apply without b in link_down" loom net apply "$T/up.json"
check "b's carrier follows the file: 1" test "$(bcarrier)" = 1
check "deleting the VM port forgets its link setting" bash -c "$(declare -f loom); LOOM=$LOOM RUN_DIR=$RUN_DIR
	loom port del ln vm-004c4d01 && ! loom --json net show ln | grep -q link_down"
netd_stop
finish
