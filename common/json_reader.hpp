// Typed reads from Boost.JSON values whose errors name the field path,
// e.g. "policy.allowedPrefixes[2]: not an IP prefix".
#pragma once

#include "common/ip_address.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::common {

class JsonError : public std::runtime_error {
public:
    JsonError(std::string path, std::string problem);
    const std::string& path() const { return path_; }
    const std::string& problem() const { return problem_; }

private:
    std::string path_;
    std::string problem_;
};

// Parses text into a JSON value; JsonError (path = `what`) on a syntax error. `storage`:
// where the value's memory comes from (default: the heap).
boost::json::value parse_json(std::string_view text, std::string_view what, boost::json::storage_ptr storage = {});

// A view of one JSON value and where it sits in its document. Cheap to copy: the path a
// message names (e.g. "nexthops[0].via") is worked out only when something fails, by finding
// the value in its document, so reading a valid document builds no strings (serve reads
// 10 000 records at start).
class JsonReader {
public:
    // `document`: the whole value readers walk down from; `name`: what errors call it (e.g.
    // "runtimeConfig.anycastIPs"; empty: paths start at its members).
    JsonReader(const boost::json::value& document, std::string name = {});

    // Where this value sits, e.g. "policy.allowedPrefixes[2]" ("" for the document itself).
    std::string path() const;
    const boost::json::value& value() const { return *value_; }
    bool is_null() const { return value_->is_null(); }

    // Object members. `member` is absent → nullopt; `required` → JsonError "missing".
    // A member whose value is null counts as absent.
    std::optional<JsonReader> member(std::string_view name) const;
    JsonReader required(std::string_view name) const;
    bool has(std::string_view name) const { return member(name).has_value(); }

    // Array elements with their index in the path.
    std::vector<JsonReader> elements() const;
    // Object members with their names in the path, in document order.
    std::vector<std::pair<std::string, JsonReader>> members() const;

    std::string as_string() const;
    bool as_bool() const;
    std::int64_t as_int(std::int64_t min, std::int64_t max) const;
    IpAddress as_ip() const;
    Prefix as_prefix() const;
    std::vector<std::string> as_string_list() const;
    const boost::json::object& as_object() const;

    // Throws JsonError at this path.
    [[noreturn]] void fail(std::string_view problem) const;

    // Helpers for optional fields with defaults.
    std::string string_or(std::string_view name, std::string fallback) const;
    bool bool_or(std::string_view name, bool fallback) const;
    std::int64_t int_or(std::string_view name, std::int64_t fallback, std::int64_t min, std::int64_t max) const;

private:
    JsonReader(const boost::json::value& value, const JsonReader& parent)
        : value_(&value), document_(parent.document_), name_(parent.name_) {}
    std::string child_path(std::string_view name) const;

    const boost::json::value* value_;
    const boost::json::value* document_;
    std::shared_ptr<const std::string> name_;  // null when empty
};

}  // namespace anycast::common
