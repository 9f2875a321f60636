// Test fixtures for network namespaces. Every integration test runs in a fresh private
// namespace (PrivateNetns) so the host's links and routes are never touched; "pods" are named
// namespaces (ip netns add) with unique names, removed in destructors even when a test fails.
#pragma once

#include <string>

namespace anycast::test {

// Moves the calling thread into a new, empty network namespace with `lo` up, and back to
// the original one on destruction (the private namespace then disappears with its links).
class PrivateNetns {
public:
    PrivateNetns();
    ~PrivateNetns();
    PrivateNetns(const PrivateNetns&) = delete;
    PrivateNetns& operator=(const PrivateNetns&) = delete;

private:
    int original_fd_ = -1;
};

// Moves the calling thread into the namespace at `path` (e.g. a NamedNetns's) and back on
// destruction. Sockets made meanwhile, and threads started meanwhile, stay in it: a test
// server constructed in this scope listens where a child in that namespace can reach it.
class EnteredNetns {
public:
    explicit EnteredNetns(const std::string& path);
    ~EnteredNetns();
    EnteredNetns(const EnteredNetns&) = delete;
    EnteredNetns& operator=(const EnteredNetns&) = delete;

private:
    int original_fd_ = -1;
};

// A unique name with a prefix that run.sh knows to clean after a crash: "flkt<pid>x<n>".
// Short enough to be an interface name too (<= 15 characters).
std::string unique_name(const std::string& tag);

// A named network namespace (/run/netns/<name>) created with `ip netns add`, `lo` up.
class NamedNetns {
public:
    explicit NamedNetns(const std::string& tag = "ns");
    ~NamedNetns();
    NamedNetns(const NamedNetns&) = delete;
    NamedNetns& operator=(const NamedNetns&) = delete;

    const std::string& name() const { return name_; }
    std::string path() const { return "/run/netns/" + name_; }
    // Runs `ip netns exec <name> sh -c command` and returns stdout; throws on failure.
    std::string exec(const std::string& command) const;
    // Deletes it now (to test "netns already gone"); the destructor then does nothing.
    void remove();

private:
    std::string name_;
    bool alive_ = true;
};

// A veth pair: `host_end` in the current namespace, `peer_end` moved into `peer_ns`
// (empty: both ends stay here). Both ends are set up.
void make_veth(const std::string& host_end, const std::string& peer_end, const std::string& peer_ns = {});

}  // namespace anycast::test
