// Record <-> JSON exactly as docs/architecture.md section 5; the on-disk contract between CNI and serve.
#pragma once

#include "common/store/record.hpp"

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace anycast::common {

boost::json::value record_to_json(const Record& record);
// Compact one-line JSON text of a record (what the store writes).
std::string serialize_record(const Record& record);

// Reads a record; a wrong or missing field is a JsonError naming it ("nexthops[1].via: ...").
// Unknown fields are ignored so a newer writer does not break an older reader; a `version`
// other than k_record_version is refused.
Record record_from_json(const boost::json::value& doc);
// Parses text; JsonError (path prefixed with `source` for syntax errors) when it is not a record.
Record parse_record(std::string_view text, std::string_view source);

}  // namespace anycast::common
