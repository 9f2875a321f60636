#include "common/store/record_json.hpp"

#include "common/json_reader.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <fmt/format.h>

namespace anycast::common {

namespace json = boost::json;

json::value record_to_json(const Record& record) {
    json::array ips;
    ips.reserve(record.ips.size());
    for (const auto& ip : record.ips) ips.emplace_back(ip.to_string());
    json::array nexthops;
    nexthops.reserve(record.nexthops.size());
    for (const auto& hop : record.nexthops) {
        nexthops.emplace_back(json::object{
            {"family", family_number(hop.family)}, {"via", hop.via.to_string()}, {"hostIface", hop.host_iface}});
    }
    // Key order as in docs/architecture.md section 5 (json::object keeps insertion order).
    return json::object{
        {"version", record.version},
        {"network", record.network},
        {"containerID", record.container_id},
        {"ifname", record.ifname},
        {"netns", record.netns},
        {"pod", json::object{{"namespace", record.pod.namespace_}, {"name", record.pod.name}, {"uid", record.pod.uid}}},
        {"ips", std::move(ips)},
        {"nexthops", std::move(nexthops)},
        {"created", record.created},
    };
}

std::string serialize_record(const Record& record) { return json::serialize(record_to_json(record)); }

namespace {

NextHopRecord read_nexthop(const JsonReader& reader) {
    NextHopRecord hop;
    const auto family = reader.required("family");
    const auto number = family.as_int(4, 6);
    if (number != 4 && number != 6) family.fail("must be 4 or 6");
    hop.family = number == 4 ? Family::v4 : Family::v6;
    const auto via = reader.required("via");
    hop.via = via.as_ip();
    if (hop.via.family() != hop.family) via.fail(fmt::format("{} is not an IPv{} address", hop.via, number));
    const auto iface = reader.required("hostIface");
    hop.host_iface = iface.as_string();
    if (hop.host_iface.empty()) iface.fail("must not be empty");
    return hop;
}

std::string required_string(const JsonReader& reader, std::string_view name) {
    const auto field = reader.required(name);
    std::string text = field.as_string();
    if (text.empty()) field.fail("must not be empty");
    return text;
}

}  // namespace

namespace {

// Every field but `version`.
void read_fields(const JsonReader& root, Record& record) {
    record.network = required_string(root, "network");
    record.container_id = required_string(root, "containerID");
    record.ifname = required_string(root, "ifname");
    record.netns = root.string_or("netns", "");
    if (auto pod = root.member("pod")) {
        record.pod.namespace_ = pod->string_or("namespace", "");
        record.pod.name = pod->string_or("name", "");
        record.pod.uid = pod->string_or("uid", "");
    }
    for (const auto& ip : root.required("ips").elements()) record.ips.push_back(ip.as_ip());
    if (auto hops = root.member("nexthops")) {
        for (const auto& hop : hops->elements()) record.nexthops.push_back(read_nexthop(hop));
    }
    record.created = root.string_or("created", "");
}

}  // namespace

NewerRecordError::NewerRecordError(int version, const JsonError& problem)
    : JsonError(problem.path(), fmt::format("{} (a record of version {}, newer than this build's {}: left in place)",
                                            problem.problem(), version, k_record_version)),
      version_(version) {}

Record record_from_json(const json::value& doc) {
    const JsonReader root(doc);
    root.as_object();
    Record record;
    record.version = static_cast<int>(root.required("version").as_int(1, 1'000'000));
    if (record.version <= k_record_version) {
        read_fields(root, record);
        return record;
    }
    try {
        read_fields(root, record);
    } catch (const JsonError& e) {
        throw NewerRecordError(record.version, e);
    }
    return record;
}

Record parse_record(std::string_view text, std::string_view source) {
    // The document lives only while it is converted: a stack arena spares the allocator
    // (serve parses 10 000 records at start; a record is a few hundred bytes).
    unsigned char arena_buffer[4096];
    json::monotonic_resource arena(arena_buffer, sizeof arena_buffer);
    const json::value doc = parse_json(text, source, &arena);
    return record_from_json(doc);
}

}  // namespace anycast::common
