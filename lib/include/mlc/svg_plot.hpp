// The charts of a model card (mlc card) as inline SVG: a line chart for learning curves and a heat
// map for a confusion matrix. Each function returns one <svg> element that is valid XML on its
// own (with its xmlns, every text escaped by markup_escaped()), sized in pixels, that a browser
// renders without any CSS, script or font from elsewhere.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlc::svg {

// An axis from `lo` to `hi` (lo < hi, both multiples of `step`) with its ticks.
struct Axis {
  double lo = 0;
  double hi = 1;
  double step = 1;
  std::vector<double> ticks;
};

// The axis for `values`: their finite range widened to "nice" ticks (steps of 1, 2 or 5 times a
// power of ten, about five of them, at least `min_step`). Non-finite values and values beyond
// +-1e150 (no useful scale holds them beside others) are left out. A single value or a constant
// series gets a range around it (+-10%, or -1..1 around 0), so that scaling never divides by
// zero; no value at all gives 0..1.
Axis axis_for(const std::vector<double>& values, double min_step = 0);

// The text of a tick at `value` on an axis of `step`: as many decimals as the step needs, "0"
// rather than "-0".
std::string tick_text(double value, double step);

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y)
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  double x_min_step = 0;  // 1 for epochs: no tick between two epochs
  int width = 520;
  int height = 300;
};

// Lines with a marker at every point (a single point still shows), axes with ticks and labels, a
// legend below. A point with a non-finite coordinate (see axis_for) is skipped and breaks its
// line there. A chart with no point to draw says so in its plot area.
std::string line_chart(const LineChart& chart);

struct HeatMap {
  std::string title;
  std::vector<std::string> labels;           // the classes, for rows and columns alike
  std::vector<std::vector<int64_t>> counts;  // counts[true class][predicted class]
};

// A confusion matrix: one <rect class="cell"> per (true, predicted) pair, coloured by its share of
// the row (the true class's recall on the diagonal), its count written in it while cells are big
// enough to hold it, and a tooltip (<title>) with both names, the count and the share. Rows are
// the true classes (labels on the left), columns the predicted ones (labels below). A row of zeros
// stays white. Throws Error(internal) if counts is not labels.size() square.
std::string heat_map(const HeatMap& map);

}  // namespace mlc::svg
