/* serve_flip_bench's floor: the least any agent pays from a readiness file's rename to a route
 * changed in the kernel, in C with libmnl. The same chain as serve's `file` source, nothing
 * else: inotify on the file's directory with serve's mask (reconciler/readiness/
 * file_source.cpp), waited on with epoll as Asio's reactor does; on an event naming the file,
 * the file read whole and searched for "ready": true or false; then one route request, acked.
 *
 * The kernel change: serve, in resilient mode, points a pod's /32 at a resilient group of one
 * member (RTA_NH_ID) and, on a flip, deletes or re-adds that route together with the group and
 * its member. The floor flips a /32 route pointing at such a group too, but its group and
 * member are made once at start and kept: creating and removing nexthop objects of another
 * protocol on each flip would make serve drop its cached kernel view and dump 10 000 routes
 * again at its next pass (Server::on_kernel_events). So the floor is one RTM_NEWROUTE
 * (create | replace, as serve sends) or RTM_DELROUTE per flip; serve's two extra objects
 * count as serve's cost. Table and protocol are the caller's, serve's never.
 *
 * Usage: flip_floor FILE DESTINATION GATEWAY DEVICE TABLE  (IPv4; protocol = table; runs until
 * killed, silent unless a call fails). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

static char reply[16384];
static unsigned sequence = 1;

/* errno says why; a bad argument sets EINVAL first. */
static void fail(const char* what, const char* detail) {
    fprintf(stderr, "flip_floor: %s %s: %s\n", what, detail, strerror(errno));
    exit(1);
}

/* Sends one request asking for an ACK and waits for it (a refused request exits). */
static void exchange(struct mnl_socket* nl, struct nlmsghdr* request, const char* what) {
    request->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    request->nlmsg_seq = sequence++;
    if (mnl_socket_sendto(nl, request, request->nlmsg_len) < 0) fail("sendto", what);
    const ssize_t n = mnl_socket_recvfrom(nl, reply, sizeof reply);
    if (n < 0) fail("recvfrom", what);
    if (mnl_cb_run(reply, (size_t)n, request->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
        fail("netlink", what);
}

/* Member id: gateway via device, onlink (as serve makes them); group id: resilient group of
 * that one member, 128 buckets, idle timer 120 s (serve's defaults). */
static void make_group(struct mnl_socket* nl, uint32_t member, uint32_t group, const char* gateway, unsigned ifindex,
                       int protocol) {
    char buffer[256];
    struct nlmsghdr* request = mnl_nlmsg_put_header(buffer);
    request->nlmsg_type = RTM_NEWNEXTHOP;
    request->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    struct nhmsg* nh = mnl_nlmsg_put_extra_header(request, sizeof *nh);
    nh->nh_family = AF_INET;
    nh->nh_protocol = (unsigned char)protocol;
    nh->nh_flags = RTNH_F_ONLINK;
    struct in_addr address;
    if (inet_pton(AF_INET, gateway, &address) != 1) {
        errno = EINVAL;
        fail("gateway", gateway);
    }
    mnl_attr_put_u32(request, NHA_ID, member);
    mnl_attr_put_u32(request, NHA_OIF, ifindex);
    mnl_attr_put(request, NHA_GATEWAY, sizeof address, &address);
    exchange(nl, request, "create the member");

    request = mnl_nlmsg_put_header(buffer);
    request->nlmsg_type = RTM_NEWNEXTHOP;
    request->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    nh = mnl_nlmsg_put_extra_header(request, sizeof *nh);
    nh->nh_family = AF_UNSPEC;
    nh->nh_protocol = (unsigned char)protocol;
    mnl_attr_put_u32(request, NHA_ID, group);
    const struct nexthop_grp entry = {.id = member};
    mnl_attr_put(request, NHA_GROUP, sizeof entry, &entry);
    mnl_attr_put_u16(request, NHA_GROUP_TYPE, NEXTHOP_GRP_TYPE_RES);
    struct nlattr* nest = mnl_attr_nest_start(request, NHA_RES_GROUP);
    mnl_attr_put_u16(request, NHA_RES_GROUP_BUCKETS, 128);
    mnl_attr_put_u32(request, NHA_RES_GROUP_IDLE_TIMER, 120 * 100); /* clock_t: USER_HZ ticks */
    mnl_attr_nest_end(request, nest);
    exchange(nl, request, "create the group");
}

/* The route replaced (present) or deleted (absent), built as serve's build_route_message. */
static void set_route(struct mnl_socket* nl, int present, struct in_addr destination, uint32_t group, int table) {
    char buffer[256];
    struct nlmsghdr* request = mnl_nlmsg_put_header(buffer);
    request->nlmsg_type = present ? RTM_NEWROUTE : RTM_DELROUTE;
    request->nlmsg_flags = present ? NLM_F_CREATE | NLM_F_REPLACE : 0;
    struct rtmsg* rtm = mnl_nlmsg_put_extra_header(request, sizeof *rtm);
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 32;
    rtm->rtm_table = (unsigned char)table;
    rtm->rtm_protocol = (unsigned char)table;
    rtm->rtm_scope = present ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put(request, RTA_DST, sizeof destination, &destination);
    if (present) mnl_attr_put_u32(request, RTA_NH_ID, group);
    exchange(nl, request, present ? "add the route" : "delete the route");
}

/* 1 ready, 0 not ready, -1 unreadable or no "ready" key (the last state then stays, as in
 * serve). The whole file is read, like serve's reload. */
static int read_ready(const char* path) {
    static char text[65536];
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t used = 0;
    ssize_t n;
    while (used < sizeof text - 1 && (n = read(fd, text + used, sizeof text - 1 - used)) > 0) used += (size_t)n;
    close(fd);
    text[used] = '\0';
    const char* key = strstr(text, "\"ready\":");
    if (key == NULL) return -1;
    key += strlen("\"ready\":");
    while (*key == ' ') ++key;
    return *key == 't' ? 1 : *key == 'f' ? 0 : -1;
}

int main(int argc, char** argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: flip_floor FILE DESTINATION GATEWAY DEVICE TABLE\n");
        return 2;
    }
    const char* path = argv[1];
    struct in_addr destination;
    errno = EINVAL; /* inet_pton and the checks below do not set it */
    if (inet_pton(AF_INET, argv[2], &destination) != 1) fail("destination", argv[2]);
    const unsigned ifindex = if_nametoindex(argv[4]);
    if (ifindex == 0) fail("device", argv[4]);
    errno = EINVAL;
    const int table = atoi(argv[5]);
    if (table <= 0 || table > 255) fail("table (1-255)", argv[5]);
    /* Ids counted from protocol << 24, as serve counts its own: never one of serve's. */
    const uint32_t member = ((uint32_t)table << 24) + 1, group = member + 1;

    char directory[4096];
    snprintf(directory, sizeof directory, "%s", path);
    char* slash = strrchr(directory, '/');
    if (slash == NULL || slash == directory) fail("FILE must be an absolute path below /", path);
    *slash = '\0';
    const char* name = path + (slash - directory) + 1;

    struct mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) fail("netlink socket", "");
    make_group(nl, member, group, argv[3], ifindex, table);

    const int inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify < 0) fail("inotify_init1", directory);
    if (inotify_add_watch(inotify, directory, IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR) <
        0)
        fail("inotify_add_watch", directory);
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event want = {.events = EPOLLIN};
    if (epoll < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, inotify, &want) != 0) fail("epoll", directory);

    int installed = -1; /* unknown: the first good read sets the route either way */
    for (int reload = 1;; reload = 0) {
        if (!reload) {
            struct epoll_event event;
            if (epoll_wait(epoll, &event, 1, -1) < 0) {
                if (errno == EINTR) continue;
                fail("epoll_wait", directory);
            }
            _Alignas(struct inotify_event) static char events[16384];
            ssize_t n;
            while ((n = read(inotify, events, sizeof events)) > 0) {
                for (ssize_t at = 0; at < n;) {
                    const struct inotify_event* e = (const struct inotify_event*)(events + at);
                    if ((e->mask & IN_Q_OVERFLOW) != 0 || (e->len > 0 && strcmp(e->name, name) == 0)) reload = 1;
                    at += (ssize_t)(sizeof *e + e->len);
                }
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR) fail("read inotify events", directory);
            if (!reload) continue;
        }
        const int ready = read_ready(path);
        if (ready < 0 || ready == installed) continue;
        set_route(nl, ready, destination, group, table);
        installed = ready;
    }
}
