#include "reconciler/metrics/metrics_registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>

namespace anycast::reconciler::metrics {

namespace {

bool valid_name(std::string_view name, bool allow_colon) {
    if (name.empty()) return false;
    const auto head_ok = [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    };
    if (!head_ok(name.front())) return false;
    return std::all_of(name.begin() + 1, name.end(), [&](char c) { return head_ok(c) || (c >= '0' && c <= '9'); });
}

std::string_view type_name(Type type) {
    switch (type) {
        case Type::counter: return "counter";
        case Type::gauge: return "gauge";
        case Type::histogram: return "histogram";
    }
    return "untyped";
}

// Backslash and newline always; the double quote only inside label values (HELP text keeps it).
std::string escape(std::string_view text, bool quotes) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quotes) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", value);
}

std::string escape_label_value(std::string_view value) { return escape(value, true); }

void Counter::inc(double by) {
    if (!(by >= 0.0)) throw std::invalid_argument(fmt::format("counter increment {} is not >= 0", by));
    value_ += by;
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (!std::isfinite(bounds_[i])) throw std::invalid_argument("histogram bucket bounds must be finite");
        if (i > 0 && !(bounds_[i - 1] < bounds_[i])) {
            throw std::invalid_argument("histogram bucket bounds must be strictly increasing");
        }
    }
}

void Histogram::observe(double value) {
    // A value equal to a bound belongs to that bucket (le = "less or equal").
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += value;
}

FamilyBase::FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
    if (!valid_name(name_, true)) throw std::invalid_argument(fmt::format("invalid metric name \"{}\"", name_));
    for (const auto& label : label_names_) {
        // "__" names are reserved for Prometheus itself; "le" is the histogram's bucket label.
        if (!valid_name(label, false) || label.starts_with("__") || (type_ == Type::histogram && label == "le")) {
            throw std::invalid_argument(fmt::format("metric {}: invalid label name \"{}\"", name_, label));
        }
    }
}

void FamilyBase::render(std::string& out) const {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, escape(help_, false), name_, type_name(type_));
    render_samples(out);
}

void FamilyBase::check_label_count(const std::vector<std::string>& values) const {
    if (values.size() != label_names_.size()) {
        throw std::invalid_argument(
            fmt::format("metric {}: {} label values for {} label names", name_, values.size(), label_names_.size()));
    }
}

std::string FamilyBase::braces(const std::string& labels, const std::string& extra) {
    if (labels.empty() && extra.empty()) return {};
    if (labels.empty()) return "{" + extra + "}";
    if (extra.empty()) return "{" + labels + "}";
    return "{" + labels + "," + extra + "}";
}

std::string FamilyBase::label_text(const std::vector<std::string>& values) const {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ',';
        out += fmt::format("{}=\"{}\"", label_names_[i], escape_label_value(values[i]));
    }
    return out;
}

template <typename T>
T& Family<T>::with(const std::vector<std::string>& label_values) {
    check_label_count(label_values);
    return children_.try_emplace(label_values, prototype_).first->second;
}

template <typename T>
void Family<T>::render_samples(std::string& out) const {
    for (const auto& [values, child] : children_) {
        const std::string labels = label_text(values);
        if constexpr (std::is_same_v<T, Histogram>) {
            // Buckets are cumulative in the format: each counts everything up to its bound.
            std::uint64_t cumulative = 0;
            const auto& counts = child.bucket_counts();
            for (std::size_t i = 0; i < counts.size(); ++i) {
                cumulative += counts[i];
                const std::string le = i < child.bounds().size() ? format_value(child.bounds()[i]) : "+Inf";
                out += fmt::format("{}_bucket{} {}\n", name(), braces(labels, "le=\"" + le + "\""), cumulative);
            }
            out += fmt::format("{}_sum{} {}\n", name(), braces(labels), format_value(child.sum()));
            out += fmt::format("{}_count{} {}\n", name(), braces(labels), child.count());
        } else {
            out += fmt::format("{}{} {}\n", name(), braces(labels), format_value(child.value()));
        }
    }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <typename T>
Family<T>& Registry::add(std::string name, std::string help, Type type, std::vector<std::string> label_names,
                         T prototype) {
    for (const auto& family : families_) {
        if (family->name() == name) throw std::invalid_argument(fmt::format("metric {} registered twice", name));
    }
    auto family = std::make_unique<Family<T>>(std::move(name), std::move(help), type, std::move(label_names),
                                              std::move(prototype));
    auto& ref = *family;
    families_.push_back(std::move(family));
    return ref;
}

Family<Counter>& Registry::counter_family(std::string name, std::string help, std::vector<std::string> label_names) {
    return add(std::move(name), std::move(help), Type::counter, std::move(label_names), Counter{});
}

Family<Gauge>& Registry::gauge_family(std::string name, std::string help, std::vector<std::string> label_names) {
    return add(std::move(name), std::move(help), Type::gauge, std::move(label_names), Gauge{});
}

Family<Histogram>& Registry::histogram_family(std::string name, std::string help, std::vector<std::string> label_names,
                                              std::vector<double> bounds) {
    return add(std::move(name), std::move(help), Type::histogram, std::move(label_names), Histogram(std::move(bounds)));
}

Counter& Registry::counter(std::string name, std::string help) {
    return counter_family(std::move(name), std::move(help), {}).with({});
}

Gauge& Registry::gauge(std::string name, std::string help) {
    return gauge_family(std::move(name), std::move(help), {}).with({});
}

Histogram& Registry::histogram(std::string name, std::string help, std::vector<double> bounds) {
    return histogram_family(std::move(name), std::move(help), {}, std::move(bounds)).with({});
}

std::string Registry::render() const {
    std::string out;
    for (const auto& family : families_) family->render(out);
    return out;
}

}  // namespace anycast::reconciler::metrics
