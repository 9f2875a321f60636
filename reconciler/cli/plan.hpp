// `plan`: what a pass would do, as exact text or JSON (docs/architecture.md section 2). Pure: the caller
// reads records, readiness, the kernel and the links; this builds and renders the result.
#pragma once

#include "common/netlink/nexthop.hpp"
#include "common/netlink/route.hpp"
#include "common/config/node_config.hpp"
#include "common/store/record.hpp"
#include "reconciler/pipeline/link_table.hpp"
#include "reconciler/pipeline/resolve.hpp"
#include "reconciler/pipeline/desired_diff.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace anycast::reconciler {

struct PlanInputs {
    const common::NodeConfig& config;
    const std::vector<common::Record>& records;
    const ReadinessSnapshot& pods;
    std::string readiness;  // how pod states were learnt, e.g. "file /run/pods.json"
    // The kernel's routes of ours; empty with `kernel_unreadable` saying why when it could
    // not be read (no privileges): the plan then diffs against an empty table.
    const std::vector<common::netlink::Route>& kernel;
    std::optional<std::string> kernel_unreadable;
    const LinkTable& links;
    // The namespace's nexthop objects (resilient mode's groups); empty when unreadable.
    common::netlink::NexthopTable nexthops = {};
};

struct Plan {
    std::string node;
    common::RouteSettings routes;
    std::string readiness;
    std::size_t records = 0;
    std::size_t eligible_records = 0;
    std::optional<std::string> kernel_unreadable;
    std::vector<DesiredRoute> desired;
    std::vector<std::string> kernel;  // route texts
    std::vector<std::string> replace;
    std::vector<std::string> remove;
    std::vector<Skipped> skipped;  // resolve's, then diff's
    // The BIRD include it would write (bird.enabled), assuming every change succeeds.
    std::optional<std::string> bird_path;
    std::string bird_fragment;
};

Plan make_plan(const PlanInputs& inputs);

std::string render_plan_text(const Plan& plan);
boost::json::value plan_to_json(const Plan& plan);

}  // namespace anycast::reconciler
