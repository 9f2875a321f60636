// Record <-> JSON exactly as docs/architecture.md section 5; the on-disk contract between CNI and serve.
#pragma once

#include "common/json_reader.hpp"
#include "common/store/record.hpp"

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace anycast::common {

boost::json::value record_to_json(const Record& record);
// Compact one-line JSON text of a record (what the store writes).
std::string serialize_record(const Record& record);

// A record of a newer format version (written by a newer build) whose fields this build
// cannot read. Not corrupt: it is left in place for the build that wrote it.
class NewerRecordError : public JsonError {
public:
    NewerRecordError(int version, const JsonError& problem);
    int version() const { return version_; }

private:
    int version_;
};

// Reads a record; a wrong or missing field is a JsonError naming it ("nexthops[1].via: ...").
// Unknown fields are ignored so a newer writer does not break an older reader. A `version`
// above k_record_version is read by the fields this build knows (so a downgrade keeps
// routing the newer build's pods); when those do not read, NewerRecordError. A version
// below 1 is a JsonError like any bad field.
Record record_from_json(const boost::json::value& doc);
// Parses text; JsonError (path prefixed with `source` for syntax errors) when it is not a record.
Record parse_record(std::string_view text, std::string_view source);

}  // namespace anycast::common
