// What serve wants in the kernel, before interface names are mapped to ifindexes.
#pragma once

#include "common/ip_address.hpp"

#include <compare>
#include <string>
#include <vector>

namespace anycast::reconciler {

// One next hop as the records name it: the pod's IP and the node-side interface reaching it.
struct DesiredHop {
    common::IpAddress via;
    std::string iface;

    friend auto operator<=>(const DesiredHop&, const DesiredHop&) = default;
    friend bool operator==(const DesiredHop&, const DesiredHop&) = default;
};

// A host route (/32 or /128) for one anycast IP; `hops` sorted, no duplicates, all of the
// destination's family, never empty.
struct DesiredRoute {
    common::Prefix destination;
    std::vector<DesiredHop> hops;

    friend bool operator==(const DesiredRoute&, const DesiredRoute&) = default;
};

// Something a pass skipped, for the log and for `plan`/`status`: `subject` names the record
// or route, `problem` says what was wrong.
struct Skipped {
    std::string subject;
    std::string problem;

    friend bool operator==(const Skipped&, const Skipped&) = default;
};

}  // namespace anycast::reconciler
