#!/usr/bin/env bash
# The README's first command. On Debian 12 as root: installs what is missing, builds, and
# runs flock-anycast's main job in a private lab of network namespaces:
#
#   router (BIRD, AS 65000) ──eBGP v4+v6── node (BIRD + flock-anycast serve, AS 65001)
#                                            ├── pod-a ┐  attached by a real CNI chain:
#                                            ├── pod-b ├─ Debian's ptp + host-local, then
#                                            └── pod-c ┘  flock-anycast (10.255.53.53, fd00:255::53)
#
# It walks through pods becoming ready, one being deleted, an agent restart and all pods
# going away, showing what the node's kernel and the router see, how long each change took,
# and which pods answer UDP requests sent from the router to the anycast addresses.
# No Kubernetes: readiness comes from the `file` source. Everything is removed on exit
# (also on Ctrl-C) unless --keep is given.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $arg (use --keep or --help)" >&2; exit 2 ;;
  esac
done

if [[ $(id -u) -ne 0 ]]; then
  echo "examples/demo.sh: run as root (it installs packages and builds a namespace lab)" >&2
  exit 1
fi

bash test/install-deps.sh
[[ -f build/build.ninja ]] || meson setup build >/dev/null
ninja -C build flock-anycast examples/anycast-echo >/dev/null

bin=$repo/build/flock-anycast
echo_bin=$repo/build/examples/anycast-echo
lab=/run/flock-anycast-demo          # configs, state, sockets and logs of this lab
pfx=flkdemo                          # namespace names: flkdemo-node, flkdemo-router, ...
node=$pfx-node router=$pfx-router
pods=(pod-a pod-b pod-c)
v4=10.255.53.53 v6=fd00:255::53 port=5353

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
in_node() { ip netns exec "$node" "$@"; }
in_router() { ip netns exec "$router" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Removes everything this demo may have made, from this run or an earlier one.
cleanup() {
  for pidfile in "$lab"/*.pid; do
    [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  for ns in $(ip netns list 2>/dev/null | awk -v p="$pfx-" 'index($1, p) == 1 {print $1}'); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$lab"
}

on_exit() {
  local status=$?
  if [[ $keep -eq 1 && $status -eq 0 ]]; then
    bold "The lab stays up (--keep). Look around:"
    cat <<EOF
  ip netns exec $node ip route show table 241          # our routes (proto 241)
  ip netns exec $node $bin status --config $lab/node.json
  ip netns exec $node $bin plan --config $lab/node.json
  birdc -s $lab/router.ctl show route                  # what the router learned
  ip netns exec $router $echo_bin ask $v4 $port 20      # who answers
  cat $lab/pods.json                                   # readiness; edit it and watch
  tail -f $lab/serve.log
Remove it with: $0 (a new run cleans up first) or: ip -all netns del; rm -rf $lab
EOF
    return
  fi
  if [[ $status -ne 0 ]]; then
    echo "demo.sh: failed (exit $status); the last lines of serve's log:" >&2
    tail -n 15 "$lab/serve.log" >&2 2>/dev/null || true
  fi
  cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM

cleanup
mkdir -p "$lab/state" "$lab/cni"
chmod 700 "$lab"

# ---------------------------------------------------------------------------------------
bold "1. The lab: namespaces, the node-router link, BIRD on both"
ip netns add "$node"
ip netns add "$router"
for ns in "$node" "$router"; do ip -n "$ns" link set lo up; done
ip link add r0 netns "$node" type veth peer name n0 netns "$router"
in_node ip addr add 10.0.0.2/30 dev r0
in_node ip addr add fd00:0:0:1::2/64 dev r0 nodad
in_router ip addr add 10.0.0.1/30 dev n0
in_router ip addr add fd00:0:0:1::1/64 dev n0 nodad
in_node ip link set r0 up
in_router ip link set n0 up
in_node sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
in_node sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# Hash flows on ports too, so requests from one client spread over the pods.
in_node sysctl -qw net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1

# The shipped BIRD configs (examples/bird), with paths pointing into the lab.
for conf in flock.conf node-bird.conf router-bird.conf; do
  sed -e "s|/etc/bird/|$lab/|g" -e "s|^log syslog all;|log \"$lab/${conf%%.conf}.log\" all;|" \
    "examples/bird/$conf" >"$lab/$conf"
done
echo 'define FLOCK_ANYCAST_V4 = [ ];
define FLOCK_ANYCAST_V6 = [ ];' >"$lab/flock-anycast.conf"
in_node bird -c "$lab/node-bird.conf" -s "$lab/node.ctl" -P "$lab/bird-node.pid"
in_router bird -c "$lab/router-bird.conf" -s "$lab/router.ctl" -P "$lab/bird-router.pid"

# ---------------------------------------------------------------------------------------
bold "2. Three pods attached by a real CNI chain: ptp + host-local, then flock-anycast"
cat >"$lab/node.json" <<EOF
{
  "node": "demo-node",
  "stateDir": "$lab/state",
  "policy": { "allowedPrefixes": ["10.255.0.0/16", "fd00:255::/48"] },
  "routes": { "protocol": 241, "table": 241, "rulePriority": 1000 },
  "readiness": { "source": "file", "file": "$lab/pods.json" },
  "bird": { "enabled": true, "fragment": "$lab/flock-anycast.conf", "socket": "$lab/node.ctl" },
  "resyncSeconds": 30,
  "metrics": { "listen": "127.0.0.1:9641" }
}
EOF
echo '[]' >"$lab/pods.json"

ptp_conf='{"cniVersion":"1.0.0","name":"demo-net","type":"ptp","ipMasq":false,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00:1::/64"}]],
          "routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}],"dataDir":"'"$lab"'/cni"}}'

# Acts as the runtime: runs the chain for one pod, passing each plugin's result on.
cni() {
  local command=$1 pod=$2 prev=
  local -a env=(CNI_COMMAND="$command" CNI_CONTAINERID="cid-$pod" CNI_NETNS="/run/netns/$pfx-$pod"
    CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni
    CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;K8S_POD_NAME=$pod;K8S_POD_UID=uid-$pod;ANYCAST_IPS=$v4,$v6")
  if [[ $command == ADD ]]; then
    prev=$(in_node env "${env[@]}" /usr/lib/cni/ptp <<<"$ptp_conf")
    in_node env "${env[@]}" "$bin" <<<'{"cniVersion":"1.0.0","name":"demo-net","type":"flock-anycast",
      "configFile":"'"$lab"'/node.json","prevResult":'"$prev"'}' >/dev/null 2>>"$lab/cni.log"
  else
    in_node env "${env[@]}" "$bin" <<<'{"cniVersion":"1.0.0","name":"demo-net","type":"flock-anycast",
      "configFile":"'"$lab"'/node.json"}' >/dev/null 2>>"$lab/cni.log"
    in_node env "${env[@]}" /usr/lib/cni/ptp <<<"$ptp_conf" >/dev/null
  fi
}
for pod in "${pods[@]}"; do
  ip netns add "$pfx-$pod"
  # No duplicate address detection on the lab's fresh links: ptp waits for IPv6 addresses
  # to leave "tentative", which would cost each ADD about two seconds.
  ip netns exec "$pfx-$pod" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
  cni ADD "$pod"
  ip netns exec "$pfx-$pod" "$echo_bin" serve "$pod" "$port" &
  echo $! >"$lab/echo-$pod.pid"
  printf '  %s: eth0 %s, lo %s\n' "$pod" \
    "$(ip -n "$pfx-$pod" -br addr show dev eth0 | awk '{print $3, $4}')" \
    "$(ip -n "$pfx-$pod" -br addr show dev lo | awk '{$1=$2=""; print}' | xargs)"
done
echo "  records: $(ls "$lab/state/records" | tr '\n' ' ')"

# ---------------------------------------------------------------------------------------
# Background processes are started with `ip netns exec` itself (not the in_node function, which
# would run in a subshell) so $! is the process: ip netns exec execs into it.
start_serve() {
  ip netns exec "$node" "$bin" serve --config "$lab/node.json" 2>>"$lab/serve.log" &
  echo $! >"$lab/serve.pid"
}
start_serve

# Writes the readiness file atomically: "pod:ready:deleting" triples.
set_pods() {
  local json='[' sep=
  for spec in "$@"; do
    IFS=: read -r name ready deleting <<<"$spec"
    json+="$sep{\"namespace\":\"dns\",\"name\":\"$name\",\"uid\":\"uid-$name\",\"ready\":$ready,\"deleting\":$deleting}"
    sep=,
  done
  printf '%s]\n' "$json" >"$lab/pods.json.tmp"
  mv "$lab/pods.json.tmp" "$lab/pods.json"
}

# Waits (bounded, 20 s) until `cmd` prints something matching `pattern` (wait_for) or no
# longer does (wait_gone); prints the time it took.
wait_match() {
  local want=$1 what=$2 pattern=$3 start limit; shift 3
  start=$(now_ms) limit=$((start + 20000))
  while :; do
    local found=absent
    "$@" 2>/dev/null | grep -Eq -- "$pattern" && found=present
    [[ $found == "$want" ]] && break
    if (($(now_ms) > limit)); then echo "  !! timed out waiting for: $what" >&2; return 1; fi
    sleep 0.005
  done
  printf '  %-46s %5d ms\n' "$what" $(($(now_ms) - start))
}
wait_for() { wait_match present "$@"; }
wait_gone() { wait_match absent "$@"; }

hops() { in_node ip "$1" route show table 241 "$2" | grep -c 'via' || true; }
show() {
  echo "  node  table 241: $(in_node ip -4 route show table 241 2>/dev/null | tr -s ' \n' ' ')"
  echo "                   $(in_node ip -6 route show table 241 2>/dev/null | tr -s ' \n' ' ')"
  echo "  router learned:  $(in_router ip -4 route show $v4 | tr -s ' \n' ' ')| $(in_router ip -6 route show $v6 | tr -s ' \n' ' ')"
  echo "  answers (v4):    $(in_router "$echo_bin" ask $v4 $port 30 200)"
  echo "  answers (v6):    $(in_router "$echo_bin" ask $v6 $port 30 200)"
}

bold "3. BGP comes up; no pod is ready yet, so nothing is announced"
wait_for "BGP sessions established" 'node6 +BGP .*Established' birdc -s "$lab/router.ctl" show protocols
birdc -s "$lab/router.ctl" show protocols | grep -E 'node4|node6' | sed 's/^/  /'
show

bold "4. Pods become ready one by one"
set_pods pod-a:true:false pod-b:false:false pod-c:false:false
wait_for "router learned $v4/32" "$v4" in_router ip -4 route show $v4
wait_for "router learned $v6/128" "$v6" in_router ip -6 route show $v6
show
set_pods pod-a:true:false pod-b:true:false pod-c:false:false
wait_for "node route has 2 next hops" '^2$' hops -4 $v4
set_pods pod-a:true:false pod-b:true:false pod-c:true:false
wait_for "node route has 3 next hops" '^3$' hops -4 $v4
wait_for "node v6 route has 3 next hops" '^3$' hops -6 $v6
show

bold "5. pod-b is being deleted: its hop leaves at once, the router keeps the route"
set_pods pod-a:true:false pod-b:true:true pod-c:true:false
wait_for "node route down to 2 next hops" '^2$' hops -4 $v4
wait_for "node v6 route down to 2 next hops" '^2$' hops -6 $v6
show

echo "  flock-anycast status:"
ip netns exec "$node" "$bin" status --config "$lab/node.json" 2>/dev/null | sed -n '2,13p' | sed 's/^/  /'

bold "6. Agent restart: routes stay, nothing flaps"
ip netns exec "$node" ip monitor route >"$lab/node-monitor.log" 2>&1 &
echo $! >"$lab/monitor-node.pid"
ip netns exec "$router" ip monitor route >"$lab/router-monitor.log" 2>&1 &
echo $! >"$lab/monitor-router.pid"
sleep 0.2
kill -TERM "$(cat "$lab/serve.pid")"
wait "$(cat "$lab/serve.pid")" 2>/dev/null || true
echo "  serve stopped (SIGTERM): $(hops -4 $v4) next hops still installed"
restart=$(now_ms)
start_serve
sleep 1.5
echo "  serve restarted $(( $(now_ms) - restart )) ms ago; anycast route changes seen meanwhile: node $(grep -cE "$v4|$v6" "$lab/node-monitor.log" || true), router $(grep -cE "$v4|$v6" "$lab/router-monitor.log" || true)"
kill "$(cat "$lab/monitor-node.pid")" "$(cat "$lab/monitor-router.pid")" 2>/dev/null || true
show

bold "7. All pods go away (CNI DEL): the router withdraws the route"
for pod in "${pods[@]}"; do cni DEL "$pod"; done
set_pods
wait_gone "router withdrew $v4/32" "$v4" in_router ip -4 route show $v4
wait_gone "router withdrew $v6/128" "$v6" in_router ip -6 route show $v6
show

bold "Done."
echo "  serve's log: $(grep -c . "$lab/serve.log") lines; metrics were at http://127.0.0.1:9641/metrics inside $node"
