// The node's interfaces by name and by index: records name interfaces, the kernel's routes
// carry ifindexes.
#pragma once

#include "common/netlink/link.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::reconciler {

class LinkTable {
public:
    LinkTable() = default;
    explicit LinkTable(const std::vector<common::netlink::Link>& links);

    // nullptr when no interface has that name.
    const common::netlink::Link* find(std::string_view name) const;
    // The interface's name, or "if<index>" when it is not (or no longer) known.
    std::string name_of(int index) const;
    bool empty() const { return by_index_.empty(); }

private:
    std::map<int, common::netlink::Link> by_index_;
    std::map<std::string, int, std::less<>> by_name_;
};

}  // namespace anycast::reconciler
