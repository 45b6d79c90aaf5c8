#include "emulator/core/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace emu::metrics {
namespace {

TEST(HistogramTest, ObservationsFallInTheFirstBucketAtOrAboveThem) {
  Histogram h({0.1, 1, 10});
  h.observe(0.05);
  h.observe(0.1);  // le="0.1" includes 0.1
  h.observe(0.5);
  h.observe(11);
  EXPECT_EQ(h.counts(), (std::vector<std::uint64_t>{2, 1, 0, 1}));
  EXPECT_EQ(h.count(), 4u);
  EXPECT_NEAR(h.sum(), 11.65, 1e-12);
  h.observe(std::nan(""));  // not a duration: ignored
  EXPECT_EQ(h.count(), 4u);
}

TEST(HistogramTest, BoundsMustIncrease) {
  EXPECT_THROW((Histogram({1, 0.5})), std::invalid_argument);
  EXPECT_THROW((Histogram({1, 1})), std::invalid_argument);
}

TEST(TextWriterTest, FamiliesHaveHelpAndTypeAndSamplesFollow) {
  TextWriter w;
  w.family("ecs_emulator_things_total", Type::Counter, "Things.\nSecond line \\ here.");
  w.sample("ecs_emulator_things_total", {}, std::uint64_t{3});
  w.sample("ecs_emulator_things_total", {{"kind", "a\"b"}, {"path", "c\\d\ne"}}, std::uint64_t{1});
  w.family("ecs_emulator_level", Type::Gauge, "A level.");
  w.sample("ecs_emulator_level", {}, 0.25);
  EXPECT_EQ(w.text(),
            "# HELP ecs_emulator_things_total Things.\\nSecond line \\\\ here.\n"
            "# TYPE ecs_emulator_things_total counter\n"
            "ecs_emulator_things_total 3\n"
            "ecs_emulator_things_total{kind=\"a\\\"b\",path=\"c\\\\d\\ne\"} 1\n"
            "# HELP ecs_emulator_level A level.\n"
            "# TYPE ecs_emulator_level gauge\n"
            "ecs_emulator_level 0.25\n");
}

TEST(TextWriterTest, HistogramsAreCumulativeUpToInfThenSumAndCount) {
  Histogram h({0.005, 0.5});
  h.observe(0.00390625);  // 2^-8: sums exactly
  h.observe(0.25);
  h.observe(3);
  TextWriter w;
  w.family("ecs_emulator_x_seconds", Type::Histogram, "X.");
  w.histogram("ecs_emulator_x_seconds", {{"type", "http"}}, h);
  EXPECT_EQ(w.text(),
            "# HELP ecs_emulator_x_seconds X.\n"
            "# TYPE ecs_emulator_x_seconds histogram\n"
            "ecs_emulator_x_seconds_bucket{type=\"http\",le=\"0.005\"} 1\n"
            "ecs_emulator_x_seconds_bucket{type=\"http\",le=\"0.5\"} 2\n"
            "ecs_emulator_x_seconds_bucket{type=\"http\",le=\"+Inf\"} 3\n"
            "ecs_emulator_x_seconds_sum{type=\"http\"} 3.25390625\n"
            "ecs_emulator_x_seconds_count{type=\"http\"} 3\n");
}

TEST(TextWriterTest, UnlabelledHistogramsGetOnlyTheLeLabel) {
  Histogram h({1});
  TextWriter w;
  w.histogram("ecs_emulator_y_seconds", {}, h);
  EXPECT_EQ(w.text(),
            "ecs_emulator_y_seconds_bucket{le=\"1\"} 0\n"
            "ecs_emulator_y_seconds_bucket{le=\"+Inf\"} 0\n"
            "ecs_emulator_y_seconds_sum 0\n"
            "ecs_emulator_y_seconds_count 0\n");
}

TEST(FormatValueTest, ShortestRoundTripAndTheSpecialValues) {
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(30), "30");
  EXPECT_EQ(format_value(1e-9), "1e-09");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

}  // namespace
}  // namespace emu::metrics
