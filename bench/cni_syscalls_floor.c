/* cni_bench's second floor: the system calls of flock-anycast's ADD and DEL and nothing else,
 * in C with libmnl. No config parsing, no validation, no result conversion, no logging: what
 * any plugin doing this job pays at least, to read flock-anycast's figures against. Fixed
 * addresses (cni_bench's pod: 10.79.0.2, fd79::2; anycast 10.255.53.53, fd00:255::53);
 * CNI_NETNS names the pod, FLOOR_STATE_DIR an existing directory for the record. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char reply[16384];
static unsigned sequence = 1;

static void fail(const char* what) {
    perror(what);
    exit(1);
}

/* Sends one request; with an ACK asked for, waits for it (a failed request exits). */
static void exchange(struct mnl_socket* nl, struct nlmsghdr* request) {
    request->nlmsg_seq = sequence++;
    if (mnl_socket_sendto(nl, request, request->nlmsg_len) < 0) fail("sendto");
    const int n = (int)mnl_socket_recvfrom(nl, reply, sizeof reply);
    if (n < 0) fail("recvfrom");
    if ((request->nlmsg_flags & NLM_F_ACK) &&
        mnl_cb_run(reply, (size_t)n, request->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL) < 0) {
        fail("netlink request");
    }
}

static struct mnl_socket* open_socket(void) {
    struct mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) fail("netlink socket");
    return nl;
}

/* The route the kernel would use to reach the pod: flock-anycast's next-hop lookup. */
static void route_get(struct mnl_socket* nl, int family, const char* address) {
    char buffer[256];
    struct nlmsghdr* request = mnl_nlmsg_put_header(buffer);
    request->nlmsg_type = RTM_GETROUTE;
    request->nlmsg_flags = NLM_F_REQUEST;
    struct rtmsg* rtm = mnl_nlmsg_put_extra_header(request, sizeof *rtm);
    rtm->rtm_family = (unsigned char)family;
    rtm->rtm_dst_len = family == AF_INET ? 32 : 128;
    unsigned char bytes[16];
    inet_pton(family, address, bytes);
    mnl_attr_put(request, RTA_DST, family == AF_INET ? 4 : 16, bytes);
    exchange(nl, request);
}

static void lo_address(struct mnl_socket* nl, int add, int family, const char* address) {
    char buffer[256];
    struct nlmsghdr* request = mnl_nlmsg_put_header(buffer);
    request->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
    request->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
    struct ifaddrmsg* ifa = mnl_nlmsg_put_extra_header(request, sizeof *ifa);
    ifa->ifa_family = (unsigned char)family;
    ifa->ifa_prefixlen = family == AF_INET ? 32 : 128;
    ifa->ifa_scope = RT_SCOPE_HOST;
    ifa->ifa_index = 1; /* lo */
    unsigned char bytes[16];
    inet_pton(family, address, bytes);
    mnl_attr_put(request, IFA_LOCAL, family == AF_INET ? 4 : 16, bytes);
    mnl_attr_put(request, IFA_ADDRESS, family == AF_INET ? 4 : 16, bytes);
    exchange(nl, request);
}

static void lo_up(struct mnl_socket* nl) {
    char buffer[256];
    struct nlmsghdr* request = mnl_nlmsg_put_header(buffer);
    request->nlmsg_type = RTM_NEWLINK;
    request->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    struct ifinfomsg* ifi = mnl_nlmsg_put_extra_header(request, sizeof *ifi);
    ifi->ifi_index = 1;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    exchange(nl, request);
}

int main(void) {
    char input[65536];
    size_t used = 0;
    ssize_t n;
    while ((n = read(STDIN_FILENO, input + used, sizeof input - used)) > 0) used += (size_t)n;
    const char* command = getenv("CNI_COMMAND");
    const char* netns = getenv("CNI_NETNS");
    const char* state = getenv("FLOOR_STATE_DIR");
    if (command == NULL || netns == NULL || state == NULL) return 2;
    const int add = strcmp(command, "ADD") == 0;

    if (add) {
        struct mnl_socket* host = open_socket();
        route_get(host, AF_INET, "10.79.0.2");
        route_get(host, AF_INET6, "fd79::2");
        mnl_socket_close(host);
    }
    /* A socket in the pod's namespace, then back. */
    const int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int pod = open(netns, O_RDONLY | O_CLOEXEC);
    if (self < 0 || pod < 0 || setns(pod, CLONE_NEWNET) != 0) fail("enter the pod's netns");
    struct mnl_socket* nl = open_socket();
    if (setns(self, CLONE_NEWNET) != 0) fail("leave the pod's netns");
    close(pod);
    close(self);
    if (add) lo_up(nl);
    lo_address(nl, add, AF_INET, "10.255.53.53");
    lo_address(nl, add, AF_INET6, "fd00:255::53");
    mnl_socket_close(nl);

    /* The record: locked, temp file + fsync + rename + directory fsync; DEL unlinks it. */
    char path[4096], temp[4096], lock_path[4096];
    snprintf(path, sizeof path, "%s/bench_bench1_eth0.json", state);
    snprintf(temp, sizeof temp, "%s/.bench_bench1_eth0.json.tmp", state);
    snprintf(lock_path, sizeof lock_path, "%s/lock", state);
    const int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) fail("lock");
    if (add) {
        char record[512];
        const time_t now = time(NULL);
        struct tm utc;
        gmtime_r(&now, &utc);
        const int length =
            snprintf(record, sizeof record,
                     "{\"version\":1,\"network\":\"bench\",\"containerID\":\"bench1\",\"ifname\":\"eth0\","
                     "\"ips\":[\"10.255.53.53\",\"fd00:255::53\"],\"created\":\"%04d-%02d-%02dT%02d:%02d:%02dZ\"}",
                     utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
        const int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, record, (size_t)length) != length || fsync(fd) != 0 || close(fd) != 0) fail("write");
        if (rename(temp, path) != 0) fail("rename");
        const int dir = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0 || fsync(dir) != 0) fail("fsync directory");
        close(dir);
        printf(
            "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"lo\",\"sandbox\":\"%s\"}],"
            "\"ips\":[{\"address\":\"10.255.53.53/32\",\"interface\":0},{\"address\":\"fd00:255::53/"
            "128\",\"interface\":0}]}\n",
            netns);
    } else if (unlink(path) != 0) {
        fail("unlink");
    }
    close(lock);
    return 0;
}
