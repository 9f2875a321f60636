// A small Prometheus metrics registry: counters, gauges and fixed-bucket histograms, with
// labels, rendered in the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Pure: no I/O, no clock, no
// locks — serve's single-threaded loop owns it, the HTTP endpoint only reads it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::reconciler::metrics {

enum class Type { counter, gauge, histogram };

// Only goes up (resets with the process, as Prometheus expects of a counter).
class Counter {
public:
    // `by` must be >= 0 (std::invalid_argument otherwise: a counter never goes down).
    void inc(double by = 1.0);
    double value() const { return value_; }

private:
    double value_ = 0.0;
};

class Gauge {
public:
    void set(double value) { value_ = value; }
    void inc(double by = 1.0) { value_ += by; }
    void dec(double by = 1.0) { value_ -= by; }
    double value() const { return value_; }

private:
    double value_ = 0.0;
};

// Observations counted into fixed buckets; `bounds` are the finite upper bounds, strictly
// increasing (the +Inf bucket is implicit).
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);

    const std::vector<double>& bounds() const { return bounds_; }
    // Per bucket (not cumulative), bounds().size() + 1 entries, the last one for +Inf.
    const std::vector<std::uint64_t>& bucket_counts() const { return counts_; }
    std::uint64_t count() const { return count_; }
    double sum() const { return sum_; }

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    double sum_ = 0.0;
};

// One metric name with its HELP, TYPE and label names; one child instrument per label-value
// tuple, created on first use. Children render sorted by their label values.
class FamilyBase {
public:
    FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names);
    virtual ~FamilyBase() = default;
    FamilyBase(const FamilyBase&) = delete;
    FamilyBase& operator=(const FamilyBase&) = delete;

    const std::string& name() const { return name_; }
    Type type() const { return type_; }
    const std::vector<std::string>& label_names() const { return label_names_; }

    // Appends "# HELP", "# TYPE" and every sample line.
    void render(std::string& out) const;

protected:
    void check_label_count(const std::vector<std::string>& values) const;
    // Appends the sample lines of one child; `labels` is `k="v",…` (escaped), possibly empty.
    virtual void render_samples(std::string& out) const = 0;
    // `{labels}` or `{labels,extra}` or `{extra}` or nothing.
    static std::string braces(const std::string& labels, const std::string& extra = {});
    std::string label_text(const std::vector<std::string>& values) const;

private:
    std::string name_;
    std::string help_;
    Type type_;
    std::vector<std::string> label_names_;
};

template <typename T>
class Family final : public FamilyBase {
public:
    Family(std::string name, std::string help, Type type, std::vector<std::string> label_names, T prototype)
        : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
          prototype_(std::move(prototype)) {}

    // The child for these label values (one per label name, in order); created at zero.
    // The reference stays valid as long as the registry.
    T& with(const std::vector<std::string>& label_values);

private:
    void render_samples(std::string& out) const override;
    T prototype_;
    std::map<std::vector<std::string>, T> children_;
};

class Registry {
public:
    Registry() = default;
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Each name may be registered once; names and label names must be valid Prometheus names
    // (std::invalid_argument otherwise). The unlabelled forms return the family's one child.
    Family<Counter>& counter_family(std::string name, std::string help, std::vector<std::string> label_names);
    Family<Gauge>& gauge_family(std::string name, std::string help, std::vector<std::string> label_names);
    Family<Histogram>& histogram_family(std::string name, std::string help, std::vector<std::string> label_names,
                                        std::vector<double> bounds);
    Counter& counter(std::string name, std::string help);
    Gauge& gauge(std::string name, std::string help);
    Histogram& histogram(std::string name, std::string help, std::vector<double> bounds);

    // The whole exposition, families in registration order, ending with a newline.
    std::string render() const;

private:
    template <typename T>
    Family<T>& add(std::string name, std::string help, Type type, std::vector<std::string> label_names, T prototype);
    std::vector<std::unique_ptr<FamilyBase>> families_;
};

// A sample value as the text format spells it: shortest round-trip decimal, "+Inf", "-Inf",
// "NaN".
std::string format_value(double value);
// A label value with backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view value);

}  // namespace anycast::reconciler::metrics
