#include "common/json_reader.hpp"

#include <fmt/format.h>

namespace anycast::common {

namespace json = boost::json;

JsonError::JsonError(std::string path, std::string problem)
    : std::runtime_error(path.empty() ? problem : path + ": " + problem),
      path_(std::move(path)),
      problem_(std::move(problem)) {}

json::value parse_json(std::string_view text, std::string_view what, json::storage_ptr storage) {
    boost::system::error_code ec;
    json::parse_options options;
    options.max_depth = 64;
    json::value value = json::parse(text, ec, std::move(storage), options);
    if (ec) throw JsonError(std::string(what), "invalid JSON: " + ec.message());
    return value;
}

namespace {

const char* kind_name(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null: return "null";
        case json::kind::bool_: return "a boolean";
        case json::kind::int64:
        case json::kind::uint64: return "an integer";
        case json::kind::double_: return "a number";
        case json::kind::string: return "a string";
        case json::kind::array: return "an array";
        case json::kind::object: return "an object";
    }
    return "unknown";
}

// Appends the path from `node` down to `target` ("a.b[2]"); false when it is not below it.
bool append_path_to(const json::value& node, const json::value* target, std::string& path) {
    if (&node == target) return true;
    const std::size_t length = path.size();
    if (const auto* object = node.if_object()) {
        for (const auto& member : *object) {
            if (!path.empty()) path += '.';
            path += member.key();
            if (append_path_to(member.value(), target, path)) return true;
            path.resize(length);
        }
    } else if (const auto* array = node.if_array()) {
        for (std::size_t i = 0; i < array->size(); ++i) {
            path += fmt::format("[{}]", i);
            if (append_path_to((*array)[i], target, path)) return true;
            path.resize(length);
        }
    }
    return false;
}

}  // namespace

JsonReader::JsonReader(const json::value& document, std::string name)
    : value_(&document),
      document_(&document),
      name_(name.empty() ? nullptr : std::make_shared<const std::string>(std::move(name))) {}

std::string JsonReader::path() const {
    std::string path = name_ ? *name_ : std::string();
    append_path_to(*document_, value_, path);
    return path;
}

std::string JsonReader::child_path(std::string_view name) const {
    std::string path = this->path();
    if (!path.empty()) path += '.';
    path += name;
    return path;
}

void JsonReader::fail(std::string_view problem) const { throw JsonError(path(), std::string(problem)); }

const json::object& JsonReader::as_object() const {
    if (!value_->is_object()) fail(fmt::format("expected an object, got {}", kind_name(*value_)));
    return value_->get_object();
}

std::optional<JsonReader> JsonReader::member(std::string_view name) const {
    const auto* found = as_object().if_contains(name);
    if (!found || found->is_null()) return std::nullopt;
    return JsonReader(*found, *this);
}

JsonReader JsonReader::required(std::string_view name) const {
    auto found = member(name);
    if (!found) throw JsonError(child_path(name), "missing");
    return *found;
}

std::vector<JsonReader> JsonReader::elements() const {
    if (!value_->is_array()) fail(fmt::format("expected an array, got {}", kind_name(*value_)));
    std::vector<JsonReader> result;
    const auto& array = value_->get_array();
    result.reserve(array.size());
    for (std::size_t i = 0; i < array.size(); ++i) {
        result.push_back(JsonReader(array[i], *this));
    }
    return result;
}

std::vector<std::pair<std::string, JsonReader>> JsonReader::members() const {
    std::vector<std::pair<std::string, JsonReader>> result;
    for (const auto& kv : as_object()) {
        result.emplace_back(std::string(kv.key()), JsonReader(kv.value(), *this));
    }
    return result;
}

std::string JsonReader::as_string() const {
    if (!value_->is_string()) fail(fmt::format("expected a string, got {}", kind_name(*value_)));
    return std::string(value_->get_string());
}

bool JsonReader::as_bool() const {
    if (!value_->is_bool()) fail(fmt::format("expected a boolean, got {}", kind_name(*value_)));
    return value_->get_bool();
}

namespace {

// A double that is a whole number int64 can hold. The range is checked before the cast:
// casting an out-of-range double (1e300, NaN) to an integer is undefined behaviour.
bool is_integral_in_int64(double value) {
    // -2^63 is exact as a double; 2^63 is the first value past INT64_MAX. NaN fails both.
    constexpr double k_min = -9223372036854775808.0;
    constexpr double k_past_max = 9223372036854775808.0;
    if (!(value >= k_min && value < k_past_max)) return false;
    return static_cast<double>(static_cast<std::int64_t>(value)) == value;
}

}  // namespace

std::int64_t JsonReader::as_int(std::int64_t min, std::int64_t max) const {
    std::int64_t result = 0;
    if (value_->is_int64()) {
        result = value_->get_int64();
    } else if (value_->is_uint64()) {
        if (value_->get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) {
            fail(fmt::format("{} is out of range [{}, {}]", value_->get_uint64(), min, max));
        }
        result = static_cast<std::int64_t>(value_->get_uint64());
    } else if (value_->is_double() && is_integral_in_int64(value_->get_double())) {
        result = static_cast<std::int64_t>(value_->get_double());
    } else {
        fail(fmt::format("expected an integer, got {}", kind_name(*value_)));
    }
    if (result < min || result > max) fail(fmt::format("{} is out of range [{}, {}]", result, min, max));
    return result;
}

IpAddress JsonReader::as_ip() const {
    const std::string text = as_string();
    auto address = IpAddress::parse(text);
    if (!address) fail(fmt::format("not an IP address: \"{}\"", text));
    return *address;
}

Prefix JsonReader::as_prefix() const {
    const std::string text = as_string();
    std::string why;
    auto prefix = Prefix::parse(text, &why);
    if (!prefix) fail(fmt::format("not an IP prefix: \"{}\": {}", text, why));
    return *prefix;
}

std::vector<std::string> JsonReader::as_string_list() const {
    std::vector<std::string> result;
    for (const auto& element : elements()) result.push_back(element.as_string());
    return result;
}

std::string JsonReader::string_or(std::string_view name, std::string fallback) const {
    auto found = member(name);
    return found ? found->as_string() : std::move(fallback);
}

bool JsonReader::bool_or(std::string_view name, bool fallback) const {
    auto found = member(name);
    return found ? found->as_bool() : fallback;
}

std::int64_t JsonReader::int_or(std::string_view name, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) const {
    auto found = member(name);
    return found ? found->as_int(min, max) : fallback;
}

}  // namespace anycast::common
