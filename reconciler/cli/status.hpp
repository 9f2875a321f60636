// `status`: serve's figures, records, eligible pods, installed routes and what is out of
// sync, as text. Pure, built on the same plan a pass would make; the figures come from the
// running serve's endpoint when it answers, otherwise from the kernel and the records.
#pragma once

#include "common/netlink/route.hpp"
#include "reconciler/cli/plan.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace anycast::reconciler {

struct Figure {
    std::string name;   // "routes installed"
    std::string value;  // "ipv4 1, ipv6 1"
};

struct StatusFigures {
    std::string source;  // one line saying where the figures come from (and why)
    std::vector<Figure> rows;
};

// serve's figures from its /metrics samples (parse_exposition's output) and its /readyz
// answer (nullopt when /readyz did not answer). `where` names the endpoint; `unix_now` dates
// the last successful pass. A series serve did not export shows as "n/a".
StatusFigures figures_from_serve(const std::string& where, const std::map<std::string, double>& samples,
                                 const std::optional<std::string>& readyz, double unix_now);

// Without a serve to ask: routes and next hops from `kernel` (our routes as read), records and
// eligible pods from the plan. `why` says why serve was not asked (or did not answer).
StatusFigures figures_from_kernel(const std::string& why, const Plan& plan,
                                  const std::vector<common::netlink::Route>& kernel);

// The figures as an aligned two-column table under their source line.
std::string render_figures(const StatusFigures& figures);

// `plan` made from the same records and pods. Out of sync = the changes a pass would make.
// The figures follow the first line.
std::string render_status_text(const Plan& plan, const std::vector<common::Record>& records,
                               const ReadinessSnapshot& pods, const StatusFigures& figures);

}  // namespace anycast::reconciler
