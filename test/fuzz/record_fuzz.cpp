// Fuzz target record: a record file's text (common/store/record_json, docs/architecture.md
// section 5), as serve and the CNI read what is on disk. Expected: JsonError naming the field
// (NewerRecordError, one of them, for a newer version's record this build cannot read).
// A record that reads must survive being written and read back unchanged: the store writes what
// it read when it quarantines or rewrites, and serve compares records.
#include "common/json_reader.hpp"
#include "common/store/record_json.hpp"
#include "test/fuzz/fuzz_support.hpp"

namespace {

using namespace anycast;
using anycast::fuzz::require;

bool same(const common::Record& a, const common::Record& b) {
    return a.version == b.version && a.network == b.network && a.container_id == b.container_id &&
           a.ifname == b.ifname && a.netns == b.netns && a.pod == b.pod && a.ips == b.ips && a.nexthops == b.nexthops &&
           a.created == b.created;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    common::Record record;
    try {
        record = common::parse_record(fuzz::as_text(data, size), "fuzz.json");
    } catch (const common::JsonError&) {
        return 0;
    }
    // A newer version is read by the fields this build knows (record_json.hpp).
    require(record.version >= common::k_record_version, "a parsed record has a version this build reads");
    require(!record.network.empty() && !record.container_id.empty() && !record.ifname.empty(),
            "a parsed record has its name parts");
    for (const auto& hop : record.nexthops) {
        require(hop.via.family() == hop.family && !hop.host_iface.empty(), "a parsed next hop is consistent");
    }
    // An address is read from its whole text: none that reads holds a NUL ("10.0.0.1\u0000x").
    // (It parsed as a record, so it parses as JSON.)
    const boost::json::value doc = common::parse_json(fuzz::as_text(data, size), "fuzz.json");
    for (const auto& ip : doc.at("ips").as_array()) {
        require(ip.as_string().find('\0') == boost::json::string::npos, "an IP address text with a NUL is refused");
    }
    // Not caught: a record we accepted and wrote must read back.
    const common::Record again = common::parse_record(common::serialize_record(record), "round trip");
    require(same(record, again), "a record reads back as written");
    return 0;
}
