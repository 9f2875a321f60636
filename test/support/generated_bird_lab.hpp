// A node BIRD running `flock-anycast bird-config`'s bird.conf and peering with a router BIRD
// (issue 17 item 3), in namespaces of the test's own: node (AS 65001, 10.0.0.2) — router
// (AS 65000, 10.0.0.1) over a veth; the node's routes go via a veth of its own (n-p,
// 10.1.1.1/24) towards a "pod" at 10.1.1.2. Construct it first in a test: it makes its own
// private network namespace.
#pragma once

#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/temp_dir.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace anycast::test {

struct SessionOptions {
    bool bfd = false;
    int hold_seconds = 9;
    int export_limit = 0;
    boost::json::object prefixes = {};  // bgp.prefixes
};

class GeneratedLab {
public:
    explicit GeneratedLab(const SessionOptions& options);
    ~GeneratedLab();

    // The node's routes and the include listing them: `count` prefixes 10.255.53.1/32 and up.
    void set_prefixes(int count);
    bool established() const;
    // Our prefixes in the router's kernel.
    int router_routes() const;
    // SIGSTOP: the process is still there and the link stays up, but BIRD sends nothing.
    void freeze_node();
    // From the freeze to the router's kernel dropping our prefix, polled every 5 ms.
    std::chrono::milliseconds time_to_withdrawal(std::chrono::seconds limit);
    std::string logs() const;
    // The node config of this lab (bird.fragment, bgp) as JSON, for serve to extend.
    const boost::json::object& config() const { return config_; }

    PrivateNetns netns;
    TempDir dir{"gen"};
    NamedNetns node{"nd"};
    NamedNetns router{"rt"};
    std::unique_ptr<BirdDaemon> node_bird;
    std::unique_ptr<BirdDaemon> router_bird;

private:
    bool frozen_ = false;
    boost::json::object config_;
    std::string attributes_;  // the include's attributes function, from bgp.prefixes
};

}  // namespace anycast::test
