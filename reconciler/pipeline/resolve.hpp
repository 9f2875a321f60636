// resolve: records × pod readiness × policy → the routes serve wants (docs/architecture.md section 6).
// Pure: no I/O, no logging; what it skips is returned for the caller to log.
#pragma once

#include "common/config/node_config.hpp"
#include "common/store/record.hpp"
#include "reconciler/pipeline/desired_route.hpp"
#include "reconciler/pipeline/readiness_snapshot.hpp"

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace anycast::reconciler {

struct Resolved {
    std::vector<DesiredRoute> routes;  // sorted by destination, one per destination
    std::vector<Skipped> skipped;      // bad data and policy refusals (not ineligible pods)
    // Record count whose pod is eligible, for status.
    std::size_t eligible_records = 0;
};

// What resolve reads of a record. serve's index keeps only this of each record file
// (reconciler/pipeline/record_index.hpp): about half the bytes of a whole Record, and with 10 000
// records the index is most of serve's memory.
struct RouteRecord {
    std::string name;  // "<network>_<containerID>_<ifname>", the file stem: how logs name it
    common::PodRef pod;
    std::vector<common::IpAddress> ips;
    std::vector<common::NextHopRecord> nexthops;
    std::string netns;  // the pod's network namespace: serve removes records whose netns is gone
    friend bool operator==(const RouteRecord&, const RouteRecord&) = default;
};

// The record's file stem (common::RecordStore::stem): how logs name a record.
std::string record_name(const common::Record& record);
// The parts of `record` resolve reads (moved out of it), under `name`.
RouteRecord route_record(std::string name, common::Record record);

// The snapshot's pods by namespace and name, built once per pass: why a record's pod is not
// eligible ("pod unknown", "uid differs", "deleting", "not ready"), nullptr when it is.
class EligibilityIndex {
public:
    explicit EligibilityIndex(const ReadinessSnapshot& pods);
    const char* why_ineligible(const common::PodRef& record_pod) const;

private:
    const ReadinessSnapshot& pods_;
    std::map<std::pair<std::string_view, std::string_view>, const common::PodState*> by_name_;
};

// Eligible = the pod is known (or the snapshot says all_ready), its uid equals the record's
// when the record has one, it is Ready and not deleting.
bool eligible(const common::Record& record, const ReadinessSnapshot& pods);
// Why a record's pod is not eligible ("pod unknown", "uid differs", "not ready",
// "deleting"); empty when it is. For status.
std::string ineligibility(const common::Record& record, const ReadinessSnapshot& pods);

// Whether `record` has a next hop of `family` a route can use (family matches, interface named).
bool has_usable_hop(const RouteRecord& record, common::Family family);

// The part of resolve that depends on the records and the policy only, not on the pods:
// each record's IPs that policy allows and that have a next hop of their family, what was
// skipped and why, and the records by pod. serve keeps it while neither changes, so a pass
// after a readiness change costs O(the snapshot's pods + their records), not O(all records).
// Holds pointers into `records`, which must outlive it unchanged.
class PreparedRecords {
public:
    PreparedRecords(std::span<const RouteRecord* const> records, const common::Policy& policy);

    struct Entry {
        const RouteRecord* record;
        std::vector<common::IpAddress> ips;  // allowed, with a usable hop, each once
    };
    const std::vector<Entry>& entries() const { return entries_; }
    const std::vector<Skipped>& skipped() const { return skipped_; }
    // Indexes into entries() of the records naming this pod, in record order.
    std::span<const std::size_t> of_pod(std::string_view namespace_, std::string_view name) const;

private:
    std::vector<Entry> entries_;
    std::vector<Skipped> skipped_;
    // Each record's pod (namespace, name), sorted, and beside each its index into entries_:
    // built once, searched per pod of a snapshot.
    std::vector<std::pair<std::string_view, std::string_view>> pod_keys_;
    std::vector<std::size_t> pod_entries_;
};

// For every IP of every eligible record that policy allows for the record's namespace, the
// record's next hops of the IP's family. IPs outside policy are skipped (even when a record
// lists them), as are next hops with a missing interface or a mismatched family, and IPs
// with no next hop of their family.
Resolved resolve(const PreparedRecords& records, const ReadinessSnapshot& pods);
Resolved resolve(std::span<const RouteRecord* const> records, const ReadinessSnapshot& pods,
                 const common::Policy& policy);
// For one-shot callers (plan, status): records of another version are skipped and reported.
Resolved resolve(const std::vector<common::Record>& records, const ReadinessSnapshot& pods,
                 const common::Policy& policy);

}  // namespace anycast::reconciler
