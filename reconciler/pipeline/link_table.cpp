#include "reconciler/pipeline/link_table.hpp"

#include <fmt/format.h>

namespace anycast::reconciler {

LinkTable::LinkTable(const std::vector<common::netlink::Link>& links) {
    for (const auto& link : links) {
        by_index_[link.index] = link;
        by_name_[link.name] = link.index;
    }
}

const common::netlink::Link* LinkTable::find(std::string_view name) const {
    const auto found = by_name_.find(name);
    if (found == by_name_.end()) return nullptr;
    return &by_index_.at(found->second);
}

std::string LinkTable::name_of(int index) const {
    const auto found = by_index_.find(index);
    return found == by_index_.end() ? fmt::format("if{}", index) : found->second.name;
}

}  // namespace anycast::reconciler
