#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-restart.sh - kill -9 of loom-netd, restart: networks and TAPs back, no strays.
. "$(dirname "$0")/common.bash"
skip_unless_root

ns_add a
ns_add b
TA=lm$$ra
TB=lm$$rb
STRAY=lm$$st

# The network comes from a --config file (YAML), the ports from port.add.
cat >"$T/net.yaml" <<EOF
networks:
  - name: rs
    mode: switch
    subnet: 10.233.0.0/24
    mtu: 1400
EOF
inventory_before=$(link_inventory)
netd_start --config "$T/net.yaml" || exit 1
check "--config created network rs from YAML" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.show '{\"name\":\"rs\"}' | grep -q '\"mtu\": 1400'"
check "port.add a" ctl port.add \
	"{\"net\":\"rs\",\"tap\":\"$TA\",\"netns\":\"$(ns a)\",\"address\":\"10.233.0.11/24\"}"
check "port.add b" ctl port.add \
	"{\"net\":\"rs\",\"tap\":\"$TB\",\"netns\":\"$(ns b)\",\"address\":\"10.233.0.12/24\"}"
check "ping before the crash" ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.233.0.12
check "TAP MTU follows the network" \
	bash -c "ip -n $(ns a) link show $TA | grep -q 'mtu 1400'"
inventory_running=$(link_inventory)
prefix=$(ctl daemon.status | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["alias_prefix"])')

kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
check "after kill -9 the kernel dropped the TAPs" \
	bash -c "! ip -n $(ns a) link show $TA 2>/dev/null"

# A leftover only netd's cleanup can remove: a persistent TAP
# carrying loom's alias (as a crashed older netd or a bridge would leave).
ip netns exec "$(ns b)" ip tuntap add dev "$STRAY" mode tap
ip -n "$(ns b)" link set "$STRAY" alias "${prefix}old:gone"
# And one of another loom-netd instance (another state dir): not ours.
ip netns exec "$(ns b)" ip tuntap add dev "${STRAY}x" mode tap
ip -n "$(ns b)" link set "${STRAY}x" alias "loom:0badc0de:other:port"
check "a stray loom interface is present before the restart" \
	ip -n "$(ns b)" link show "$STRAY"

netd_start || exit 1
check "stray loom interface removed at start" \
	bash -c "! ip -n $(ns b) link show $STRAY 2>/dev/null"
check "another instance's interface left alone" \
	ip -n "$(ns b)" link show "${STRAY}x"
ip -n "$(ns b)" link del "${STRAY}x"
check "network rs restored with both ports up" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"rs\"}' | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin)[\"result\"][\"ports\"]
     if x[\"backend\"] != \"gateway\"]
assert sorted(x[\"name\"] for x in p) == [\"$TA\", \"$TB\"], p
assert all(x[\"state\"] == \"up\" for x in p), p
'"
check "TAP back in netns a with its address" \
	bash -c "ip -n $(ns a) -o addr show dev $TA | grep -q 10.233.0.11/24"
check "ping after the restart" ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.233.0.12
inventory_restarted=$(link_inventory)
if [ "$inventory_running" = "$inventory_restarted" ]; then
	pass "same interfaces as before the crash, no stray TAP"
else
	fail "interfaces differ after the restart"
	diff <(echo "$inventory_running") <(echo "$inventory_restarted") | sed 's/^/    /'
fi

netd_stop
inventory_after=$(link_inventory)
if [ "$inventory_before" = "$inventory_after" ]; then
	pass "after SIGTERM the interfaces are those before netd ran"
else
	fail "interfaces left behind after SIGTERM"
	diff <(echo "$inventory_before") <(echo "$inventory_after") | sed 's/^/    /'
fi
finish
